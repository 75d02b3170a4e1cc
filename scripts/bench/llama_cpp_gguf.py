"""A Llama-architecture GGUF with the shapes of a Doge benchmark size (random float32 weights), so
that llama.cpp's `llama-bench` can run the same decode/prefill workload on this machine. The issue
quotes llama.cpp with F32 weights on these shapes "as a Llama model"; Doge adds only the small
dt_proj and A per layer, so llama.cpp reads slightly fewer bytes per token than Doge does.

    pip install gguf numpy
    python3 scripts/bench/llama_cpp_gguf.py doge-60m /tmp/doge-60m-f32.gguf
    llama-bench -m /tmp/doge-60m-f32.gguf -t 2 -p 0 -n 128     # decode (tg128), batch 1
    llama-bench -m /tmp/doge-60m-f32.gguf -t 2 -p 512 -n 0     # prefill (pp512)

llama-bench comes with any llama.cpp build (`cmake -B build && cmake --build build --target
llama-bench`); the llama-cpp-python sdist on PyPI carries the sources in vendor/llama.cpp.
"""
import sys

import gguf
import numpy as np

# The shapes of scripts/bench/torch_baseline.py (vocab 32768, tied embeddings).
SIZES = {
    "doge-20m": dict(hidden=256, intermediate=512, layers=8, heads=2, kv_heads=1),
    "doge-60m": dict(hidden=512, intermediate=1024, layers=16, heads=4, kv_heads=2),
    "doge-160m": dict(hidden=768, intermediate=1536, layers=24, heads=6, kv_heads=3),
}
VOCAB = 32768


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in SIZES:
        sys.exit(f"usage: {sys.argv[0]} {{{'|'.join(SIZES)}}} OUT.gguf")
    s = SIZES[sys.argv[1]]
    H, I, L, heads, kv = s["hidden"], s["intermediate"], s["layers"], s["heads"], s["kv_heads"]
    head_dim = H // heads
    rng = np.random.default_rng(0)

    def normal(*shape):
        return (rng.standard_normal(shape, dtype=np.float32) * 0.02).astype(np.float32)

    w = gguf.GGUFWriter(sys.argv[2], "llama")
    w.add_name(sys.argv[1] + "-as-llama")
    w.add_context_length(2048)
    w.add_embedding_length(H)
    w.add_block_count(L)
    w.add_feed_forward_length(I)
    w.add_head_count(heads)
    w.add_head_count_kv(kv)
    w.add_rope_dimension_count(head_dim)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    # A sentencepiece-style vocabulary: control tokens, the 256 byte tokens, then fillers.
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL] + [gguf.TokenType.BYTE] * 256
    tokens += [f"\u2581t{i}" for i in range(VOCAB - len(tokens))]
    types += [gguf.TokenType.NORMAL] * (VOCAB - len(types))
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores([0.0] * VOCAB)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)

    w.add_tensor("token_embd.weight", normal(VOCAB, H))   # tied: no output.weight
    w.add_tensor("output_norm.weight", np.ones(H, dtype=np.float32))
    for i in range(L):
        p = f"blk.{i}."
        w.add_tensor(p + "attn_norm.weight", np.ones(H, dtype=np.float32))
        w.add_tensor(p + "attn_q.weight", normal(heads * head_dim, H))
        w.add_tensor(p + "attn_k.weight", normal(kv * head_dim, H))
        w.add_tensor(p + "attn_v.weight", normal(kv * head_dim, H))
        w.add_tensor(p + "attn_output.weight", normal(H, heads * head_dim))
        w.add_tensor(p + "ffn_norm.weight", np.ones(H, dtype=np.float32))
        w.add_tensor(p + "ffn_gate.weight", normal(I, H))
        w.add_tensor(p + "ffn_up.weight", normal(I, H))
        w.add_tensor(p + "ffn_down.weight", normal(H, I))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"wrote {sys.argv[2]}: {sys.argv[1]} shapes as a Llama model, float32")


if __name__ == "__main__":
    main()
