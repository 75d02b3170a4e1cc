#!/usr/bin/env bash
# The five chat transcripts of Models/doge-tiny-instruct/README.md: each conversation is one
# `doge chat` session with the model's defaults (generation_config.json, seed 0), user lines piped
# in; prints them as the model card quotes them. Reproducible on the same CPU kind (AVX2 and
# AVX-512 kernels round a few logits differently).
#
# usage: scripts/doge-tiny-instruct/transcripts.sh [MODEL_DIR]   (default Models/doge-tiny-instruct)
# env:   DOGE=path to the doge binary (default: the release build)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
if [ "${1:-}" = -h ] || [ "${1:-}" = --help ]; then sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
MODEL=${1:-Models/doge-tiny-instruct}
DOGE=${DOGE:-$(swift build -c release --show-bin-path)/doge}

CONVERSATIONS=(
  $'What does "garden" mean?\nCan you use it in a sentence?'
  $'Who is the author of Pride and Prejudice?\nWhat is the opposite of "happy"? Answer with one word.'
  $'What is 12 plus 7?\nSpell "window" letter by letter.'
  $'How many letters are in the word "mother"? Answer with the number only.\nWhat is the first letter of "river"? Answer in capital letters.'
  $'Hello! Who are you?\nTell me a story about a king.'
)
for conversation in "${CONVERSATIONS[@]}"; do
  # doge chat separates replies by an empty line when its output is a pipe
  mapfile -t users <<< "$conversation"
  replies=$(printf '%s\n' "$conversation" | "$DOGE" chat --model "$MODEL" 2>/dev/null)
  python3 - "$replies" "${users[@]}" <<'PY'
import sys
replies = sys.argv[1].split("\n\n")
users = sys.argv[2:]
for i, user in enumerate(users):
    reply = replies[i].strip() if i < len(replies) else ""
    print("> **User:** " + user + "  ")
    print("> **doge-tiny-instruct:** " + reply.replace("\n", "  \n> "))
    if i + 1 < len(users):
        print(">")
print()
PY
done
