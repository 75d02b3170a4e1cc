"""Per-step goldens from TRL's own trainers (SFTTrainer, DPOTrainer) on a tiny random Doge.

    pip install torch transformers trl tokenizers safetensors datasets
    python3 scripts/post_training_fixtures/make_trl_fixtures.py

Writes Tests/DogePostTrainingTests/Fixtures/:
  init/                 tiny Doge (float32, random A/norms/residuals) + a byte-level BPE tokenizer trained here
                        with a Llama-3 style chat template (eos <|eot_id|>, no pad token: pad = eos)
  <case>/data.jsonl     the rows; <case>/recipe.yaml the TRL recipe `doge sft|dpo` runs (paths relative)
  <case>/expected.json  TRL's logged loss (and DPO reward metrics) of every step, versions used
Cases: sft_prompt_completion (completion-only loss, GA 2), sft_messages_packing (bfd, padding-free, 2 bins per
batch), dpo_sigmoid, dpo_ipo, grpo_dapo (TRL's default loss), grpo_beta_iterations (loss_type grpo, beta 0.04,
num_iterations 2, temperature 0.9), sft_assistant_only (assistant_only_loss with tokenizer_generation/, the same
tokenizer whose template marks assistant turns with {% generation %}).

GRPO's completions are injected (`rollout_func`, TRL's hook): each row carries `completion_ids`, one fixed id list
per generation (some without EOS: truncated), so sampling is not what is compared. The rewards are small-doge's
`accuracy` (exact match or equal numbers against `solution`, instead of math_verify) and `repetition_penalty`,
re-implemented below exactly as doge's built-ins.

What is pinned so that the comparison is exact:
  * bf16=False (TRL's BaseConfig turns bf16 on by default; everything here is float32), use_cpu, no dropout.
  * The data order: TRL's sampler is replaced by `doge`'s per-epoch SplitMix64 Fisher-Yates order (replicated
    below), so both see the same samples in each step; everything else is TRL's code path.
  * keep_window_size (2048) exceeds every sequence, so Doge's top-k key selection never cuts (no tie ambiguity).
  * router_aux_loss_coef 0: TRL 1.16 otherwise treats the dense Doge as MoE and fails in step 1.
"""
import json, os, random, shutil, sys
import torch
import transformers, trl, datasets
from transformers import DogeConfig, DogeForCausalLM, PreTrainedTokenizerFast, TrainerCallback
from tokenizers import Tokenizer, models, trainers, pre_tokenizers, decoders, processors
from trl import SFTConfig, SFTTrainer, DPOConfig, DPOTrainer, GRPOConfig, GRPOTrainer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "DogePostTrainingTests", "Fixtures")
M64 = (1 << 64) - 1
SEED = 42
VERSIONS = {"trl": trl.__version__, "transformers": transformers.__version__, "torch": torch.__version__,
            "datasets": datasets.__version__}

CHAT_TEMPLATE = ("{{ bos_token }}{% for message in messages %}<|start_header_id|>{{ message['role'] }}<|end_header_id|>\n\n"
                 "{{ message['content'] | trim }}<|eot_id|>{% endfor %}"
                 "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}")

# The same template with the assistant turns in {% generation %} blocks (for assistant_only_loss).
GENERATION_TEMPLATE = ("{{ bos_token }}{% for message in messages %}<|start_header_id|>{{ message['role'] }}<|end_header_id|>\n\n"
                       "{% if message['role'] == 'assistant' %}{% generation %}{{ message['content'] | trim }}<|eot_id|>"
                       "{% endgeneration %}{% else %}{{ message['content'] | trim }}<|eot_id|>{% endif %}{% endfor %}"
                       "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}")

WORDS = ("the a cat dog sun sky blue green red sea tree house runs sleeps eats jumps over under quickly slowly "
         "what where who why how is are was one two three four five six seven eight nine ten plus minus equals "
         "answer question yes no maybe hello thanks please good bad small big").split()


def epoch_order(n, seed, epoch):
    order = list(range(n))
    state = (seed + 0x5DEECE66D * (epoch + 1)) & M64
    for k in range(n - 1, 0, -1):
        state = (state + 0x9E3779B97F4A7C15) & M64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        j = (z ^ (z >> 31)) % (k + 1)
        order[k], order[j] = order[j], order[k]
    return order


