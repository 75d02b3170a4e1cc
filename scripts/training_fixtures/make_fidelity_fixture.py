"""50 AdamW steps in PyTorch (Hugging Face Trainer semantics) for the end-to-end fidelity test.

    pip install torch==2.* transformers>=4.57 safetensors numpy
    python3 scripts/training_fixtures/make_fidelity_fixture.py [--doge .build/release/doge]

Writes Tests/DogeTrainingTests/Fixtures/fidelity/:
  init/            the initial checkpoint (config.json, model.safetensors), randomised A/norms/residuals
  data.jsonl       pre-tokenized documents (progressions start + k*stride mod vocab) ({"input_ids": [...]}), no EOS (no tokenizer), so blocks are
                   exactly the documents; ids never repeat inside a block (keep_window_size < max_length
                   without dt ties)
  recipe.yaml      the recipe `doge train` runs (paths relative to this directory)
  losses.json      the PyTorch loss of every step, learning rates, grad norms
The loop mirrors transformers.Trainer: batches in `doge train`'s shuffled order (SplitMix64
Fisher-Yates, replicated below), gradient accumulation with num_items_in_batch (loss = sum / counted
tokens of the whole accumulated batch), clip_grad_norm_, torch.optim.AdamW with the Trainer's decay
groups (get_decay_parameter_names), get_wsd_schedule stepped after each optimizer step.
With --doge, also runs `doge train` on the recipe and prints the largest relative loss difference.
"""
import argparse, json, os, re, subprocess, sys, tempfile
import torch
import torch.nn as nn
import transformers
from transformers import DogeConfig, DogeForCausalLM
from transformers.optimization import get_wsd_schedule
from transformers.trainer_pt_utils import get_parameter_names

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "DogeTrainingTests", "Fixtures", "fidelity")
M64 = (1 << 64) - 1
STEPS, BATCH, ACCUM, LENGTH, SEED = 50, 2, 2, 32, 233
LR = 3e-3


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & M64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & M64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)


