#!/usr/bin/env python3
"""Load test for `doge serve`, on 127.0.0.1 only, bounded in time.

N concurrent clients (default 32) for DURATION seconds (default 120, at most 120): most stream
chat completions to the end, some disconnect mid-stream, some send garbage (malformed JSON, wrong
types, bad roles, binary noise, unknown paths). Records requests by outcome, generated tokens/s,
the server's resident memory over time, and checks: the server never dies, every answer is an
expected status, and afterwards no slot is busy and nothing is queued (/metrics).

    python3 scripts/server/load_test.py [--clients 32] [--duration 120] [--parallel 16]
Uses DOGE_BIN (default .build/release/doge, else .build/debug/doge). Prints one JSON summary.
"""
import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def default_bin():
    for kind in ("release", "debug"):
        path = os.path.join(ROOT, ".build", kind, "doge")
        if os.path.exists(path):
            return path
    sys.exit("build doge first (swift build -c release)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metrics(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        out = {}
        for line in r.read().decode().splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                out[name] = float(value)
        return out


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


GARBAGE = [
    b"{\"messages\": [",
    b"not json at all",
    json.dumps({"messages": "hello"}).encode(),
    json.dumps({"messages": [{"role": "wizard", "content": "x"}]}).encode(),
    json.dumps({"messages": [{"role": "user", "content": "x"}], "temperature": "hot"}).encode(),
    json.dumps({"messages": [{"role": "user", "content": "x"}], "max_tokens": -5}).encode(),
    bytes(random.Random(1).getrandbits(8) for _ in range(2000)),
]


class Client(threading.Thread):
    def __init__(self, index, port, deadline, stats, lock):
        super().__init__(daemon=True)
        self.index, self.port, self.deadline, self.stats, self.lock = index, port, deadline, stats, lock
        self.rng = random.Random(index)

    def count(self, key):
        with self.lock:
            self.stats[key] = self.stats.get(key, 0) + 1

    def run(self):
        while time.time() < self.deadline:
            roll = self.rng.random()
            try:
                if roll < 0.15:
                    self.garbage()
                elif roll < 0.30:
                    self.stream(disconnect_after=self.rng.randint(1, 5))
                else:
                    self.stream(disconnect_after=None)
            except Exception as e:   # counted as a failure below
                self.count("client_error:" + type(e).__name__)

    def connection(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)

    def garbage(self):
        conn = self.connection()
        body = self.rng.choice(GARBAGE)
        path = self.rng.choice(["/v1/chat/completions", "/v1/completions", "/v1/nowhere"])
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read()
        ok = r.status in (400, 404, 413) and b"\"error\"" in data
        self.count("garbage_rejected" if ok else f"garbage_unexpected_{r.status}")
        conn.close()

    def stream(self, disconnect_after):
        conn = self.connection()
        body = json.dumps({"messages": [{"role": "user", "content": f"Tell me a story about dog number {self.rng.randint(0, 999)}"}],
                           "max_tokens": self.rng.randint(16, 96), "stream": True, "seed": self.rng.randint(0, 10**6)})
        conn.request("POST", "/v1/chat/completions", body=body, headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        if r.status == 503:
            r.read()
            self.count("busy_503")
            time.sleep(float(r.getheader("Retry-After", "1")))
            return
        if r.status != 200:
            r.read()
            self.count(f"stream_unexpected_{r.status}")
            return
        events = 0
        while True:
            line = r.fp.readline()
            if not line:
                self.count("stream_truncated")
                break
            if line.startswith(b"data: "):
                events += 1
                if line.startswith(b"data: {\"error\""):
                    self.count("stream_unexpected_error_event")
                if line.strip() == b"data: [DONE]":
                    self.count("stream_completed" if events > 2 else "stream_unexpected_empty")
                    break
                if disconnect_after is not None and events >= disconnect_after:
                    # Walk away mid-stream: close the socket under the response.
                    r.fp.raw._sock.shutdown(socket.SHUT_RDWR) if hasattr(r.fp, "raw") else None
                    r.close()
                    self.count("stream_disconnected")
                    break
        conn.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=120)
    parser.add_argument("--parallel", type=int, default=16)
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    args.duration = min(args.duration, 120)
    binary = os.environ.get("DOGE_BIN") or default_bin()
    port = free_port()
    tmp = tempfile.mkdtemp()
    command = [binary, "serve", "--port", str(port), "--parallel", str(args.parallel), "--db", os.path.join(tmp, "c.sqlite")]
    if args.model:
        command += ["--model", args.model]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    failures = []
    try:
        for _ in range(600):
            try:
                metrics(port)
                break
            except Exception:
                time.sleep(0.2)
        rss_start = rss_mb(server.pid)
        stats, lock = {}, threading.Lock()
        before = metrics(port)
        start = time.time()
        clients = [Client(i, port, start + args.duration, stats, lock) for i in range(args.clients)]
        for c in clients:
            c.start()
        rss = []
        while any(c.is_alive() for c in clients):
            rss.append(rss_mb(server.pid))
            if server.poll() is not None:
                failures.append(f"server died with status {server.returncode}")
                break
            time.sleep(1)
        for c in clients:
            c.join(timeout=150)
        elapsed = time.time() - start
        # Everything drains: no busy slot, nothing queued.
        idle = None
        for _ in range(100):
            m = metrics(port)
            if m.get("doge_busy_slots") == 0 and m.get("doge_queued_requests") == 0:
                idle = m
                break
            time.sleep(0.1)
        if idle is None:
            failures.append("slots still busy after the clients stopped: %s" % metrics(port))
            idle = metrics(port)
        generated = idle["doge_generated_tokens_total"] - before.get("doge_generated_tokens_total", 0)
        unexpected = {k: v for k, v in stats.items() if "unexpected" in k or k.startswith("client_error")}
        if unexpected:
            failures.append(f"unexpected outcomes: {unexpected}")
        summary = {
            "clients": args.clients, "parallel": args.parallel, "seconds": round(elapsed, 1), "outcomes": stats,
            "generated_tokens": int(generated), "generated_tok_s": round(generated / elapsed, 1),
            "rss_mb_start": round(rss_start, 1), "rss_mb_max": round(max(rss or [0]), 1),
            "rss_mb_end": round(rss_mb(server.pid), 1), "busy_slots_after": idle.get("doge_busy_slots"),
            "server_alive": server.poll() is None, "failures": failures,
        }
        print(json.dumps(summary, sort_keys=True))
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
