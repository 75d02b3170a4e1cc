"""PyTorch + transformers reference throughput for Doge model shapes on this machine.

Random weights: speed does not depend on weight values. Prints one JSON line.
  python3 scripts/bench/torch_baseline.py SIZE MODE [--threads N]
  SIZE: doge-20m | doge-60m | doge-160m      MODE: decode | prefill | train
decode : batch 1, 16-token prompt, 128 greedy tokens with the KV cache -> decode_tok_s
prefill: one forward over 512 tokens, logits of the last position only -> prefill_tok_s
train  : AdamW step on batch 4 x 256 tokens, loss = causal LM loss  -> train_tok_s
Each figure is the median over repeated timed runs after warm-up (decode 5, prefill 20, train 5).
Needs: pip install torch transformers (transformers >= 4.57 has Doge built in).
"""
import argparse, json, statistics, time
import torch
from transformers import DogeConfig, DogeForCausalLM

SIZES = {
    "doge-20m": dict(hidden_size=256, intermediate_size=512, num_hidden_layers=8, num_attention_heads=2, num_key_value_heads=1),
    "doge-60m": dict(hidden_size=512, intermediate_size=1024, num_hidden_layers=16, num_attention_heads=4, num_key_value_heads=2),
    "doge-160m": dict(hidden_size=768, intermediate_size=1536, num_hidden_layers=24, num_attention_heads=6, num_key_value_heads=3),
}

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("size", choices=SIZES)
    ap.add_argument("mode", choices=["decode", "prefill", "train"])
    ap.add_argument("--threads", type=int, default=None)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    cfg = DogeConfig(vocab_size=32768, max_position_embeddings=2048, keep_window_size=2048,
                     tie_word_embeddings=True, **SIZES[a.size])
    model = DogeForCausalLM(cfg).eval()
    out = {"size": a.size, "mode": a.mode, "params": sum(p.numel() for p in model.parameters()),
           "threads": torch.get_num_threads(), "torch": torch.__version__}
    if a.mode == "decode":
        ids = torch.randint(0, cfg.vocab_size, (1, 16))
        with torch.no_grad():
            model.generate(ids, max_new_tokens=8, min_new_tokens=8, do_sample=False)
            times = []
            for _ in range(5):
                t = time.perf_counter()
                o = model.generate(ids, max_new_tokens=128, min_new_tokens=128, do_sample=False)
                times.append(time.perf_counter() - t)
        out["decode_tok_s"] = round((o.shape[1] - ids.shape[1]) / statistics.median(times), 1)
    elif a.mode == "prefill":
        ids = torch.randint(0, cfg.vocab_size, (1, 512))
        with torch.no_grad():
            for _ in range(3):
                model(ids, logits_to_keep=1)
            times = []
            for _ in range(20):
                t = time.perf_counter()
                model(ids, logits_to_keep=1)
                times.append(time.perf_counter() - t)
        out["prefill_tok_s"] = round(512 / statistics.median(times), 1)
    else:
        model.train()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.01)
        ids = torch.randint(0, cfg.vocab_size, (4, 256))
        def step():
            loss = model(ids, labels=ids).loss
            loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
        step()
        times = []
        for _ in range(5):
            t = time.perf_counter()
            step()
            times.append(time.perf_counter() - t)
        out["train_tok_s"] = round(ids.numel() / statistics.median(times), 1)
    print(json.dumps(out))

if __name__ == "__main__":
    main()
