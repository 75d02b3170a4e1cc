"""transformers loads what `doge upcycle` writes, and computes the same logits.

    swift build -c release
    python3 scripts/post_training_fixtures/check_upcycle.py [--doge .build/release/doge] [--model DENSE_DIR]

Upcycles a dense Doge (default: the post-training test model) to CDMoE (16 experts, 4 per token) twice:
  --zero-init   transformers' logits of the MoE model equal the dense model's (max |diff| printed; ≤ 1e-6)
  random tables transformers' logits equal `doge logits` of the same directory (max |diff| printed; ≤ 1e-4)
Records torch/transformers versions in its output.
"""
import argparse, os, subprocess, sys, tempfile
import numpy as np
import torch, transformers
from transformers import DogeForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--doge", default=os.path.join(ROOT, ".build", "debug", "doge"))
    ap.add_argument("--model", default=os.path.join(ROOT, "Tests", "DogePostTrainingTests", "Fixtures", "init"))
    a = ap.parse_args()
    print("torch", torch.__version__, "transformers", transformers.__version__)
    ids = [5, 17, 42, 99, 3, 250, 7, 7, 120, 64]
    dense = DogeForCausalLM.from_pretrained(a.model, torch_dtype=torch.float32).eval()
    with torch.no_grad():
        ref = dense(torch.tensor([ids])).logits[0].numpy()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for zero in (True, False):
            out = os.path.join(tmp, "zero" if zero else "random")
            cmd = [a.doge, "upcycle", "--model", a.model, "--num-experts", "16", "--experts-per-token", "4", "--output", out]
            subprocess.run(cmd + (["--zero-init"] if zero else []), check=True, stdout=subprocess.DEVNULL)
            moe = DogeForCausalLM.from_pretrained(out, torch_dtype=torch.float32).eval()
            assert moe.config.is_moe and moe.config.num_experts == 16
            with torch.no_grad():
                logits = moe(torch.tensor([ids])).logits[0].numpy()
            if zero:
                d = float(np.abs(logits - ref).max())
                print(f"zero-init: transformers MoE vs dense logits max |diff| {d:.3g}")
                ok &= d <= 1e-6
            else:
                npy = os.path.join(tmp, "ours.npy")
                subprocess.run([a.doge, "logits", "--model", out, "--ids", ",".join(map(str, ids)), "--output", npy],
                               check=True, stdout=subprocess.DEVNULL)
                ours = np.load(npy).reshape(logits.shape)
                d = float(np.abs(ours - logits).max())
                moved = float(np.abs(logits - ref).max())
                print(f"random tables: doge vs transformers logits max |diff| {d:.3g} (moved {moved:.3g} from dense)")
                ok &= d <= 1e-4 and moved > 1e-6
    print("OK" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