class DogeOrder(torch.utils.data.Sampler):
    """doge's order: epoch e yields epoch_order(n, seed, e)."""
    def __init__(self, n, seed):
        self.n, self.seed, self.epoch = n, seed, 0

    def __len__(self):
        return self.n

    def __iter__(self):
        order = epoch_order(self.n, self.seed, self.epoch)
        self.epoch += 1
        return iter(order)


def with_doge_order(cls):
    class Ordered(cls):
        def _get_train_sampler(self, train_dataset=None):
            ds = train_dataset if train_dataset is not None else self.train_dataset
            return DogeOrder(len(ds), self.args.seed)
    return Ordered


class Record(TrainerCallback):
    def __init__(self):
        self.steps = []

    def on_log(self, args, state, control, logs=None, **kw):
        if logs and "loss" in logs:
            self.steps.append({"step": state.global_step, **{k: v for k, v in logs.items() if isinstance(v, (int, float))}})


def sentence(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def make_init():
    rng = random.Random(1)
    corpus = [sentence(rng, 12) for _ in range(400)]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
    tok.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=320, special_tokens=specials,
                                                         initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.TemplateProcessing(single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A $B",
                                                       special_tokens=[("<|begin_of_text|>", bos)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|begin_of_text|>", eos_token="<|eot_id|>")
    fast.chat_template = CHAT_TEMPLATE
    d = os.path.join(ROOT, "init")
    shutil.rmtree(d, ignore_errors=True)
    cfg = DogeConfig(vocab_size=len(fast), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                     num_key_value_heads=1, max_position_embeddings=256, tie_word_embeddings=True,
                     bos_token_id=bos, eos_token_id=fast.eos_token_id, pad_token_id=None,
                     router_aux_loss_coef=0.0, output_router_logits=False)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(5)
    model = DogeForCausalLM(cfg).float()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".A"):
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)
            elif "norm" in name or "residual" in name:
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=g))
    model.save_pretrained(d, safe_serialization=True)
    fast.save_pretrained(d)
    gc = os.path.join(d, "generation_config.json")
    if os.path.exists(gc):
        os.remove(gc)
    fast.chat_template = GENERATION_TEMPLATE
    g_dir = os.path.join(ROOT, "tokenizer_generation")
    shutil.rmtree(g_dir, ignore_errors=True)
    fast.save_pretrained(g_dir)
    return d


