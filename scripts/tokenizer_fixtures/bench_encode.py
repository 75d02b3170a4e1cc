#!/usr/bin/env python3
"""Times Hugging Face `tokenizers` (Rust) encoding a file, single-threaded, and prints MB/s.

    pip install tokenizers==0.23.3

Make the benchmark inputs (a Llama-3-style byte-level BPE trained here, and ~4 MB of English):
    python3 scripts/tokenizer_fixtures/bench_encode.py --make /tmp/tokbench
        -> /tmp/tokbench/tokenizer.json (vocab 8000) and /tmp/tokbench/english.txt
Time HF on them:
    python3 scripts/tokenizer_fixtures/bench_encode.py /tmp/tokbench/tokenizer.json /tmp/tokbench/english.txt
Compare with the whole doge process (release build):
    swift build -c release --scratch-path .build-tok-rel
    time .build-tok-rel/release/doge tokenize --tokenizer /tmp/tokbench/tokenizer.json --file /tmp/tokbench/english.txt > /dev/null
"""
import os
import sys
import time

os.environ["RAYON_NUM_THREADS"] = "1"  # single thread (set before tokenizers loads)
os.environ["TOKENIZERS_PARALLELISM"] = "false"

from tokenizers import Regex, Tokenizer, decoders, models, processors, trainers  # noqa: E402
from tokenizers import pre_tokenizers as pre  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import LLAMA3_PATTERN  # noqa: E402

DOCS = "/usr/share/vim/vim90/doc"


def make(folder, vocab_size=8000, megabytes=4.0):
    os.makedirs(folder, exist_ok=True)
    text, names = [], sorted(n for n in os.listdir(DOCS) if n.endswith(".txt"))
    size = 0
    for name in names:
        with open(os.path.join(DOCS, name), encoding="utf-8", errors="replace") as f:
            chunk = f.read()
        text.append(chunk)
        size += len(chunk.encode())
        if size >= megabytes * 1e6:
            break
    with open(os.path.join(folder, "english.txt"), "w", encoding="utf-8") as f:
        f.write("".join(text))
    tok = Tokenizer(models.BPE(ignore_merges=True))
    tok.pre_tokenizer = pre.Sequence([
        pre.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
        pre.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|begin_of_text|>", "<|end_of_text|>"],
                                  initial_alphabet=pre.ByteLevel.alphabet(), show_progress=False)
    tok.train([os.path.join(folder, "english.txt")], trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="<|begin_of_text|> $A", special_tokens=[("<|begin_of_text|>", tok.token_to_id("<|begin_of_text|>"))])
    tok.save(os.path.join(folder, "tokenizer.json"))
    print(f"wrote {folder}/tokenizer.json and {folder}/english.txt ({size / 1e6:.2f} MB)")


def bench(tokenizer_path, text_path, repeats=3):
    tok = Tokenizer.from_file(tokenizer_path)
    with open(text_path, encoding="utf-8") as f:
        text = f.read()
    megabytes = len(text.encode()) / 1e6
    best, best_cpu = None, None
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        ids = tok.encode(text).ids
        elapsed, cpu = time.perf_counter() - start, time.process_time() - start_cpu
        best = elapsed if best is None else min(best, elapsed)
        best_cpu = cpu if best_cpu is None else min(best_cpu, cpu)
    # CPU time is also printed because wall time is unreliable on a busy machine.
    print(f"{megabytes:.2f} MB, {len(ids)} ids, best of {repeats}: {best:.3f} s wall = {megabytes / best:.2f} MB/s; "
          f"{best_cpu:.3f} s CPU = {megabytes / best_cpu:.2f} MB/s")


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--make":
        make(sys.argv[2])
    elif len(sys.argv) == 3:
        bench(sys.argv[1], sys.argv[2])
    else:
        print(__doc__)
        sys.exit(2)
