#!/usr/bin/env python3
"""Compares `doge tokenize` / `doge detokenize` with HF `tokenizers` on random strings.

    pip install tokenizers==0.23.3
    swift build -c release --scratch-path .build-tok-rel
    python3 scripts/tokenizer_fixtures/fuzz_compare.py llama3 [SEED] [COUNT]

The first argument names a fixture folder under Tests/DogeTokenizersTests/Fixtures. Strings
mix whitespace, contractions, Latin/Cyrillic/Arabic/CJK, combining marks, emoji and the
fixtures' special and added tokens. Prints each mismatch (at most three) and a count.
"""
import os
import random
import subprocess
import sys
import tempfile

from tokenizers import Tokenizer

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(REPO, "Tests/DogeTokenizersTests/Fixtures")
DOGE = os.path.join(REPO, ".build-tok-rel/release/doge")

POOL = (
    list(" \t\n\r  '\"sStTdDmMlLrRvVeE")
    + ["'s", "'S", "'re", "'LL", " ", "  ", "\u00a0", "\u3000", "\u2028", "\u0085"]
    + [chr(c) for c in list(range(0x21, 0x7F)) + list(range(0xA0, 0x250)) + list(range(0x300, 0x370))
       + list(range(0x400, 0x450)) + list(range(0x3040, 0x30FF)) + list(range(0x4E00, 0x4E40))
       + list(range(0x600, 0x660))]
    + ["😀", "👍🏽", "👨‍👩‍👧", "\u200d", "\ufe0f", "١٢٣", "²", "½", "Ⅷ", "ﬁ", "<s>", "</s>", "<|eot_id|>",
       "<|begin_of_text|>", "[MASK]", "<eot>", "[TAG]", "KEEP", "mid", "<MID>", " spaced", "hello world", "\x00", "\x1f"]
)


def main():
    name = sys.argv[1]
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    random.seed(seed)
    folder = os.path.join(FIXTURES, name)
    hf = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    bad = 0
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", delete=False) as handle:
        path = handle.name
    for _ in range(count):
        text = "".join(random.choice(POOL) for _ in range(random.randint(0, 40)))
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        ours = subprocess.run([DOGE, "tokenize", "--tokenizer", folder, "--file", path], capture_output=True, text=True)
        ids = hf.encode(text).ids
        got = list(map(int, ours.stdout.split()))
        if got != ids:
            bad += 1
            if bad <= 3:
                print("encode mismatch", repr(text), ids, got)
            continue
        decoded = subprocess.run([DOGE, "detokenize", "--tokenizer", folder, "--ids", ",".join(map(str, ids))],
                                 capture_output=True).stdout.decode("utf-8")
        if decoded != hf.decode(ids, skip_special_tokens=False):
            bad += 1
            if bad <= 3:
                print("decode mismatch", repr(text), repr(decoded))
    os.unlink(path)
    print(f"{name}: {bad} mismatches in {count} strings")


if __name__ == "__main__":
    main()
