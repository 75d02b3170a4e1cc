#!/usr/bin/env python3
"""`doge serve` against the official `openai` Python client.

Starts `doge serve` (the bundled instruct model, its default) on a free loopback port, checks what the client reads,
and exits non-zero on the first failure. Run after `swift build`:

    pip install openai
    python3 scripts/server/openai_client_test.py            # uses .build/debug/doge
    DOGE_BIN=.build/release/doge python3 scripts/server/openai_client_test.py

Written against openai 1.x/2.x (the version that ran is printed).
"""
import concurrent.futures
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import openai

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("DOGE_BIN", os.path.join(ROOT, ".build", "debug", "doge"))
# The model `doge serve` uses by default; named for `doge generate` too, whose default is the base model.
MODEL = os.path.join(ROOT, "Models", "doge-tiny-instruct")
KEY = "test-key"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metric(base, name):
    request = urllib.request.Request(base + "/metrics", headers={"Authorization": "Bearer " + KEY})
    with urllib.request.urlopen(request, timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    raise AssertionError(f"metric {name} missing")


def wait_idle(base, seconds=10):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if metric(base, "doge_busy_slots") == 0 and metric(base, "doge_queued_requests") == 0:
            return time.time()
        time.sleep(0.05)
    raise AssertionError("slots still busy after %ss" % seconds)


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok:", what)


def main():
    print("openai", openai.__version__)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    tmp = tempfile.mkdtemp()
    server = subprocess.Popen([BIN, "serve", "--port", str(port), "--parallel", "16", "--api-key", KEY,
                               "--db", os.path.join(tmp, "chats.sqlite")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        deadline = time.time() + 120
        while True:
            try:
                with urllib.request.urlopen(base + "/health", timeout=2) as r:
                    if json.loads(r.read())["status"] == "ok":
                        break
            except Exception:
                pass
            if server.poll() is not None or time.time() > deadline:
                raise AssertionError("server did not start: " + server.stderr.read())
            time.sleep(0.2)
        run(base)
    finally:
        server.terminate()
        try:
            code = server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            code = "killed"
        print("server exit status after SIGTERM:", code)
        if code != 0:
            print(server.stderr.read()[-3000:])
            sys.exit(1)


def run(base):
    client = openai.OpenAI(base_url=base + "/v1", api_key=KEY, max_retries=0)
    models = client.models.list()
    check(len(models.data) == 1 and models.data[0].object == "model", "models.list has one model")
    model = models.data[0].id

    # Completions at temperature 0 equal `doge generate PROMPT --greedy`.
    prompt = "Once upon a time"
    out = subprocess.run([BIN, "generate", "--model", MODEL, prompt, "--greedy", "--max-new-tokens", "24", "--json"],
                         capture_output=True, text=True, cwd=ROOT, check=True)
    expected = json.loads(out.stdout.strip().splitlines()[-1])
    c = client.completions.create(model=model, prompt=prompt, temperature=0, max_tokens=24)
    check(c.choices[0].text == expected["text"], "completion at temperature 0 == doge generate --greedy")
    check(c.usage.completion_tokens == len(expected["generated_ids"]) and c.usage.prompt_tokens == len(expected["prompt_ids"]),
          "completion usage is exact")
    stream = client.completions.create(model=model, prompt=prompt, temperature=0, max_tokens=24, stream=True)
    check("".join(ch.choices[0].text for ch in stream if ch.choices) == expected["text"], "streamed completion == whole")

    # Chat, whole and streamed, with usage.
    messages = [{"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "content": [{"type": "text", "text": "Tell me a story."}]}]
    chat = client.chat.completions.create(model=model, messages=messages, temperature=0, max_tokens=30)
    text = chat.choices[0].message.content
    check(chat.object == "chat.completion" and chat.choices[0].message.role == "assistant" and text, "chat completion")
    check(chat.usage.total_tokens == chat.usage.prompt_tokens + chat.usage.completion_tokens, "chat usage adds up")
    chunks = list(client.chat.completions.create(model=model, messages=messages, temperature=0, max_tokens=30, stream=True,
                                                 stream_options={"include_usage": True}))
    check(len({ch.id for ch in chunks}) == 1, "one id per stream")
    check(chunks[0].choices[0].delta.role == "assistant", "role-first delta")
    streamed = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    check(streamed == text, "streamed chat == whole chat")
    check(chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == chat.usage.completion_tokens, "usage chunk")
    check(chunks[-2].choices[0].finish_reason in ("stop", "length"), "finish chunk")

    # n = 2, logprobs.
    two = client.chat.completions.create(model=model, messages=messages, n=2, temperature=1.0, seed=5, max_tokens=12)
    check([c.index for c in two.choices] == [0, 1], "n=2 gives two choices")
    lp = client.chat.completions.create(model=model, messages=messages, temperature=0, max_tokens=10, logprobs=True, top_logprobs=2)
    content = lp.choices[0].logprobs.content
    check(content and all(t.logprob <= 0 and len(t.top_logprobs) == 2 for t in content), "chat logprobs + top_logprobs")
    check("".join(t.token for t in content) == lp.choices[0].message.content, "logprob tokens spell the content")
    clp = client.completions.create(model=model, prompt=prompt, temperature=0, max_tokens=5, logprobs=3)
    check(len(clp.choices[0].logprobs.tokens) == len(clp.choices[0].logprobs.token_logprobs) > 0, "completion logprobs")

    # Seeds: same seed, same text; alone or beside other requests.
    def sample(seed, p="The dog"):
        return client.completions.create(model=model, prompt=p, temperature=0.9, seed=seed, max_tokens=20).choices[0].text
    alone = sample(42)
    check(alone == sample(42), "same seed, same text")
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(sample, 42)] + [pool.submit(sample, 100 + i, f"Cats {i}") for i in range(7)]
        check(futures[0].result() == alone, "same seed beside 7 other requests, same text")

    # Stop strings across chunk boundaries: cut a multi-token piece out of the greedy text.
    full = expected["text"]
    stop = full[len(full) // 2: len(full) // 2 + 6]
    cut = full[: full.index(stop)]
    s = client.completions.create(model=model, prompt=prompt, temperature=0, max_tokens=24, stop=[stop], stream=True)
    pieces = [ch.choices[0].text for ch in s if ch.choices]
    check("".join(pieces) == cut, f"stop string {stop!r} never leaks into the stream")

    # 16 concurrent streams.
    def stream_one(i):
        s = client.chat.completions.create(model=model, messages=[{"role": "user", "content": f"Story {i}"}],
                                           max_tokens=40, stream=True, seed=i)
        return "".join(ch.choices[0].delta.content or "" for ch in s if ch.choices)
    start = time.time()
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(stream_one, range(16)))
    check(len(results) == 16 and all(isinstance(r, str) for r in results), f"16 concurrent streams ({time.time() - start:.1f}s)")

    # A client timeout cancels its request: the slot is free again shortly after.
    impatient = openai.OpenAI(base_url=base + "/v1", api_key=KEY, max_retries=0, timeout=0.3)
    try:
        impatient.completions.create(model=model, prompt=prompt, max_tokens=4000, temperature=0.8,
                                     extra_body={"ignore_eos": True})
        raise AssertionError("expected a timeout")
    except openai.APITimeoutError:
        pass
    gone = time.time()
    freed = wait_idle(base)
    check(freed - gone < 5, f"timed-out request freed its slot in {freed - gone:.2f}s")

    # Errors as the client raises them.
    try:
        client.chat.completions.create(model=model, messages=[{"role": "wizard", "content": "x"}])
        raise AssertionError("expected 400")
    except openai.BadRequestError as e:
        check(e.status_code == 400 and e.body["param"] == "messages[0].role", "unknown role -> BadRequestError")
    try:
        client.chat.completions.create(model=model, messages=messages, temperature=5)
        raise AssertionError("expected 400")
    except openai.BadRequestError as e:
        check(e.body["param"] == "temperature", "temperature out of range -> BadRequestError")
    try:
        openai.OpenAI(base_url=base + "/v1", api_key="wrong", max_retries=0).models.list()
        raise AssertionError("expected 401")
    except openai.AuthenticationError as e:
        check(e.status_code == 401, "wrong key -> AuthenticationError")
    try:
        client.completions.create(model=model, prompt="a" * (9 << 20), max_tokens=1)
        raise AssertionError("expected 413")
    except openai.APIStatusError as e:
        check(e.status_code == 413, "9 MiB body -> 413")
    wait_idle(base)
    print("all openai client checks passed")


if __name__ == "__main__":
    main()
