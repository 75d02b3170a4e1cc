#!/usr/bin/env bash
# Builds the libFuzzer harnesses (scripts/fuzz/Harnesses) into .build/fuzz/doge-fuzz with the
# Swift toolchain's -sanitize=fuzzer,address: every module a harness reaches (DogeJSON, DogeJinja,
# DogeTokenizers, DogeKernels/CDogeKernels, DogeModel, Yams, DogeTraining, HTTPTypes, DogeGeneration and
# the Hummingbird-free request decoding of DogeServer) is compiled here with
# coverage and AddressSanitizer, in dependency order, one whole-module object each. Package.swift
# is untouched. Rebuilds only when a source is newer than the binary.
#
#   scripts/fuzz/build.sh        (needs `swift package resolve` done once, for Yams' sources)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=$PWD/.build/fuzz
BIN=$OUT/doge-fuzz
mkdir -p "$OUT/modulemaps/CDogeKernels"
YAMS=.build/checkouts/Yams/Sources
HTTPTYPES=.build/checkouts/swift-http-types/Sources/HTTPTypes
[[ -d $YAMS && -d $HTTPTYPES ]] || swift package resolve >&2
SERVER_DECODING=(Sources/DogeServer/APIError.swift Sources/DogeServer/Requests.swift Sources/DogeServer/RequestDecoding.swift)
if [[ -x $BIN ]] && [[ -z $(find Sources scripts/fuzz/Harnesses -newer "$BIN" -name '*.swift' -o -newer "$BIN" -name '*.c' -o -newer "$BIN" -name '*.h' | head -1) ]]; then
    exit 0
fi
SAN=(-sanitize=fuzzer,address)
SWIFTC=(swiftc -O -wmo -parse-as-library -g "${SAN[@]}" -I "$OUT" -I "$OUT/modulemaps/CDogeKernels"
        -D SWIFT_PACKAGE -Xcc -I"$PWD/Sources/CDogeKernels/include" -Xcc -I"$PWD/$YAMS/CYaml/include" -I "$YAMS/CYaml/include")
CFLAGS=(-O2 -g -fsanitize=address,fuzzer-no-link -fPIC)

DIRTY=0  # once a module is rebuilt, every later one (they are built in dependency order) is too
KERNELS_CHANGED=0  # CDogeKernels rebuilt: DogeKernels and every later module are too (not DogeJSON, Yams)
say() { printf 'fuzz build: %s\n' "$*" >&2; }
c_objects() {  # NAME SRCDIR [flags]: compiles every .c under SRCDIR
    local name=$1 dir=$2; shift 2
    for c in $(find "$dir" -name '*.c'); do
        clang "${CFLAGS[@]}" "$@" -c "$c" -o "$OUT/$name-$(basename "$c" .c).o"
    done
}
swift_module() {  # NAME SOURCES...: skipped when its object is newer than its sources
    local name=$1; shift
    [[ $name == DogeKernels ]] && (( KERNELS_CHANGED )) && DIRTY=1
    if (( ! DIRTY )) && [[ -f $OUT/$name.o ]] && [[ -z $(find "$@" -newer "$OUT/$name.o" | head -1) ]]; then
        return
    fi
    DIRTY=1
    say "$name"
    "${SWIFTC[@]}" ${EXTRA_FLAGS:-} -module-name "$name" -emit-module -emit-module-path "$OUT/$name.swiftmodule" -c "$@" -o "$OUT/$name.o.tmp"
    mv "$OUT/$name.o.tmp" "$OUT/$name.o"
}

if [[ ! -f $OUT/CYaml-api.o ]] || [[ -n $(find Sources/CDogeKernels -newer "$OUT/CYaml-api.o" -name "*.[ch]" | head -1) ]]; then
say CDogeKernels
cat > "$OUT/modulemaps/CDogeKernels/module.modulemap" <<MAP
module CDogeKernels { header "$PWD/Sources/CDogeKernels/include/CDogeKernels.h" export * }
MAP
c_objects CDogeKernels Sources/CDogeKernels -ISources/CDogeKernels/include
say CYaml
c_objects CYaml "$YAMS/CYaml/src" -I"$YAMS/CYaml/include" -DYAML_DECLARE_EXPORT
KERNELS_CHANGED=1
fi
# Dependency order, slowest-changing first (a change rebuilds its module and every later one).
swift_module DogeJSON Sources/DogeJSON/*.swift
swift_module Yams "$YAMS"/Yams/*.swift
swift_module DogeKernels Sources/DogeKernels/*.swift
swift_module DogeModel $(find Sources/DogeModel -name '*.swift')
swift_module DogeJinja Sources/DogeJinja/*.swift
swift_module DogeTokenizers $(find Sources/DogeTokenizers -name '*.swift')
swift_module DogeTraining Sources/DogeTraining/*.swift
swift_module HTTPTypes "$HTTPTYPES"/*.swift
swift_module DogeGeneration Sources/DogeGeneration/*.swift
# Only the server's request decoding (no Hummingbird): the files that import neither it nor NIO.
EXTRA_FLAGS=-enable-testing swift_module DogeServer "${SERVER_DECODING[@]}"
say "harnesses"
(cd "$OUT" && "${SWIFTC[@]}" -module-name DogeFuzz "$OLDPWD"/scripts/fuzz/Harnesses/*.swift ./*.o -o "$BIN.tmp")
mv "$BIN.tmp" "$BIN"
say "built $BIN"
