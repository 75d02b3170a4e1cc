"""transformers' side of `doge bench SIZE prefill-long`: one forward over long prompts.

Same shapes and config as torch_baseline.py (vocab 32768, keep_window_size 2048, tied embeddings,
random weights) and, as the doge side, A drawn from N(0, 1) so dt varies per key. Logits of the
last position only; the median of --runs timed calls after a 256-token warm-up. Prints one JSON
line with prefill_s_at_N, cpu_s_at_N (process CPU time: on a loaded machine it shows how much
of the wall time the benchmark ran) and peak_rss_mb_at_N.
  python3 scripts/bench/torch_prefill_long.py SIZE [--lengths 2048,4096,8192,16384] [--runs 3]
                                                   [--attn sdpa|eager] [--threads N]
transformers' Dynamic Mask Attention builds a [batch, heads, T, T] mask and takes a top-k over
every row, so its time and memory grow as T².
Ran with torch 2.15.0, transformers 5.24.0 (pip install torch transformers).
"""
import argparse, json, resource, statistics, sys, time
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
    ap.add_argument("--lengths", default="2048,4096,8192,16384")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--attn", default=None, help="attn_implementation (default: transformers' choice)")
    ap.add_argument("--threads", type=int, default=None)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    cfg = DogeConfig(vocab_size=32768, max_position_embeddings=2048, keep_window_size=2048,
                     tie_word_embeddings=True, **SIZES[a.size])
    if a.attn:
        cfg._attn_implementation = a.attn
    model = DogeForCausalLM(cfg).eval()
    with torch.no_grad():
        for layer in model.model.layers:
            layer.self_attn.A.normal_()
    lengths = [int(x) for x in a.lengths.split(",")]
    out = {"size": a.size, "mode": "prefill-long", "threads": torch.get_num_threads(), "torch": torch.__version__,
           "attn_implementation": model.config._attn_implementation}
    ids = torch.randint(0, cfg.vocab_size, (1, max(lengths)))
    times = {}
    with torch.no_grad():
        model(ids[:, :256], logits_to_keep=1)
        for n in lengths:
            runs, cpu = [], []
            for _ in range(a.runs):
                t, c = time.perf_counter(), time.process_time()
                model(ids[:, :n], logits_to_keep=1)
                runs.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
            times[n] = statistics.median(runs)
            out[f"prefill_s_at_{n}"] = round(times[n], 3)
            out[f"cpu_s_at_{n}"] = round(statistics.median(cpu), 3)
            out[f"peak_rss_mb_at_{n}"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
            print(f"{n} tokens: {times[n]:.3f} s", file=sys.stderr, flush=True)   # long runs: show progress
    out[f"time_ratio_{lengths[-1]}_over_{lengths[0]}"] = round(times[lengths[-1]] / times[lengths[0]], 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
