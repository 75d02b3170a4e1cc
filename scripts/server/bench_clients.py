#!/usr/bin/env python3
"""Aggregate generated tokens/s of `doge serve` for 1, 4, 16 and 32 concurrent streaming clients.

Each client streams one completion of 128 tokens (ignore_eos, so every request is the same
length) and reads it to the end; the figure is all generated tokens over the wall time from the
first request to the last [DONE]. Levels run in rounds (1, 4, 16, 32, 1, 4, …) so that load from
other processes hits them alike; the median round is reported.

    python3 scripts/server/bench_clients.py [--model DIR] [--rounds 3] [--tokens 128]
Uses DOGE_BIN (default .build/release/doge). Prints one JSON line per level, then a summary line.
"""
import argparse
import http.client
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_stream(port, seed, tokens, out):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    body = json.dumps({"prompt": "Once upon a time, in a small village,", "max_tokens": tokens, "ignore_eos": True,
                       "temperature": 0.8, "seed": seed, "stream": True, "stream_options": {"include_usage": True}})
    conn.request("POST", "/v1/completions", body=body, headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    generated = 0
    for line in r:
        if line.startswith(b"data: {"):
            chunk = json.loads(line[6:])
            if chunk.get("usage"):
                generated = chunk["usage"]["completion_tokens"]
    conn.close()
    out.append(generated)


def level(port, clients, tokens):
    out = []
    threads = [threading.Thread(target=one_stream, args=(port, i, tokens, out)) for i in range(clients)]
    start = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.time() - start
    return sum(out) / elapsed, sum(out)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--levels", default="1,4,16,32")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    binary = os.environ.get("DOGE_BIN", os.path.join(ROOT, ".build", "release", "doge"))
    port = free_port()
    command = [binary, "serve", "--port", str(port), "--parallel", str(max(levels)),
               "--db", os.path.join(tempfile.mkdtemp(), "c.sqlite")]
    if args.model:
        command += ["--model", args.model]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).read()
                break
            except Exception:
                time.sleep(0.2)
        level(port, 2, 8)   # warm-up
        results = {c: [] for c in levels}
        for _ in range(args.rounds):
            for c in levels:
                tok_s, n = level(port, c, args.tokens)
                if n != c * args.tokens:
                    sys.exit(f"expected {c * args.tokens} tokens, got {n}")
                results[c].append(tok_s)
        cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
        base = statistics.median(results[levels[0]])
        for c in levels:
            m = statistics.median(results[c])
            print(json.dumps({"clients": c, "aggregate_tok_s": round(m, 1), "rounds": [round(x, 1) for x in results[c]],
                              "vs_1": round(m / base, 2)}))
        print(json.dumps({"model": args.model or "Models/doge-tiny", "tokens_per_request": args.tokens, "cpu": cpu,
                          "load": os.getloadavg()}))
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
