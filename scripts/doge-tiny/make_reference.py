"""What transformers computes with the bundled model Models/doge-tiny, for the test that checks
swift-doge computes the same (Tests/DogeGenerationTests/BundledModelTests.swift).

For each prompt: the token ids of HF `tokenizers` (via AutoTokenizer), the greedy continuation of
transformers' `generate` (32 new tokens, float32), and at every step the 8 largest logits with
their ids (the whole vocabulary per step would be 16 KB of JSON each).

Needs: pip install torch transformers safetensors
Run:   python3 scripts/doge-tiny/make_reference.py   (writes Tests/DogeGenerationTests/Fixtures/doge-tiny-reference.json)
"""
import json, os

import torch
from transformers import AutoTokenizer, DogeForCausalLM, GenerationConfig

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "Models", "doge-tiny")
OUT = os.path.join(ROOT, "Tests", "DogeGenerationTests", "Fixtures", "doge-tiny-reference.json")
PROMPTS = [
    "Once upon a time",
    "It is a truth universally acknowledged, that",
    "And God said,",
    "The cat sat on the mat. The dog",
    "O Romeo, Romeo! wherefore art thou",
]
NEW_TOKENS = 32

tokenizer = AutoTokenizer.from_pretrained(MODEL)
model = DogeForCausalLM.from_pretrained(MODEL, torch_dtype=torch.float32).eval()
cases = []
for text in PROMPTS:
    ids = tokenizer(text, return_tensors="pt").input_ids
    with torch.no_grad():
        # Plain greedy, not the sampling settings of the model's generation_config.json.
        greedy = GenerationConfig(do_sample=False, max_new_tokens=NEW_TOKENS, eos_token_id=1, pad_token_id=1,
                                  repetition_penalty=1.0, temperature=1.0, top_p=1.0,
                                  output_logits=True, return_dict_in_generate=True)
        out = model.generate(ids, generation_config=greedy)
    steps = []
    for logits in out.logits:
        values, indices = torch.topk(logits[0].float(), 8)
        steps.append([[int(i), float(v)] for i, v in zip(indices, values)])
    cases.append({"text": text, "prompt_ids": ids[0].tolist(), "generated_ids": out.sequences[0, ids.shape[1]:].tolist(),
                  "top_logits": steps})
with open(OUT, "w") as f:
    json.dump({"model": "Models/doge-tiny", "new_tokens": NEW_TOKENS, "cases": cases}, f, indent=1)
print(f"wrote {OUT}")
