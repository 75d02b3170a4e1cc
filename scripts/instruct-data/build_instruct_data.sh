#!/usr/bin/env bash
# Builds doge-tiny-instruct's instruction data (issue 17, item 2) with no network beyond Debian's
# archive: WordNet 3.0 (wordnet-base, apt-get download, unpacked, never installed) and corpus v2
# (scripts/corpus/build_corpus.sh --passages, which it builds into corpus-v2/ when missing).
#
# usage: scripts/instruct-data/build_instruct_data.sh [OUTDIR] [--seed N] [--scale F]
#        (from anywhere; OUTDIR defaults to instruct-data/ in the repository root, kept out of git)
#
# OUTDIR/sft/{train,heldout}.jsonl   messages rows (SFTTrainer / doge sft)
# OUTDIR/dpo/{train,heldout}.jsonl   prompt / chosen / rejected rows (DPOTrainer / doge dpo)
# OUTDIR/grpo/{train,heldout}.jsonl  prompt / solution rows (GRPOTrainer / doge grpo, accuracy reward)
# OUTDIR/eval/<task>/test.jsonl      held-out documents for Models/doge-tiny-instruct/tasks/*.yaml
# OUTDIR/MANIFEST.tsv                rows and sha256 per file, rows per kind, sources and licences
#
# Deterministic (seed 233 by default): the same packages give byte-identical files.
# env: CORPUS_CACHE=DIR keeps the Debian downloads (shared with build_corpus.sh).
set -euo pipefail
if [ "${1:-}" = -h ] || [ "${1:-}" = --help ]; then sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=instruct-data
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then OUT=$1; shift; fi
OUT=$(realpath -m "$OUT")

[ -s "$ROOT/corpus-v2/train.jsonl" ] || "$ROOT/scripts/corpus/build_corpus.sh" --passages "$ROOT/corpus-v2"

if [ -n "${CORPUS_CACHE:-}" ]; then
  CACHE=$(realpath -m "$CORPUS_CACHE")
else
  CACHE=$(mktemp -d "${TMPDIR:-/tmp}/doge-instruct.XXXXXX")
  trap 'rm -rf "$CACHE"' EXIT
fi
mkdir -p "$CACHE/downloads" "$CACHE/packages"
if ! compgen -G "$CACHE/downloads/wordnet-base_*.deb" >/dev/null; then
  (cd "$CACHE/downloads" && apt-get -q download wordnet-base)
fi
deb=$(ls "$CACHE/downloads"/wordnet-base_*.deb | head -n1)
rm -rf "$CACHE/packages/wordnet-base" && dpkg-deb -x "$deb" "$CACHE/packages/wordnet-base"
echo "== wordnet-base $(dpkg-deb -f "$deb" Version); writing $OUT"
python3 "$ROOT/scripts/instruct-data/build_instruct_data.py" "$CACHE/packages/wordnet-base/usr/share/wordnet" \
  "$ROOT/corpus-v2" "$OUT" "$@"
