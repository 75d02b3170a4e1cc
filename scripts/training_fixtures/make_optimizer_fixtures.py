"""Schedule, AdamW, clipping and weight-decay-name fixtures for DogeTrainingTests.

    pip install torch==2.* transformers>=4.57
    python3 scripts/training_fixtures/make_optimizer_fixtures.py

Writes Tests/DogeTrainingTests/Fixtures/optimizer.json:
  schedules: transformers' get_scheduler(...) learning rates for steps 0..N-1 (base lr 1.0)
  adamw:     torch.optim.AdamW on a parameter with fixed gradients, values after every step
  clip:      clip_grad_norm_ results
  decay:     Trainer.get_decay_parameter_names for tiny dense (with biases) and CDMoE Doge models
"""
import json, os
import torch
import torch.nn as nn
import transformers
from transformers import DogeConfig, DogeForCausalLM, get_scheduler
from transformers.trainer_pt_utils import get_parameter_names

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "DogeTrainingTests", "Fixtures", "optimizer.json")
N = 40


def lrs(name, warmup, kwargs):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=1.0)
    s = get_scheduler(name, opt, num_warmup_steps=warmup, num_training_steps=N, scheduler_specific_kwargs=kwargs)
    out = []
    for _ in range(N + 3):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        s.step()
    return out


def main():
    schedules = []
    for name, warmup, kw in [
        ("linear", 5, {}), ("cosine", 7, {}), ("constant_with_warmup", 6, {}),
        ("cosine_with_min_lr", 4, {"min_lr_rate": 0.1}), ("cosine_with_min_lr", 0, {"min_lr": 0.25}),
        ("warmup_stable_decay", 5, {"warmup_type": "linear", "decay_type": "linear", "num_decay_steps": 10, "min_lr_ratio": 0.0}),
        ("warmup_stable_decay", 8, {"warmup_type": "cosine", "decay_type": "cosine", "num_decay_steps": 12, "min_lr_ratio": 0.1}),
        ("warmup_stable_decay", 6, {"warmup_type": "1-sqrt", "decay_type": "1-sqrt", "num_decay_steps": 9, "min_lr_ratio": 0.05}),
        ("warmup_stable_decay", 3, {"decay_type": "linear", "num_decay_steps": 5, "num_stable_steps": 20}),
    ]:
        schedules.append({"type": name, "warmup": warmup, "kwargs": kw, "total": N, "lr": lrs(name, warmup, kw)})

    g = torch.Generator().manual_seed(3)
    p = torch.nn.Parameter(torch.randn(37, generator=g))
    start = p.detach().clone()
    opt = torch.optim.AdamW([p], lr=0.01, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
    grads, values = [], []
    for _ in range(6):
        gr = torch.randn(37, generator=g)
        p.grad = gr.clone()
        opt.step()
        grads.append(gr.tolist())
        values.append(p.detach().tolist())
    adamw = {"lr": 0.01, "beta1": 0.9, "beta2": 0.95, "eps": 1e-8, "weight_decay": 0.1, "start": start.tolist(),
             "grads": grads, "values": values}

    a = torch.nn.Parameter(torch.zeros(50)); b = torch.nn.Parameter(torch.zeros(7))
    a.grad = torch.randn(50, generator=g); b.grad = torch.randn(7, generator=g) * 3
    ga, gb = a.grad.tolist(), b.grad.tolist()
    norm = float(torch.nn.utils.clip_grad_norm_([a, b], 1.0))
    clip = {"a": ga, "b": gb, "max_norm": 1.0, "norm": norm, "a_after": a.grad.tolist(), "b_after": b.grad.tolist()}

    forbidden = [r"bias", r"layernorm", r"rmsnorm", r"(?:^|\.)norm(?:$|\.)", r"_norm(?:$|\.)"]
    decay = {}
    for name, kw in [("dense", dict(attention_bias=True, mlp_bias=True, tie_word_embeddings=False)),
                     ("moe", dict(is_moe=True, num_experts=16, num_experts_per_tok=2, tie_word_embeddings=True))]:
        cfg = DogeConfig(vocab_size=32, hidden_size=16, intermediate_size=24, num_hidden_layers=2, num_attention_heads=2,
                         num_key_value_heads=1, **kw)
        m = DogeForCausalLM(cfg)
        names = set(get_parameter_names(m, [nn.LayerNorm], forbidden))
        decay[name] = {"all": [n for n, _ in m.named_parameters()], "decayed": sorted(names & {n for n, _ in m.named_parameters()})}
    with open(OUT, "w") as f:
        json.dump({"schedules": schedules, "adamw": adamw, "clip": clip, "decay": decay,
                   "torch": torch.__version__, "transformers": transformers.__version__}, f)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
