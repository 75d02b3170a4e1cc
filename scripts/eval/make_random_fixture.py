"""Draws from CPython's random.Random for Tests/DogeEvalTests/Fixtures/python_random.json: the
sequences lm-eval's few-shot sampler (sample) and bootstrap (choices) depend on."""
import json, os, platform, random

cases = []
for seed in (1234, 0, 42, 7, 2**40 + 7):
    r = random.Random(seed)
    draws = []
    # One generator shared across calls, as lm-eval shares it across documents: the pool branch
    # (n <= setsize) and the set branch (n > setsize; setsize 21 for k <= 5, 85 for k = 6..21).
    for n, k in [(10, 5), (25, 5), (9, 6), (100, 6), (86, 6), (22, 5), (21, 5), (5, 5), (1000, 3), (7, 0), (300, 21)]:
        draws.append({"n": n, "k": k, "sample": r.sample(range(n), k)})
    bits = [r.getrandbits(b) for b in (1, 5, 31, 32, 33, 53, 64)]
    floats = [r.random() for _ in range(5)]
    choices = r.choices(range(13), k=8)
    below = [r.randrange(n) for n in (1, 2, 3, 1000, 2**31 + 5)]
    shuffled = [list(range(n)) for n in (1, 2, 12, 40)]   # lighteval shuffles documents with Random(42)
    for x in shuffled:
        r.shuffle(x)
    cases.append({"shuffles": shuffled, "seed": seed, "draws": draws, "getrandbits": [str(b) for b in bits], "bits": [1, 5, 31, 32, 33, 53, 64],
                  "random": floats, "choices13x8": choices, "randbelow": below, "randbelow_n": [1, 2, 3, 1000, 2**31 + 5]})
out = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "DogeEvalTests", "Fixtures", "python_random.json")
json.dump({"python": platform.python_version(), "cases": cases}, open(out, "w"), indent=1)
print("wrote", os.path.normpath(out))
