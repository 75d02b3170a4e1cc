"""SFT / DPO tokens per second and GRPO completions per second: `doge sft|dpo|grpo` against TRL's trainers.

    swift build -c release
    python3 scripts/bench/post_training_bench.py [--doge .build/release/doge] [--rounds 2] [--steps 6]

Doge-20M shapes (vocab 32768, hidden 256, intermediate 512, 8 layers, 2 heads, 1 KV head), random init, float32,
torch on 2 threads. The same rows, batch and recipe for both; the tokenizer is the post-training test tokenizer
(ids < 320, which does not change the cost). Per-step wall time is taken from each trainer's own step timing
(doge: metrics.jsonl `seconds`; TRL: a callback between on_step_begin and on_step_end); the first step (warm-up)
is dropped and the median taken. Runs alternate doge, TRL, doge, TRL …; each pair's ratio is printed.
SFT: 8 prompt/completion rows per step (batch 4, GA 2), ~200 tokens each, completion-only loss.
DPO: 4 pairs per step, ~120-token prompts and ~60-token completions, sigmoid.
GRPO: 2 prompts × 4 generations per step, 48 new tokens each (no EOS from a random model), dapo, beta 0.
"""
import argparse, json, os, random, shutil, statistics, subprocess, sys, tempfile, time
import torch
torch.set_num_threads(2)
import transformers, trl, datasets
from transformers import DogeConfig, DogeForCausalLM, PreTrainedTokenizerFast, TrainerCallback
from trl import SFTConfig, SFTTrainer, DPOConfig, DPOTrainer, GRPOConfig, GRPOTrainer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
TOK = os.path.join(ROOT, "Tests", "DogePostTrainingTests", "Fixtures", "init")
WORDS = "the a cat dog sun sky blue green red sea tree house runs sleeps eats jumps over under quickly slowly".split()


def sentence(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


class Timer(TrainerCallback):
    def __init__(self):
        self.times, self.t0 = [], None

    def on_step_begin(self, args, state, control, **kw):
        self.t0 = time.perf_counter()

    def on_step_end(self, args, state, control, **kw):
        self.times.append(time.perf_counter() - self.t0)


def make_model(d):
    cfg = DogeConfig(vocab_size=32768, hidden_size=256, intermediate_size=512, num_hidden_layers=8, num_attention_heads=2,
                     num_key_value_heads=1, max_position_embeddings=2048, tie_word_embeddings=True,
                     router_aux_loss_coef=0.0, output_router_logits=False, bos_token_id=None, eos_token_id=None)
    torch.manual_seed(0)
    DogeForCausalLM(cfg).float().save_pretrained(d)
    for f in os.listdir(TOK):
        if f.startswith("tokenizer") or f.endswith(".jinja"):
            shutil.copy(os.path.join(TOK, f), d)
    gc = os.path.join(d, "generation_config.json")
    if os.path.exists(gc):
        os.remove(gc)


def workloads(rng):
    sft = [{"prompt": [{"role": "user", "content": sentence(rng, 60)}],
            "completion": [{"role": "assistant", "content": sentence(rng, 90)}]} for _ in range(64)]
    dpo = [{"prompt": [{"role": "user", "content": sentence(rng, 70)}],
            "chosen": [{"role": "assistant", "content": sentence(rng, 35)}],
            "rejected": [{"role": "assistant", "content": sentence(rng, 35)}]} for _ in range(64)]
    grpo = [{"prompt": [{"role": "user", "content": sentence(rng, 20)}], "solution": "blue"} for _ in range(64)]
    return {"sft": sft, "dpo": dpo, "grpo": grpo}


COMMON = dict(learning_rate=1e-4, lr_scheduler_type="constant", logging_steps=1, seed=1, max_grad_norm=1.0)
RECIPES = {
    "sft": dict(per_device_train_batch_size=4, gradient_accumulation_steps=2, max_length=512),
    "dpo": dict(per_device_train_batch_size=4, gradient_accumulation_steps=1, max_length=512),
    "grpo": dict(per_device_train_batch_size=8, gradient_accumulation_steps=1, num_generations=4, max_completion_length=48,
                 temperature=1.0),
}


def accuracy(completions, solution, **kw):
    return [1.0 if c[0]["content"].strip() == s else 0.0 for c, s in zip(completions, solution)]


def run_trl(kind, model_dir, rows, steps):
    tok = PreTrainedTokenizerFast.from_pretrained(model_dir)
    model = DogeForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32)
    timer = Timer()
    common = dict(output_dir=tempfile.mkdtemp(), max_steps=steps, bf16=False, use_cpu=True, report_to=[], save_strategy="no",
                  gradient_checkpointing=False, disable_tqdm=True, **COMMON, **RECIPES[kind])
    ds = datasets.Dataset.from_list(rows)
    if kind == "sft":
        t = SFTTrainer(model=model, args=SFTConfig(**common), train_dataset=ds, processing_class=tok, callbacks=[timer])
    elif kind == "dpo":
        t = DPOTrainer(model=model, args=DPOConfig(**common), train_dataset=ds, processing_class=tok, callbacks=[timer])
    else:
        t = GRPOTrainer(model=model, reward_funcs=[accuracy], args=GRPOConfig(**common), train_dataset=ds,
                        processing_class=tok, callbacks=[timer])
    t.train()
    return timer.times[1:]


