"""Gradient fixtures for DogeTrainingTests: PyTorch gradients of every parameter of tiny Doge models.

    pip install torch==2.* transformers>=4.57 safetensors numpy
    python3 scripts/training_fixtures/make_grad_fixtures.py

Writes Tests/DogeTrainingTests/Fixtures/grad_<name>/{config.json, model.safetensors, grads.safetensors, batch.json}.
Models are randomised beyond transformers' init (A, norm weights, residuals, biases) and use
keep_window_size < sequence length with token ids that do not repeat within a row, so no dt ties
reach the keep-window cutoff. Loss = transformers' causal-LM loss (mean over counted tokens,
label -100 ignored) + router_aux_loss_coef * aux when output_router_logits.
"""
import json, os, sys
import torch
import transformers
from safetensors.torch import save_file
from transformers import DogeConfig, DogeForCausalLM

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "DogeTrainingTests", "Fixtures")

CASES = {
    "dense": dict(vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, keep_window_size=6, attention_bias=True, mlp_bias=True,
                  tie_word_embeddings=False, max_position_embeddings=64),
    "moe": dict(vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
                num_key_value_heads=2, keep_window_size=5, is_moe=True, num_experts=16, num_experts_per_tok=4,
                output_router_logits=True, router_aux_loss_coef=0.01, tie_word_embeddings=True,
                max_position_embeddings=64),
    "moe_norm": dict(vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=1, num_attention_heads=2,
                     num_key_value_heads=1, keep_window_size=7, is_moe=True, num_experts=25, num_experts_per_tok=6,
                     norm_topk_prob=True, tie_word_embeddings=True, max_position_embeddings=64),
}


def randomise(model, g):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".A"):
                p.copy_(torch.randn(p.shape, generator=g) * 0.8)
            elif "norm" in name or "residual" in name:
                p.copy_(1 + 0.3 * torch.randn(p.shape, generator=g))
            elif name.endswith("bias"):
                p.copy_(0.05 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.15 * torch.randn(p.shape, generator=g))


class _SoftmaxThenClone:
    """transformers' CDMoE divides the routing softmax in place when norm_topk_prob is set, which
    autograd rejects ("modified by an inplace operation"). Cloning the softmax output gives the
    same values and lets backward run; used only for that case."""
    def __init__(self, f):
        self.f = f

    def __getattr__(self, k):
        return getattr(self.f, k)

    def softmax(self, *a, **k):
        return self.f.softmax(*a, **k).clone()


def main():
    import transformers.models.doge.modeling_doge as modeling
    plain_f = modeling.F
    torch.manual_seed(0)
    for name, kw in CASES.items():
        g = torch.Generator().manual_seed(list(CASES).index(name) + 11)
        modeling.F = _SoftmaxThenClone(plain_f) if kw.get("norm_topk_prob") else plain_f
        cfg = DogeConfig(**kw)
        cfg._attn_implementation = "eager"
        model = DogeForCausalLM(cfg).float()
        randomise(model, g)
        B, T = 2, 12
        ids = torch.stack([torch.randperm(cfg.vocab_size, generator=g)[:T] for _ in range(B)])
        labels = ids.clone()
        labels[0, 3] = -100
        labels[1, 7] = -100
        out = model(ids, labels=labels)
        out.loss.backward()
        d = os.path.join(ROOT, f"grad_{name}")
        os.makedirs(d, exist_ok=True)
        model.save_pretrained(d, safe_serialization=True)
        for f in ("generation_config.json",):
            p = os.path.join(d, f)
            if os.path.exists(p):
                os.remove(p)
        grads = {n: p.grad.detach().contiguous() for n, p in model.named_parameters()}
        save_file(grads, os.path.join(d, "grads.safetensors"))
        aux = float(out.aux_loss) if getattr(out, "aux_loss", None) is not None else None
        with open(os.path.join(d, "batch.json"), "w") as fh:
            json.dump({"input_ids": ids.tolist(), "labels": labels.tolist(), "loss": float(out.loss.detach()),
                       "aux_loss": aux, "torch": torch.__version__, "transformers": transformers.__version__}, fh)
        print(name, float(out.loss), aux, len(grads))


if __name__ == "__main__":
    main()
