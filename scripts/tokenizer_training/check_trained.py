#!/usr/bin/env python3
"""Proves `doge tokenizer train` learns what Hugging Face `tokenizers` learns.

Trains with swift-doge and with HF on the same input and settings, then compares:
  * the vocabularies (token -> id) and the merge lists, entry by entry;
  * the ids both tokenizers give for a few hundred strings (lines of the input plus tricky
    strings), encoding ours with HF (loading our tokenizer.json) and with `doge tokenize`;
  * the chat template of our tokenizer_config.json, rendered by transformers and `doge template`.

Requirements: tokenizers==0.23.3, transformers==5.23.0 (Python 3.11).

Usage:
    python3 scripts/tokenizer_training/check_trained.py --vocab-size 500 INPUT...
    python3 scripts/tokenizer_training/check_trained.py --vocab-size 2000 --from BASE_DIR INPUT...
Options:
    --doge PATH      the doge binary (default: .build-toktrain/release/doge, then .build/release/doge)
    --strings N      how many input lines to encode (default 300)
Default (no --from): HF gets the Doge/Llama-3 pipeline built independently here with the
`tokenizers` API and BpeTrainer(vocab_size, special_tokens, initial_alphabet=ByteLevel.alphabet()).
With --from: HF's side is transformers' AutoTokenizer.from_pretrained(BASE).train_new_from_iterator.
Input files ending in .jsonl/.ndjson give their "text" fields; other files give their lines
with line endings (what `Tokenizer.train(files)` reads). Exit status 0 only if everything matches.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, processors, trainers
from tokenizers import pre_tokenizers as pre

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>"]
TRICKY = [
    "", " ", "\n", "\n\n\n", "Hello world", " Hello", "I'm sure you're right, they'll see.",
    "HELLO'S WORLD'LL", "123456789 12 1", "Ünïcödé naïve café — “quotes” …", "日本語のテキスト", "한국어 텍스트",
    "emoji 🐶🐕‍🦺 done", "tabs\tand\r\nCRLF\r\n", "   leading and trailing   ", "<|begin_of_text|>inside",
    "a<|end_of_text|>b", "<|start_header_id|>user<|end_header_id|>\nHi<|end_of_text|>\n\n",
    "e\u0301 vs \u00e9", "x" * 300, "the the the the", "'''s ''t", "zero\u200bwidth", "\u0000nul",
]


def read_texts(paths):
    texts = []
    for path in paths:
        if path.endswith((".jsonl", ".ndjson")):
            with open(path, encoding="utf-8") as f:
                for line in f:
                    if line.strip():
                        texts.append(json.loads(line)["text"])
        else:
            with open(path, encoding="utf-8", newline="") as f:
                data = f.read()
            start = 0
            while start < len(data):
                end = data.find("\n", start)
                end = len(data) if end < 0 else end + 1
                texts.append(data[start:end])
                start = end
    return texts


def hf_train_doge(paths, texts, vocab_size):
    tok = Tokenizer(models.BPE(ignore_merges=True))
    tok.pre_tokenizer = pre.Sequence([
        pre.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
        pre.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, show_progress=False, initial_alphabet=pre.ByteLevel.alphabet(),
        special_tokens=[AddedToken(s, special=True, normalized=False) for s in SPECIALS])
    if all(not p.endswith((".jsonl", ".ndjson")) for p in paths):
        tok.train(paths, trainer)           # HF reads the files itself: checks our line semantics too
    else:
        tok.train_from_iterator(texts, trainer)
    bos = tok.token_to_id(SPECIALS[0])
    tok.post_processor = processors.TemplateProcessing(
        single=f"{SPECIALS[0]} $A", pair=f"{SPECIALS[0]} $A {SPECIALS[0]} $B:1", special_tokens=[(SPECIALS[0], bos)])
    return tok


def hf_train_from(base, texts, vocab_size):
    from transformers import AutoTokenizer
    old = AutoTokenizer.from_pretrained(base)
    new = old.train_new_from_iterator(iter([texts]), vocab_size)
    return new._tokenizer


def model_of(tok):
    m = json.loads(tok.to_str())["model"]
    merges = [tuple(x) if isinstance(x, list) else tuple(x.split(" ")) for x in m["merges"]]
    return m["vocab"], merges


def compare_models(ours, theirs):
    ov, om = model_of(ours)
    tv, tm = model_of(theirs)
    if is_decorated(ours):
        # HF numbers the "##x" / "x</w>" symbols in hash-map order (ids and tie-breaks vary from
        # run to run), so only the token set and the merge set can be compared.
        same = set(ov) == set(tv) and sorted(om) == sorted(tm)
        print(f"decorated symbols: token sets {'identical' if set(ov) == set(tv) else 'DIFFER'}, "
              f"merge sets {'identical' if sorted(om) == sorted(tm) else 'DIFFER'} ({len(ov)} tokens, {len(om)} merges)")
        return same
    ok = True
    if ov != tv:
        ok = False
        only_o = sorted(set(ov) - set(tv))[:10]
        only_t = sorted(set(tv) - set(ov))[:10]
        diff_id = [(k, ov[k], tv[k]) for k in ov if k in tv and ov[k] != tv[k]][:10]
        print(f"VOCAB DIFFERS: ours {len(ov)}, HF {len(tv)}; only ours {only_o}; only HF {only_t}; ids {diff_id}")
    else:
        print(f"vocab identical: {len(ov)} tokens")
    if om != tm:
        ok = False
        first = next((i for i, (a, b) in enumerate(zip(om, tm)) if a != b), min(len(om), len(tm)))
        print(f"MERGES DIFFER at rank {first}: ours {om[first:first + 3]} HF {tm[first:first + 3]} "
              f"(ours {len(om)}, HF {len(tm)})")
    else:
        print(f"merges identical: {len(om)} merges")
    return ok


def is_decorated(tok):
    m = json.loads(tok.to_str())["model"]
    return bool(m.get("continuing_subword_prefix") or m.get("end_of_word_suffix"))


def doge_ids(doge, tokenizer_dir, text):
    out = subprocess.run([doge, "tokenize", "--tokenizer", tokenizer_dir, "--text", text, "--json"],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("inputs", nargs="+")
    ap.add_argument("--vocab-size", type=int, required=True)
    ap.add_argument("--from", dest="base")
    ap.add_argument("--doge")
    ap.add_argument("--strings", type=int, default=300)
    args = ap.parse_args()
    doge = args.doge or next((p for p in (os.path.join(REPO, ".build-toktrain/release/doge"),
                                           os.path.join(REPO, ".build/release/doge")) if os.path.exists(p)), None)
    if not doge:
        sys.exit("no doge binary: build it (swift build -c release) or pass --doge")
    texts = read_texts(args.inputs)
    out_dir = tempfile.mkdtemp(prefix="doge-toktrain-")
    cmd = [doge, "tokenizer", "train", "--vocab-size", str(args.vocab_size), "--output", out_dir, "--quiet", "--input", *args.inputs]
    if args.base:
        cmd += ["--from", args.base]
    t0 = time.time()
    subprocess.run(cmd, check=True)
    t_ours = time.time() - t0
    t0 = time.time()
    theirs = hf_train_from(args.base, texts, args.vocab_size) if args.base else hf_train_doge(args.inputs, texts, args.vocab_size)
    t_hf = time.time() - t0
    print(f"trained: swift-doge {t_ours:.2f} s, HF tokenizers {t_hf:.2f} s ({sum(map(len, texts)) / 1e6:.2f} M chars)")
    ours = Tokenizer.from_file(os.path.join(out_dir, "tokenizer.json"))
    ok = compare_models(ours, theirs)

    rng = random.Random(0)
    sample = rng.sample(texts, min(args.strings, len(texts))) + TRICKY
    mismatches = 0
    for text in sample:
        for special in (True, False):
            a = ours.encode(text, add_special_tokens=special)
            b = theirs.encode(text, add_special_tokens=special)
            a, b = (a.tokens, b.tokens) if is_decorated(ours) else (a.ids, b.ids)
            if a != b:
                mismatches += 1
                if mismatches <= 5:
                    print(f"ENCODE DIFFERS for {text[:60]!r} (special={special}): ours {a[:12]} HF {b[:12]}")
    unit = "token strings" if is_decorated(ours) else "ids"
    print(f"HF-loaded ours vs HF-trained: {len(sample) * 2 - mismatches}/{len(sample) * 2} encodings identical ({unit})")
    ok &= mismatches == 0

    swift_mismatches = 0
    swift_sample = [t for t in sample[:120] + TRICKY if "\x00" not in t]
    for text in swift_sample:
        if doge_ids(doge, out_dir, text) != ours.encode(text).ids:
            swift_mismatches += 1
            if swift_mismatches <= 5:
                print(f"DOGE TOKENIZE DIFFERS for {text[:60]!r}")
    print(f"doge tokenize vs HF on our tokenizer: {len(swift_sample) - swift_mismatches}/{len(swift_sample)} identical")
    ok &= swift_mismatches == 0

    if not args.base:
        ok &= check_chat_template(doge, out_dir)
    print("ALL IDENTICAL" if ok else "DIFFERENCES FOUND")
    sys.exit(0 if ok else 1)


def check_chat_template(doge, out_dir):
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(out_dir)
    conversations = [
        [{"role": "user", "content": "Hi there!"}],
        [{"role": "system", "content": "  You are a storyteller.  "}, {"role": "user", "content": "Tell me a story."},
         {"role": "assistant", "content": "Once upon a time..."}, {"role": "user", "content": "More!"}],
    ]
    ok = True
    for messages in conversations:
        for gen in (True, False):
            expected = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=gen)
            with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
                json.dump({"messages": messages, "add_generation_prompt": gen}, f)
            got = subprocess.run([doge, "template", "--tokenizer", out_dir, "--context", f.name],
                                 capture_output=True, text=True, check=True).stdout
            os.unlink(f.name)
            if got != expected:
                ok = False
                print(f"CHAT TEMPLATE DIFFERS:\n transformers {expected!r}\n doge         {got!r}")
    print("chat template: doge template == transformers apply_chat_template" if ok else "chat template differs")
    print("example:", repr(tok.apply_chat_template(conversations[0], tokenize=False, add_generation_prompt=True)))
    return ok


if __name__ == "__main__":
    main()
