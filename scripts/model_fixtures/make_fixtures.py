"""Reference fixtures for swift-doge's model tests, computed by transformers' own DogeForCausalLM.

Each case is a directory under Tests/DogeModelTests/Fixtures/<case>/ with
  config.json, model.safetensors (or shards + index)   a tiny random-weight checkpoint
  reference.json                                        input ids, attention mask, which rows to compare
  reference.safetensors                                 "logits" [B, T, V] float32 from transformers

Weights are random but not the init values: A, norm weights, residuals and biases are randomised too,
so a mistake in any of them changes the logits. Where keep_window_size is shorter than the sequence,
token ids do not repeat, so no dt ties reach the top-k cutoff (see doge-architecture.md).

Needs: pip install torch transformers safetensors   (versions used are written to VERSIONS.txt)
Run:   python3 scripts/model_fixtures/make_fixtures.py [OUT_DIR]
"""
import json, os, shutil, sys

import torch
import transformers
from safetensors.torch import save_file
from transformers import DogeConfig, DogeForCausalLM, DogeForSequenceClassification
from transformers.models.doge import modeling_doge as md

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Tests", "DogeModelTests", "Fixtures")

BASE = dict(vocab_size=96, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
            keep_window_size=64, tie_word_embeddings=False, rms_norm_eps=1e-6)