def epoch_order(n, seed, epoch):
    order = list(range(n))
    rng = SplitMix64((seed + 0x5DEECE66D * (epoch + 1)) & M64)
    for k in range(n - 1, 0, -1):
        j = rng.next() % (k + 1)
        order[k], order[j] = order[j], order[k]
    return order


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--doge", help="path of a built doge binary to compare against")
    a = ap.parse_args()
    os.makedirs(HERE, exist_ok=True)
    g = torch.Generator().manual_seed(5)
    cfg = DogeConfig(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2,
                     num_key_value_heads=1, keep_window_size=16, max_position_embeddings=128, attention_bias=True,
                     tie_word_embeddings=True, bos_token_id=None, eos_token_id=None, pad_token_id=None)
    cfg._attn_implementation = "eager"
    torch.manual_seed(0)
    model = DogeForCausalLM(cfg).float()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".A"):
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)
            elif "norm" in name or "residual" in name:
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=g))
    model.save_pretrained(os.path.join(HERE, "init"), safe_serialization=True)
    gc = os.path.join(HERE, "init", "generation_config.json")
    if os.path.exists(gc):
        os.remove(gc)
    # Learnable and non-repeating: arithmetic progressions mod vocab with an odd stride.
    blocks = []
    for _ in range(STEPS * BATCH * ACCUM):
        start = int(torch.randint(0, cfg.vocab_size, (1,), generator=g))
        stride = [1, 3, 5, 7][int(torch.randint(0, 4, (1,), generator=g))]
        blocks.append([(start + k * stride) % cfg.vocab_size for k in range(LENGTH)])
    with open(os.path.join(HERE, "data.jsonl"), "w") as f:
        for b in blocks:
            f.write(json.dumps({"input_ids": b}) + "\n")
    with open(os.path.join(HERE, "recipe.yaml"), "w") as f:
        f.write(f"""# doge train recipe of the fidelity fixture (paths relative to this file's directory)
model_name_or_path: init
datasets_and_ratios:
  - "data.jsonl": 1.0
max_length: {LENGTH}
seed: {SEED}
max_steps: {STEPS}
per_device_train_batch_size: {BATCH}
gradient_accumulation_steps: {ACCUM}
learning_rate: {LR}
lr_scheduler_type: warmup_stable_decay
lr_scheduler_kwargs:
  warmup_type: linear
  decay_type: cosine
  num_decay_steps: 20
  min_lr_ratio: 0.1
warmup_steps: 5
weight_decay: 0.01
adam_beta1: 0.9
adam_beta2: 0.95
adam_epsilon: 1.0e-8
max_grad_norm: 1.0
logging_steps: 10
save_steps: 1000
""")
    order = epoch_order(len(blocks), SEED, 0)
    forbidden = [r"bias", r"layernorm", r"rmsnorm", r"(?:^|\.)norm(?:$|\.)", r"_norm(?:$|\.)"]
    decay = set(get_parameter_names(model, [nn.LayerNorm], forbidden))
    groups = [{"params": [p for n, p in model.named_parameters() if n in decay], "weight_decay": 0.01},
              {"params": [p for n, p in model.named_parameters() if n not in decay], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=LR, betas=(0.9, 0.95), eps=1e-8)
    sched = get_wsd_schedule(opt, num_warmup_steps=5, num_decay_steps=20, num_training_steps=STEPS,
                             warmup_type="linear", decay_type="cosine", min_lr_ratio=0.1)
    model.train()
    losses, lrs, norms = [], [], []
    cursor = 0
    for step in range(STEPS):
        micro = []
        for _ in range(ACCUM):
            micro.append(torch.tensor([blocks[order[cursor + i]] for i in range(BATCH)]))
            cursor += BATCH
        items = sum(int((m[:, 1:] != -100).sum()) for m in micro)
        total = 0.0
        for ids in micro:
            loss = model(ids, labels=ids, num_items_in_batch=torch.tensor(items)).loss
            loss.backward()
            total += float(loss.detach())
        norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)))
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        losses.append(total)
    with open(os.path.join(HERE, "losses.json"), "w") as f:
        json.dump({"loss": losses, "learning_rate": lrs, "grad_norm": norms, "torch": torch.__version__,
                   "transformers": transformers.__version__}, f, indent=1)
    print("torch losses", losses[0], "...", losses[-1])
    if a.doge:
        out = tempfile.mkdtemp()
        subprocess.run([a.doge, "train", "--config", "recipe.yaml", "--output-dir", out], cwd=HERE, check=True)
        mine = {}
        for line in open(os.path.join(out, "metrics.jsonl")):
            o = json.loads(line)
            if "loss" in o:
                mine[o["step"]] = o["loss"]
        worst = max(abs(mine[i + 1] - l) / abs(l) for i, l in enumerate(losses))
        print("doge train vs PyTorch: max relative loss difference over", STEPS, "steps:", worst)
        # The doge checkpoint loads in transformers with the same logits as doge computed.
        reloaded = DogeForCausalLM.from_pretrained(os.path.join(out, f"checkpoint-{STEPS}"), dtype=torch.float32)
        ids = blocks[order[0]]
        npy = os.path.join(out, "logits.npy")
        subprocess.run([a.doge, "logits", "--model", os.path.join(out, f"checkpoint-{STEPS}"), "--ids",
                        ",".join(map(str, ids)), "--output", npy], check=True, capture_output=True)
        import numpy as np
        swift_logits = torch.from_numpy(np.load(npy)).reshape(-1)
        with torch.no_grad():
            torch_logits = reloaded(torch.tensor([ids])).logits.reshape(-1)
        print("final checkpoint in transformers vs doge logits: max |diff|",
              float((swift_logits - torch_logits).abs().max()))


if __name__ == "__main__":
    main()
