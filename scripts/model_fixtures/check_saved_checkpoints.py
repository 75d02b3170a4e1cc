"""Checks that checkpoints written by swift-doge load in transformers unchanged, with the same logits.

For every parity fixture in the native layout, runs `doge convert` (F32 and BF16) and loads the
result with transformers' DogeForCausalLM (float32 compute), comparing its logits with the
fixture's reference (F32), or, for BF16 (re-rounded weights, so new logits), transformers'
forward of the saved directory against `doge logits` on the same directory. Prints the
largest difference and fails above 1e-4.

Needs: pip install torch transformers safetensors numpy; a built doge binary.
Run:   python3 scripts/model_fixtures/check_saved_checkpoints.py [path/to/doge]
"""
import json, os, subprocess, sys, tempfile

import numpy as np
import torch
from safetensors.torch import load_file
from transformers import DogeForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOGE = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build", "release", "doge")
FIXTURES = os.path.join(ROOT, "Tests", "DogeModelTests", "Fixtures")

worst = 0.0
for name in sorted(os.listdir(FIXTURES)):
    ref_path = os.path.join(FIXTURES, name, "reference.json")
    if not os.path.exists(ref_path) or name.startswith("remote_code") or name == "sequence_classification":
        continue
    ref = json.load(open(ref_path))
    expected = load_file(os.path.join(FIXTURES, name, "reference.safetensors"))["logits"]
    for dtype in ["f32", "bf16"]:
        with tempfile.TemporaryDirectory() as out:
            subprocess.run([DOGE, "convert", "--model", os.path.join(FIXTURES, name), "--output", out, "--dtype", dtype],
                           check=True, capture_output=True)
            model = DogeForCausalLM.from_pretrained(out, dtype=torch.float32, attn_implementation="eager").eval()
            ids = torch.tensor(ref["input_ids"])
            mask = torch.tensor(ref["attention_mask"]) if ref["attention_mask"] else None
            with torch.no_grad():
                logits = model(input_ids=ids, attention_mask=mask).logits
            rows = torch.tensor(ref["compare_rows"]).bool() if ref["compare_rows"] else torch.ones(ids.shape, dtype=torch.bool)
            if dtype == "f32":
                diff = (logits - expected).abs()[rows].max().item()
            else:
                ours = []
                for b in range(ids.shape[0]):
                    npy = os.path.join(out, f"ours{b}.npy")
                    if mask is not None and 0 in ref["attention_mask"][b]:
                        continue
                    subprocess.run([DOGE, "logits", "--model", out, "--ids", ",".join(map(str, ref["input_ids"][b])),
                                    "--output", npy], check=True, capture_output=True)
                    with torch.no_grad():   # one row at a time, as `doge logits` runs it (CDMoE mixes rows)
                        alone = model(input_ids=ids[b:b + 1]).logits[0]
                    ours.append((alone, torch.from_numpy(np.load(npy))))
                diff = max((theirs - o).abs().max().item() for theirs, o in ours)
            worst = max(worst, diff)
            print(f"{name:28s} {dtype}: transformers loads it; max |Δlogit| = {diff:.2e}")
print(f"worst {worst:.2e}")
sys.exit(0 if worst <= 1e-4 else 1)