def randomise(model, seed):
    """Replace every parameter with values large enough that each one visibly moves the logits."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".A"):
                p.copy_(torch.empty(p.shape).uniform_(-1.5, 1.5, generator=g))
            elif "norm" in name or "residual" in name:
                p.copy_(1 + 0.3 * torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):
                p.copy_(0.2 * torch.randn(p.shape, generator=g))
            else:
                fan_in = p.shape[-1]
                p.copy_(torch.randn(p.shape, generator=g) / fan_in ** 0.5 * 1.5)


def remote_code_attention(module, config):
    """Turn a native DogeAttention into small-doge's remote-code attention: no q/k norm, A and
    dt_proj per attention head, and a mask per attention head (no sharing across a KV group)."""
    H, G, D = config.num_attention_heads, config.num_key_value_heads, module.head_dim
    module.q_norm = torch.nn.Identity()
    module.k_norm = torch.nn.Identity()
    module.A = torch.nn.Parameter(torch.zeros(H))
    module.dt_proj = torch.nn.Linear(G * D, H, bias=config.attention_bias)

    def forward(hidden_states, position_embeddings, attention_mask=None, past_key_values=None, **kwargs):
        input_shape = hidden_states.shape[:-1]
        hidden_shape = (*input_shape, -1, module.head_dim)
        q = module.q_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        k = module.k_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        v = module.v_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        cos, sin = position_embeddings
        q, k = md.apply_rotary_pos_emb(q, k, cos, sin)
        if past_key_values is not None:
            k, v = past_key_values.update(k, v, module.layer_idx)
        dt = module.dt_proj(v.transpose(1, 2).reshape(v.shape[0], v.shape[-2], -1))
        dt = torch.exp(module.A * torch.nn.functional.softplus(dt)).transpose(-1, -2)
        mask = module.prepare_dynamic_mask(hidden_states, dt, module.keep_window_size, attention_mask)
        out, weights = md.eager_attention_forward(module, q, k, v, mask, scaling=module.scaling)
        return module.o_proj(out.reshape(*input_shape, -1).contiguous()), weights

    module.forward = forward


def write_case(name, config_kwargs, ids, attention_mask=None, *, seed=0, dtype="F32", remote=False,
               shards=0, rope_spelling="parameters", classifier=False, compare_rows=None):
    torch.manual_seed(seed)
    cfg = DogeConfig(**{**BASE, **config_kwargs})
    cfg._attn_implementation = "eager"
    model = (DogeForSequenceClassification if classifier else DogeForCausalLM)(cfg).eval()
    if remote:
        for layer in model.model.layers:
            remote_code_attention(layer.self_attn, cfg)
    randomise(model, seed + 1)
    if dtype == "BF16":   # the reference computes in float32 from the bf16-rounded weights
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(p.to(torch.bfloat16).to(torch.float32))
    ids_t = torch.tensor(ids)
    mask_t = torch.tensor(attention_mask) if attention_mask is not None else None
    with torch.no_grad():
        logits = model(input_ids=ids_t, attention_mask=mask_t).logits.float().contiguous()

    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    if cfg.tie_word_embeddings:
        state.pop("lm_head.weight", None)
    if dtype == "BF16":
        state = {k: v.to(torch.bfloat16) for k, v in state.items()}
    if shards:
        names = sorted(state)
        weight_map = {}
        for i in range(shards):
            part = names[i::shards]
            fname = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
            save_file({k: state[k] for k in part}, os.path.join(d, fname), metadata={"format": "pt"})
            weight_map.update({k: fname for k in part})
        with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, f, indent=2)
    else:
        save_file(state, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})

    config = json.loads(cfg.to_json_string())
    rope = config.pop("rope_parameters", None) or {"rope_type": "default", "rope_theta": 10000.0}
    if rope_spelling == "theta+scaling":   # transformers 4.x / small-doge spelling
        config["rope_theta"] = rope.pop("rope_theta")
        config["rope_scaling"] = None if rope.get("rope_type") == "default" else rope
    else:
        config["rope_parameters"] = rope
    if remote:
        config["auto_map"] = {"AutoConfig": "configuration_doge.DogeConfig",
                              "AutoModelForCausalLM": "modeling_doge.DogeForCausalLM"}
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    save_file({"logits": logits}, os.path.join(d, "reference.safetensors"))
    ref = {"input_ids": ids, "attention_mask": attention_mask,
           "compare_rows": compare_rows, "head": "sequence_classification" if classifier else "causal_lm"}
    with open(os.path.join(d, "reference.json"), "w") as f:
        json.dump(ref, f)
    print(f"{name}: logits {list(logits.shape)}")


def distinct(n, seed, vocab=BASE["vocab_size"]):
    g = torch.Generator().manual_seed(seed)
    return torch.randperm(vocab, generator=g)[:n].tolist()


def main():
    os.makedirs(OUT, exist_ok=True)
    seq = distinct(12, 1)
    write_case("dense_gqa", {}, [seq], seed=10)
    write_case("dense_tied", {"tie_word_embeddings": True, "num_key_value_heads": 4}, [seq], seed=11)
    write_case("dense_mqa_untied", {"num_key_value_heads": 1}, [distinct(9, 2)], seed=12)
    write_case("keep_window", {"keep_window_size": 5}, [distinct(20, 3)], seed=13)
    write_case("bf16_weights", {}, [seq], seed=14, dtype="BF16")
    write_case("biases", {"attention_bias": True, "mlp_bias": True}, [seq], seed=15)
    write_case("cdmoe", {"is_moe": True, "num_experts": 64, "num_experts_per_tok": 6}, [distinct(10, 4)], seed=16)
    write_case("cdmoe_batch_norm_topk", {"is_moe": True, "num_experts": 49, "num_experts_per_tok": 5,
                                         "norm_topk_prob": True}, [distinct(7, 5), distinct(7, 6)], seed=17)
    write_case("cdmoe_keep_window", {"is_moe": True, "num_experts": 36, "num_experts_per_tok": 3,
                                     "keep_window_size": 6}, [distinct(14, 7)], seed=18)
    write_case("rope_linear", {"rope_parameters": {"rope_type": "linear", "factor": 2.0, "rope_theta": 500.0}},
               [seq], seed=19)
    write_case("rope_dynamic", {"max_position_embeddings": 8,
                                "rope_parameters": {"rope_type": "dynamic", "factor": 4.0, "rope_theta": 10000.0}},
               [distinct(20, 8)], seed=20, rope_spelling="theta+scaling")
    write_case("rope_yarn", {"max_position_embeddings": 32,
                             "rope_parameters": {"rope_type": "yarn", "factor": 4.0, "rope_theta": 10000.0,
                                                 "original_max_position_embeddings": 8}}, [seq], seed=21)
    write_case("rope_llama3", {"rope_parameters": {"rope_type": "llama3", "factor": 8.0, "rope_theta": 500000.0,
                                                   "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                                   "original_max_position_embeddings": 16}}, [seq], seed=22)
    padded = [[0, 0, 0] + distinct(9, 9), distinct(12, 10), [0] * 6 + distinct(6, 11)]
    mask = [[0, 0, 0] + [1] * 9, [1] * 12, [0] * 6 + [1] * 6]
    write_case("left_padding_batch", {"pad_token_id": 0}, padded, mask, seed=23,
               compare_rows=[[0] * 3 + [1] * 9, [1] * 12, [0] * 6 + [1] * 6])
    write_case("left_padding_keep_window", {"pad_token_id": 0, "keep_window_size": 4}, padded, mask, seed=24,
               compare_rows=[[0] * 3 + [1] * 9, [1] * 12, [0] * 6 + [1] * 6])
    write_case("sliding_window", {"sliding_window": 4}, [distinct(12, 12)], seed=25)
    write_case("remote_code_layout", {}, [seq], seed=26, remote=True, rope_spelling="theta+scaling")
    write_case("remote_code_keep_window", {"keep_window_size": 5}, [distinct(16, 13)], seed=27, remote=True,
               rope_spelling="theta+scaling")
    write_case("sharded", {"tie_word_embeddings": True}, [seq], seed=28, shards=3)
    write_case("head_dim_explicit", {"head_dim": 12}, [seq], seed=29)
    write_case("sequence_classification", {"pad_token_id": 0, "num_labels": 3},
               [distinct(8, 14) + [0, 0], [0, 0] + distinct(8, 15)], [[1] * 8 + [0, 0], [0, 0] + [1] * 8],
               seed=30, classifier=True)
    with open(os.path.join(OUT, "VERSIONS.txt"), "w") as f:
        f.write(f"torch {torch.__version__}\ntransformers {transformers.__version__}\n")


if __name__ == "__main__":
    main()
