#!/usr/bin/env python3
"""A random-weight checkpoint at Doge-20M shapes (hidden 256, intermediate 512, 8 layers, 2 heads,
1 KV head, vocab 32768 — the shapes of `doge bench doge-20m`), with the bundled model's tokenizer
files, for serving benchmarks (scripts/server/bench_clients.py --model DIR).

Token ids ≥ 4096 have no text in that tokenizer, so most of its output decodes to nothing: it
measures the engine at Doge-20M's cost, not text quality.

    python3 scripts/server/make_random_doge.py OUT_DIR
Ran with torch and transformers from PyPI (versions printed).
"""
import json
import os
import shutil
import sys

import torch
import transformers
from transformers import DogeConfig, DogeForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
out = sys.argv[1]
print("torch", torch.__version__, "transformers", transformers.__version__)
torch.manual_seed(0)
config = DogeConfig(vocab_size=32768, hidden_size=256, intermediate_size=512, num_hidden_layers=8,
                    num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=2048,
                    keep_window_size=2048, tie_word_embeddings=True, bos_token_id=0, eos_token_id=1, pad_token_id=1)
model = DogeForCausalLM(config).to(torch.float32)
model.save_pretrained(out, safe_serialization=True)
tiny = os.path.join(ROOT, "Models", "doge-tiny")
for name in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"]:
    shutil.copy(os.path.join(tiny, name), os.path.join(out, name))
print("wrote", out, sum(p.numel() for p in model.parameters()), "parameters")
