"""Greedy-generation fixtures for swift-doge, from transformers' own `generate`.

Each case under Tests/DogeGenerationTests/Fixtures/<case>/ holds a tiny random checkpoint
(config.json, model.safetensors), generation.json (prompt ids and mask, the generated ids,
which steps are tie-free) and steps.safetensors ("logits" [steps, batch, vocab]: the logits
transformers scored at each step, before any processing).

A step is tie-free when, in every layer and dt head, at every query so far, no two visible keys
share the dt value at the keep_window_size cutoff: there the kept set is implementation-defined
(doge-architecture.md, "Ties"). dt is captured inside generate itself (a hook on dt_proj), so it
is exactly what transformers used at each step.

Needs: pip install torch transformers safetensors
Run:   python3 scripts/model_fixtures/make_generation_fixtures.py [OUT_DIR]
"""
import json, os, shutil, sys

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from transformers import DogeConfig, DogeForCausalLM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import BASE, ROOT, distinct, randomise, remote_code_attention  # noqa: E402

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Tests", "DogeGenerationTests", "Fixtures")


def tie_at_cutoff(dt_row, visible, keep):
    """Equal, or within a few float32 ulps: transformers recomputes dt for the whole cache each
    step, and its matmul rounds identical rows differently in the last bit depending on their
    position, so near-equal values are ties too."""
    values = dt_row[visible]
    if values.numel() <= keep:
        return False
    top = torch.sort(values, descending=True).values
    return bool(abs(top[keep - 1] - top[keep]) <= 1e-6 * abs(top[keep - 1]))


def write_case(name, config_kwargs, prompts, mask=None, new_tokens=20, seed=0, remote=False, tie_free_seeds=0):
    """With tie_free_seeds > 0, tries that many seeds and keeps the first whose every step is
    tie-free, so the whole generation can be compared token for token and logit for logit."""
    for attempt in range(max(1, tie_free_seeds)):
        if generate_case(name, config_kwargs, prompts, mask, new_tokens, seed + 100 * attempt, remote,
                         require_tie_free=tie_free_seeds > 0 and attempt < tie_free_seeds - 1):
            return
    raise SystemExit(f"{name}: no tie-free seed found")


def generate_case(name, config_kwargs, prompts, mask, new_tokens, seed, remote, require_tie_free):
    torch.manual_seed(seed)
    cfg = DogeConfig(**{**BASE, **config_kwargs})
    cfg._attn_implementation = "eager"
    model = DogeForCausalLM(cfg).eval()
    if remote:
        for layer in model.model.layers:
            remote_code_attention(layer.self_attn, cfg)
    randomise(model, seed + 1)

    calls = []   # per generate step: [per layer dt [B, S, heads]]
    def hook(layer_index):
        def f(module, inputs, output):
            A = model.model.layers[layer_index].self_attn.A
            dt = torch.exp(A * F.softplus(output.detach()))
            if layer_index == 0:
                calls.append([])
            calls[-1].append(dt)
        return f
    for i, layer in enumerate(model.model.layers):
        layer.self_attn.dt_proj.register_forward_hook(hook(i))

    ids = torch.tensor(prompts)
    attention = torch.tensor(mask) if mask is not None else torch.ones_like(ids)
    with torch.no_grad():
        out = model.generate(ids, attention_mask=attention, max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                             do_sample=False, output_logits=True, return_dict_in_generate=True,
                             pad_token_id=cfg.pad_token_id if cfg.pad_token_id is not None else 0)
    logits = torch.stack(out.logits).float().contiguous()   # [steps, B, V]
    P = ids.shape[1]
    keep = cfg.keep_window_size
    tie_free, tied = [], False
    window_bounds_keys = cfg.sliding_window is not None and cfg.sliding_window <= keep
    for step, layers in enumerate(calls if not window_bounds_keys else []):
        queries = range(P) if step == 0 else [P - 1 + step]
        for dt in layers:
            B, S, heads = dt.shape
            for b in range(B):
                real = torch.cat([attention[b], torch.ones(S - P, dtype=attention.dtype)])[:S].bool()
                for q in queries:
                    if not real[q]:
                        continue
                    visible = real.clone()
                    visible[q + 1:] = False
                    if any(tie_at_cutoff(dt[b, :, h], visible, keep) for h in range(heads)):
                        tied = True
        tie_free.append(not tied)
    if window_bounds_keys:   # never more than keep_window_size visible keys: no cutoff at all
        tie_free = [True] * len(calls)
    if require_tie_free and not all(tie_free):
        return False

    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(d, "model.safetensors"),
              metadata={"format": "pt"})
    config = json.loads(cfg.to_json_string())
    if remote:
        rope = config.pop("rope_parameters")
        config["rope_theta"] = rope["rope_theta"]
        config["rope_scaling"] = None if rope["rope_type"] == "default" else rope
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    save_file({"logits": logits}, os.path.join(d, "steps.safetensors"))
    with open(os.path.join(d, "generation.json"), "w") as f:
        json.dump({"prompt_ids": prompts, "attention_mask": mask, "max_new_tokens": new_tokens,
                   "generated_ids": out.sequences[:, P:].tolist(), "tie_free": tie_free}, f)
    print(f"{name}: seed {seed}, generated {out.sequences.shape[1] - P} tokens, tie-free steps {sum(tie_free)}/{len(tie_free)}")
    return True


def main():
    os.makedirs(OUT, exist_ok=True)
    write_case("dense", {}, [distinct(8, 31)], new_tokens=24, seed=40)
    write_case("cdmoe", {"is_moe": True, "num_experts": 64, "num_experts_per_tok": 6}, [distinct(10, 32)], seed=41)
    # Every step tie-free: identical tokens and logits all the way through the window.
    write_case("keep_window", {"keep_window_size": 6, "vocab_size": 512}, [distinct(5, 33)], new_tokens=24, seed=42,
               tie_free_seeds=60)
    write_case("keep_window_long_prompt", {"keep_window_size": 6}, [distinct(12, 34)], new_tokens=16, seed=43,
               tie_free_seeds=60)
    write_case("cdmoe_keep_window", {"is_moe": True, "num_experts": 36, "num_experts_per_tok": 4,
                                     "keep_window_size": 7}, [distinct(9, 35)], new_tokens=24, seed=44,
               tie_free_seeds=60)
    # Ties allowed: tokens are compared up to the first tie, logits on tie-free steps.
    write_case("keep_window_with_ties", {"keep_window_size": 6}, [distinct(5, 33)], new_tokens=30, seed=42)
    write_case("dynamic_rope", {"max_position_embeddings": 16,
                                "rope_parameters": {"rope_type": "dynamic", "factor": 2.0, "rope_theta": 10000.0}},
               [distinct(10, 36)], new_tokens=20, seed=45)
    write_case("left_padding_batch", {"pad_token_id": 0},
               [[0, 0, 0] + distinct(5, 37), distinct(8, 38)], [[0, 0, 0] + [1] * 5, [1] * 8], new_tokens=12, seed=46)
    write_case("remote_code_keep_window", {"keep_window_size": 6, "vocab_size": 512}, [distinct(9, 39)],
               new_tokens=20, seed=47, remote=True, tie_free_seeds=60)
    write_case("sliding_window", {"sliding_window": 5}, [distinct(7, 40)], new_tokens=16, seed=48)


if __name__ == "__main__":
    main()