def run_doge(doge, kind, model_dir, rows, steps, tmp):
    data = os.path.join(tmp, f"{kind}.jsonl")
    with open(data, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    recipe = os.path.join(tmp, f"{kind}.yaml")
    extra = {"reward_funcs": ["accuracy"]} if kind == "grpo" else {}
    with open(recipe, "w") as f:
        for k, v in {**COMMON, **RECIPES[kind], **extra, "max_steps": steps, "model_name_or_path": model_dir,
                     "dataset_name": data, "output_dir": os.path.join(tmp, f"out_{kind}"), "save_strategy": "no"}.items():
            f.write(f"{k}: {json.dumps(v)}\n")
    shutil.rmtree(os.path.join(tmp, f"out_{kind}"), ignore_errors=True)
    subprocess.run([doge, kind, "--config", recipe], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    steps_ = [json.loads(l) for l in open(os.path.join(tmp, f"out_{kind}", "metrics.jsonl"))]
    cumulative = [s["tokens"] for s in steps_]
    return [s["seconds"] for s in steps_[1:]], [b - a for a, b in zip([0] + cumulative, cumulative)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--doge", default=os.path.join(ROOT, ".build", "release", "doge"))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--only", nargs="*", default=["sft", "dpo", "grpo"])
    a = ap.parse_args()
    print("trl", trl.__version__, "transformers", transformers.__version__, "torch", torch.__version__, "threads", torch.get_num_threads())
    print("load:", open("/proc/loadavg").read().strip())
    tmp = tempfile.mkdtemp()
    model_dir = os.path.join(tmp, "doge20m")
    make_model(model_dir)
    rows = workloads(random.Random(3))
    for kind in a.only:
        for r in range(a.rounds):
            ours, tokens = run_doge(a.doge, kind, model_dir, rows[kind], a.steps, tmp)
            theirs = run_trl(kind, model_dir, rows[kind], a.steps)
            per_step = statistics.median(tokens[1:]) if kind != "grpo" else RECIPES["grpo"]["per_device_train_batch_size"]
            unit = "tok/s" if kind != "grpo" else "completions/s"
            o, t = per_step / statistics.median(ours), per_step / statistics.median(theirs)
            print(f"{kind} round {r + 1}: doge {o:.1f} {unit}, TRL {t:.1f} {unit}, ratio {o / t:.2f}  "
                  f"(median step {statistics.median(ours):.3f}s vs {statistics.median(theirs):.3f}s; load {open('/proc/loadavg').read().split()[0]})")


if __name__ == "__main__":
    main()