def write_case(name, rows, recipe):
    d = os.path.join(ROOT, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "data.jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    with open(os.path.join(d, "recipe.yaml"), "w") as f:
        f.write(f"# TRL recipe of the {name} fixture (paths relative to this file's directory)\n")
        f.write("model_name_or_path: ../init\ndatasets_and_ratios:\n  - \"data.jsonl\": 1.0\n")
        for k, v in recipe.items():
            f.write(f"{k}: {json.dumps(v)}\n")
    return d


COMMON = dict(seed=SEED, learning_rate=1e-3, lr_scheduler_type="linear", warmup_steps=2, weight_decay=0.01,
              adam_beta1=0.9, adam_beta2=0.999, adam_epsilon=1e-8, max_grad_norm=1.0, logging_steps=1)
TRL_ONLY = dict(bf16=False, use_cpu=True, report_to=[], save_strategy="no", gradient_checkpointing=False,
                dataloader_num_workers=0, disable_tqdm=True)


def accuracy(completions, solution, **kw):
    out = []
    for c, gold in zip(completions, solution):
        text = (c[0]["content"] if isinstance(c, list) else c).strip()
        g = str(gold).strip()
        ok = text == g
        if not ok:
            try:
                ok = float(text.replace(",", "")) == float(g.replace(",", ""))
            except ValueError:
                ok = False
        out.append(1.0 if ok else 0.0)
    return out


def repetition_penalty(completions, **kw):
    out = []
    for c in completions:
        words = (c[0]["content"] if isinstance(c, list) else c).lower().split()
        if len(words) < 3:
            out.append(0.0)
            continue
        grams = [" ".join(words[i:i + 3]) for i in range(len(words) - 2)]
        out.append((1 - len(set(grams)) / len(grams)) * -1.0)
    return out


def with_grpo_order(cls, G, per_batch, iterations):
    """TRL's RepeatSampler structure (each prompt G times, each batch num_iterations times) over doge's order."""
    class Sampler(torch.utils.data.Sampler):
        def __init__(self, n, seed):
            self.n, self.seed, self.epoch = n, seed, 0

        def __len__(self):
            return (self.n // per_batch) * per_batch * G * iterations

        def __iter__(self):
            order = epoch_order(self.n, self.seed, self.epoch)
            self.epoch += 1
            for start in range(0, self.n - per_batch + 1, per_batch):
                chunk = order[start:start + per_batch]
                for _ in range(iterations):
                    for idx in chunk:
                        for _ in range(G):
                            yield idx

    class Ordered(cls):
        def _get_train_sampler(self, train_dataset=None):
            ds = train_dataset if train_dataset is not None else self.train_dataset
            return Sampler(len(ds), self.args.seed)
    return Ordered


def run_grpo(name, rows, recipe, init):
    d = write_case(name, rows, {**COMMON, **recipe, "reward_funcs": ["accuracy", "repetition_penalty"]})
    tok = PreTrainedTokenizerFast.from_pretrained(init)
    model = DogeForCausalLM.from_pretrained(init, torch_dtype=torch.float32)
    fixed = {json.dumps(r["prompt"]): r["completion_ids"] for r in rows}

    def rollout(prompts, trainer):
        seen, prompt_ids, completion_ids = {}, [], []
        for p in prompts:
            key = json.dumps(p)
            j = seen.get(key, 0)
            seen[key] = j + 1
            text = tok.apply_chat_template(p, add_generation_prompt=True, tokenize=False)
            prompt_ids.append(tok(text, add_special_tokens=False)["input_ids"])
            completion_ids.append(fixed[key][j % len(fixed[key])])
        return {"prompt_ids": prompt_ids, "completion_ids": completion_ids, "logprobs": None}

    G, bs, mu = recipe["num_generations"], recipe["per_device_train_batch_size"], recipe.get("num_iterations", 1)
    rec = Record()
    args = GRPOConfig(output_dir=os.path.join("/tmp", "trl_fixture_" + name), **COMMON, **TRL_ONLY, **recipe)
    trainer = with_grpo_order(GRPOTrainer, G, bs // G, mu)(
        model=model, reward_funcs=[accuracy, repetition_penalty], args=args,
        train_dataset=datasets.Dataset.from_list(rows), processing_class=tok, callbacks=[rec], rollout_func=rollout)
    trainer.train()
    with open(os.path.join(d, "expected.json"), "w") as f:
        json.dump({"versions": VERSIONS, "samples": len(rows), "steps": rec.steps}, f, indent=1)
    print(name, len(rows), "prompts;", [round(s["loss"], 6) for s in rec.steps])


def run(kind, name, rows, recipe, init, tokenizer=None):
    d = write_case(name, rows, {**COMMON, **recipe, **({"tokenizer_name_or_path": "../" + tokenizer} if tokenizer else {})})
    ds = datasets.Dataset.from_list(rows)
    tok = PreTrainedTokenizerFast.from_pretrained(os.path.join(ROOT, tokenizer) if tokenizer else init)
    model = DogeForCausalLM.from_pretrained(init, torch_dtype=torch.float32)
    rec = Record()
    out = os.path.join("/tmp", "trl_fixture_" + name)
    if kind == "sft":
        args = SFTConfig(output_dir=out, **COMMON, **TRL_ONLY, **recipe)
        trainer = with_doge_order(SFTTrainer)(model=model, args=args, train_dataset=ds, processing_class=tok, callbacks=[rec])
    else:
        args = DPOConfig(output_dir=out, **COMMON, **TRL_ONLY, **recipe)
        trainer = with_doge_order(DPOTrainer)(model=model, args=args, train_dataset=ds, processing_class=tok, callbacks=[rec])
    trainer.train()
    samples = len(trainer.train_dataset)
    with open(os.path.join(d, "expected.json"), "w") as f:
        json.dump({"versions": VERSIONS, "samples": samples, "steps": rec.steps}, f, indent=1)
    print(name, samples, "samples;", [round(s["loss"], 5) for s in rec.steps])


def main():
    init = make_init()
    rng = random.Random(7)
    # SFT prompt/completion (conversational), completion-only loss (TRL's default for these rows), GA 2.
    pc = [{"prompt": [{"role": "user", "content": sentence(rng, rng.randint(3, 9)) + "?"}],
           "completion": [{"role": "assistant", "content": sentence(rng, rng.randint(2, 12)) + "."}]} for _ in range(16)]
    run("sft", "sft_prompt_completion", pc,
        dict(max_steps=12, per_device_train_batch_size=2, gradient_accumulation_steps=2, max_length=48), init)
    # SFT messages with bfd packing (padding-free; 2 bins per batch), loss on the whole conversation.
    msgs = []
    for _ in range(30):
        turns = [{"role": "system", "content": sentence(rng, 3)}] if rng.random() < 0.3 else []
        for _ in range(rng.randint(1, 2)):
            turns += [{"role": "user", "content": sentence(rng, rng.randint(2, 8))},
                      {"role": "assistant", "content": sentence(rng, rng.randint(2, 10))}]
        msgs.append({"messages": turns})
    run("sft", "sft_messages_packing", msgs,
        dict(max_steps=12, per_device_train_batch_size=2, gradient_accumulation_steps=1, max_length=96, packing=True), init)
    # SFT messages, loss on the assistant turns only ({% generation %} template), no packing.
    assistant_case(init)
    # DPO pairs (conversational, explicit prompt).
    pairs = []
    for _ in range(16):
        p = [{"role": "user", "content": sentence(rng, rng.randint(3, 8)) + "?"}]
        c = sentence(rng, rng.randint(2, 9))
        r = sentence(rng, rng.randint(2, 9))
        while r == c:
            r = sentence(rng, rng.randint(2, 9))
        pairs.append({"prompt": p, "chosen": [{"role": "assistant", "content": c}],
                      "rejected": [{"role": "assistant", "content": r}]})
    run("dpo", "dpo_sigmoid", pairs, dict(max_steps=12, per_device_train_batch_size=4, gradient_accumulation_steps=1,
                                           max_length=64, beta=0.1, loss_type=["sigmoid"]), init)
    run("dpo", "dpo_ipo", pairs, dict(max_steps=12, per_device_train_batch_size=4, gradient_accumulation_steps=1,
                                       max_length=64, beta=0.1, loss_type=["ipo"]), init)


def grpo_cases(init):
    tok = PreTrainedTokenizerFast.from_pretrained(init)
    eos = tok.eos_token_id
    rng = random.Random(11)
    rows = []
    for i in range(8):
        solution = rng.choice(["blue", "seven", "yes", "4"])
        comps = []
        for g in range(4):
            kind = rng.random()
            if kind < 0.3:
                text = solution
            elif kind < 0.5:
                w = rng.choice(WORDS)
                text = " ".join([w, "the", w, "the", w, "the"])
            else:
                text = sentence(rng, rng.randint(1, 6))
            ids = tok(text, add_special_tokens=False)["input_ids"][:14]
            if rng.random() < 0.8:
                ids = ids + [eos]
            comps.append(ids)
        rows.append({"prompt": [{"role": "user", "content": sentence(rng, rng.randint(3, 7)) + "?"}],
                     "solution": solution, "completion_ids": comps})
    run_grpo("grpo_dapo", rows, dict(max_steps=12, per_device_train_batch_size=8, gradient_accumulation_steps=1,
                                     num_generations=4, max_completion_length=16), init)
    run_grpo("grpo_beta_iterations", rows, dict(max_steps=12, per_device_train_batch_size=8, gradient_accumulation_steps=1,
                                                num_generations=4, max_completion_length=16, loss_type="grpo", beta=0.04,
                                                num_iterations=2, temperature=0.9), init)


def assistant_case(init):
    rng = random.Random(7)
    msgs = []
    for _ in range(30):
        turns = [{"role": "system", "content": sentence(rng, 3)}] if rng.random() < 0.3 else []
        for _ in range(rng.randint(1, 2)):
            turns += [{"role": "user", "content": sentence(rng, rng.randint(2, 8))},
                      {"role": "assistant", "content": sentence(rng, rng.randint(2, 10))}]
        msgs.append({"messages": turns})
    run("sft", "sft_assistant_only", msgs[:20],
        dict(max_steps=10, per_device_train_batch_size=2, gradient_accumulation_steps=1, max_length=96,
             assistant_only_loss=True), init, tokenizer="tokenizer_generation")


if __name__ == "__main__":
    if sys.argv[1:] == ["assistant"]:
        assistant_case(os.path.join(ROOT, "init"))
    elif sys.argv[1:] == ["grpo"]:
        grpo_cases(os.path.join(ROOT, "init"))
    else:
        main()
        grpo_cases(os.path.join(ROOT, "init"))
