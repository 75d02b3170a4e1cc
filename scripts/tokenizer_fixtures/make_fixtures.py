#!/usr/bin/env python3
"""Builds the DogeTokenizers test fixtures with Hugging Face `tokenizers` itself.

Requirements (the versions the committed fixtures were made with):
    pip install tokenizers==0.23.3        # Python 3.11.7
    pip install transformers==5.23.0 jinja2==3.1.6   # only for the chat-template fixtures

Usage:
    python3 scripts/tokenizer_fixtures/make_fixtures.py [OUT_DIR]
        (default OUT_DIR: Tests/DogeTokenizersTests/Fixtures)

Every tokenizer is trained (small vocabularies keep the JSON small) or assembled from
parts with the `tokenizers` API, then saved as `<name>/tokenizer.json`, and its answers
for every string in `cases.json` are recorded in `<name>/expected.json`:
    ids            encode(text, add_special_tokens=True).ids
    ids_plain      encode(text, add_special_tokens=False).ids   (absent when equal to ids)
    decoded        decode(ids, skip_special_tokens=False)       (absent when equal to the text)
    decoded_skip   decode(ids, skip_special_tokens=True)        (absent when equal to decoded)
Long runs of one id are written as [id, -count] pairs inside the id lists to keep files small.
The Swift tests load these files; they never run Python.
"""
import json
import os
import sys
import unicodedata

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers
from tokenizers import pre_tokenizers as pre
from tokenizers import processors, trainers

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "Tests/DogeTokenizersTests/Fixtures")

LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
QWEN_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)


def training_corpus():
    """Vim's English help files (on this machine) plus the multilingual test strings."""
    lines = []
    doc = "/usr/share/vim/vim90/doc"
    if os.path.isdir(doc):
        for name in sorted(os.listdir(doc))[:12]:
            with open(os.path.join(doc, name), encoding="utf-8", errors="replace") as f:
                lines.extend(f.read().splitlines())
    lines.extend(MULTILINGUAL * 20)
    return lines


MULTILINGUAL = [
    "The quick brown fox jumps over the lazy dog.",
    "I'm sure you're right, they'll see what we've done; it's Bob's.",
    "def main():\n    print('hello, world')\n    return 0\n",
    "for (int i = 0; i < 10; ++i) { sum += a[i] * b[i]; }",
    "日本語のテキストを分割します。東京は大きい都市です。",
    "中文分词测试：我爱自然语言处理。",
    "한국어 문장도 포함합니다.",
    "مرحبا بالعالم، هذه جملة عربية.",
    "Привет, мир! Это русский текст.",
    "Ελληνικά γράμματα και τόνοι.",
    "Café naïve façade résumé coöperate Ångström.",
    "emoji 😀😃😄 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈",
    "numbers 1234567890 3.14159 1,000,000 2024-01-31",
]

SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", "<s>", "</s>", "<unk>", "[MASK]", "<|endoftext|>"]


def test_strings():
    s = [
        "", " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n ", "\t\t\tx", "a", "A", "ab", "hello",
        "Hello world", " Hello world", "Hello  world", "Hello   world  ", "hello\nworld", "hello\n\nworld",
        "hello \n world", "line1\r\nline2\r\n", "trailing space ", "  leading", "tabs\tand\tspaces  mixed \t ",
        "The quick brown fox jumps over the lazy dog.",
        "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG!",
        "I'm", "I'M", "you're", "you'Re", "YOU'RE", "we've", "WE'VE", "they'll", "THEY'LL", "she'd", "It's",
        "IT'S", "don't", "DON'T", "Don'T", "'s", "'S", "''", "'", "rock 'n' roll", "o'clock", "'tis",
        "1", "12", "123", "1234", "12345", "1234567", "3.14159", "1,000,000", "-42", "+7", "0x1F", "1e-9",
        "2024-01-31T12:34:56Z", "$100.00", "50%", "٣٤٥ Arabic-Indic digits", "१२३ Devanagari digits", "Ⅻ roman",
        "½ ¾ ²³", "①②③",
        "def f(x):\n    return x * 2\n", "    indented\n        more\n", "if (a && b || !c) { return; }",
        "x = [1, 2, 3]; y = {'a': 1}", "<html><body>Hi</body></html>", "https://example.com/path?q=1&r=2",
        "user@example.com", "C:\\Windows\\System32", "#include <stdio.h>", "// comment\n/* block */",
        "a\u00a0b", "a\u2003b", "a\u3000b", "a\u200bb", "a\u2028b", "a\u0085b", "\u00a0lead", "trail\u00a0",
        "日本語", "日本語のテキスト", "東京", "中文测试", "我爱你", "한국어", "안녕하세요",
        "مرحبا", "مرحبا بالعالم", "שלום עולם", "Привет мир", "ПРИВЕТ", "Ελληνικά", "ΣΊΣΥΦΟΣ", "हिन्दी", "ไทย",
        "😀", "😀😃", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "❤️", "a😀b", " 😀 ", "🇯🇵🇺🇸", "👩🏽‍💻",
        "e\u0301", "\u00e9", "café", "cafe\u0301", "Cafe\u0301", "n\u0303", "\u1e9b\u0323", "Å", "Å", "Ω", "Ω",
        "ﬁ ligature", "ﬃ", "Ｆｕｌｌｗｉｄｔｈ", "㍿", "™", "①", "x²", "Straße", "İstanbul", "ǅ", "ß",
        "z\u0335\u0322a\u0337\u0317l\u0334g\u0336o\u0338", "a\u0300\u0301\u0302\u0303",
        "\x00", "\x01\x02", "a\x07b", "\x7f", "\x1b[31mred\x1b[0m", "\ufeffBOM", "\ufffd", "\U0010ffff",
        "\u2581", "\u2581\u2581", "▁hello", "a▁b", "Ġ", "Ċ", "ĠĠ",
        "<|begin_of_text|>", "<|begin_of_text|>Hello", "Hello<|end_of_text|>", "<|eot_id|><|eot_id|>",
        "Hi <|eot_id|> there", "Hi<|eot_id|>there", "<s>", "</s>", "<s> hi </s>", "<s>hi</s>", "a<unk>b",
        "[MASK]", "a [MASK] b", "a[MASK]b", "<|endoftext|>", "text<|endoftext|>more", " <|endoftext|> ",
        "<|begin_of_text", "|>", "<s", "s>", "< s >",
        "[TAG]", "[tag]", "a [TAG] b", "a[TAG]b", "x  [TAG]  y", "<eot>", "say <eot> now", "say<eot>now",
        "<sep>", "one <sep>two", "one<sep> two", "KEEP", "keep", "keeper", "a keep b", "a KEEP b", "xkeepx",
        "mid", "a mid b", "amidb", "<MID>", "ab <MID> cd", "Hello<MID>World", "_", "a_b",
        "!!!", "...", "?!?!", "—", "–", "«quotes»", "“smart quotes”", "‘single’", "a--b", "a---b", "…",
        "hello, world!", "Hello, World! How are you?", "Mr. Smith went to Washington.", "e.g. i.e. etc.",
        "snake_case_name", "camelCaseName", "PascalCaseName", "kebab-case-name", "SCREAMING_SNAKE",
        "word" * 20, "a" * 50, " " * 30, "\n" * 10, "ab " * 30, "!" * 40, "1" * 40, "😀" * 10,
        "x" * 5000,
        "hello" * 1000,
        "the " * 200,
    ]
    s.extend(MULTILINGUAL)
    # Prose and code excerpts from the training material, in a few sizes.
    prose = (
        "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of "
        "foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season of Light, "
        "it was the season of Darkness, it was the spring of hope, it was the winter of despair."
    )
    s.append(prose)
    s.append(prose.upper())
    s.append(prose.replace(" ", "  "))
    s.append(prose.replace(" ", "\n"))
    s.append(prose.replace(" ", "\t"))
    code = (
        "import os\nimport sys\n\n\nclass Tokenizer:\n    \"\"\"Doc string.\"\"\"\n\n    def __init__(self, path: str) -> None:\n"
        "        self.path = path  # keep it\n        self._cache: dict[str, list[int]] = {}\n\n    def encode(self, text):\n"
        "        if not text:\n            return []\n        return [ord(c) for c in text]\n"
    )
    s.append(code)
    s.append("func add(_ a: Int, _ b: Int) -> Int {\n\treturn a + b\n}\n")
    s.append("SELECT id, name FROM users WHERE age >= 21 ORDER BY name DESC;")
    s.append('{"key": "value", "list": [1, 2.5, null, true], "nested": {"a": "b"}}')
    doc = "/usr/share/vim/vim90/doc/intro.txt"
    if os.path.exists(doc):
        with open(doc, encoding="utf-8", errors="replace") as f:
            text = f.read()
        for i in range(0, 12):
            s.append(text[i * 997 : i * 997 + 40 + (i * 37) % 400])
    # NFC vs NFD of the same text.
    for t in ["Café résumé naïve", "Ångström Å", "한국어", "ḱṷṓn", "Ελληνικά"]:
        s.append(unicodedata.normalize("NFC", t))
        s.append(unicodedata.normalize("NFD", t))
        s.append(unicodedata.normalize("NFKD", t))
    # Specials mixed into prose.
    for sp in SPECIALS:
        s.append(f"Hello {sp} world")
        s.append(f"{sp}{sp}")
        s.append(f" {sp}\n")
    # Character runs, one per Unicode block sample.
    s.append("".join(chr(c) for c in range(0x20, 0x7F)))
    s.append("".join(chr(c) for c in range(0xA0, 0x180)))
    s.append("".join(chr(c) for c in range(0x0370, 0x03FF) if unicodedata.category(chr(c)) != "Cn"))
    s.append("".join(chr(c) for c in range(0x2000, 0x2070) if unicodedata.category(chr(c)) != "Cn"))
    s.append("".join(chr(c) for c in range(0x1, 0x20)))
    seen, out = set(), []
    for t in s:
        if t not in seen:
            seen.add(t)
            out.append(t)
    return out


def train_bpe(tok, vocab_size, specials, lines, limit_alphabet=None, initial_alphabet=None, **kw):
    args = dict(vocab_size=vocab_size, special_tokens=specials, show_progress=False)
    if limit_alphabet is not None:
        args["limit_alphabet"] = limit_alphabet
    if initial_alphabet is not None:
        args["initial_alphabet"] = initial_alphabet
    args.update(kw)
    tok.train_from_iterator(lines, trainer=trainers.BpeTrainer(**args))
    return tok


def llama3_like(lines, vocab_size=1000, ignore_merges=True):
    """Doge / Llama 3: regex Split, then ByteLevel without its own regex."""
    tok = Tokenizer(models.BPE(ignore_merges=ignore_merges))
    tok.pre_tokenizer = pre.Sequence([
        pre.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
        pre.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
    train_bpe(tok, vocab_size, specials, lines, initial_alphabet=pre.ByteLevel.alphabet())
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(
            single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|>:1 $B:1",
            special_tokens=[("<|begin_of_text|>", bos)],
        ),
    ])
    return tok


def gpt2_like(lines):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=True)
    train_bpe(tok, 800, ["<|endoftext|>"], lines, initial_alphabet=pre.ByteLevel.alphabet())
    return tok


def gpt2_prefix(lines):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre.ByteLevel(add_prefix_space=True, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    train_bpe(tok, 600, ["<|endoftext|>", "<s>", "</s>"], lines, initial_alphabet=pre.ByteLevel.alphabet())
    tok.post_processor = processors.RobertaProcessing(("</s>", tok.token_to_id("</s>")), ("<s>", tok.token_to_id("<s>")))
    return tok


def qwen_like(lines):
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre.Sequence([
        pre.Split(Regex(QWEN_PATTERN), behavior="isolated", invert=False),
        pre.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    train_bpe(tok, 900, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], lines, initial_alphabet=pre.ByteLevel.alphabet())
    return tok


def with_byte_fallback(tok, specials):
    """Inserts <0x00>..<0xFF> right after the special tokens, as SentencePiece conversions do."""
    data = json.loads(tok.to_str())
    vocab = data["model"]["vocab"]
    ordered = sorted(vocab.items(), key=lambda kv: kv[1])
    new_vocab, next_id = {}, 0
    for token, _ in ordered[: len(specials)]:
        new_vocab[token] = next_id
        next_id += 1
    for b in range(256):
        new_vocab[f"<0x{b:02X}>"] = next_id
        next_id += 1
    for token, _ in ordered[len(specials):]:
        if token not in new_vocab:
            new_vocab[token] = next_id
            next_id += 1
    data["model"]["vocab"] = new_vocab
    for added in data["added_tokens"]:
        added["id"] = new_vocab[added["content"]]
    data["model"]["byte_fallback"] = True
    return Tokenizer.from_str(json.dumps(data, ensure_ascii=False))


def llama2_like(lines):
    """Llama 2 / TinyLlama: normalizer Prepend+Replace, no pre-tokenizer, byte fallback."""
    specials = ["<unk>", "<s>", "</s>"]
    tok = Tokenizer(models.BPE(unk_token="<unk>", fuse_unk=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    # Training needs word boundaries; the saved tokenizer has no pre-tokenizer, like Llama 2.
    tok.pre_tokenizer = pre.Metaspace(replacement="▁", prepend_scheme="never", split=True)
    train_bpe(tok, 700, specials, lines, limit_alphabet=120)
    tok.pre_tokenizer = None
    tok = with_byte_fallback(tok, specials)
    tok.decoder = decoders.Sequence([
        decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0),
    ])
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", tok.token_to_id("<s>"))],
    )
    return tok


def metaspace_like(lines, scheme="first", split=False, fallback=False):
    """Mistral / newer TinyLlama: Metaspace pre-tokenizer and decoder."""
    specials = ["<unk>", "<s>", "</s>"]
    tok = Tokenizer(models.BPE(unk_token="<unk>", fuse_unk=True))
    tok.pre_tokenizer = pre.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    train_bpe(tok, 600, specials, lines, limit_alphabet=100)
    tok.pre_tokenizer = pre.Metaspace(replacement="▁", prepend_scheme=scheme, split=split)
    if fallback:
        tok = with_byte_fallback(tok, specials)
        tok.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Metaspace(replacement="▁", prepend_scheme=scheme, split=split)])
    else:
        tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme=scheme, split=split)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> $B:1 </s>:1",
        special_tokens=[("<s>", tok.token_to_id("<s>")), ("</s>", tok.token_to_id("</s>"))],
    )
    return tok


def added_tokens_variants(lines):
    """Added tokens with every flag combination, on a lowercasing byte-level tokenizer."""
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    train_bpe(tok, 500, ["<|endoftext|>"], lines, initial_alphabet=pre.ByteLevel.alphabet())
    tok.add_special_tokens([
        AddedToken("[MASK]", lstrip=True, rstrip=False, special=True),
        AddedToken("<eot>", lstrip=True, rstrip=True, special=True),
        AddedToken("<sep>", rstrip=True, special=True),
    ])
    tok.add_tokens([
        AddedToken("[TAG]", single_word=True, normalized=False),
        AddedToken("KEEP", normalized=True),           # matched after lowercasing: "keep", "KEEP"
        AddedToken("mid", single_word=True, normalized=True),
        AddedToken("<MID>", normalized=False, lstrip=True, rstrip=True),
        AddedToken(" spaced", normalized=False),
        AddedToken("hello world", normalized=True),
    ])
    return tok


def nfkc_lower(lines):
    """NFKC + Lowercase, Whitespace pre-tokenizer, subword prefix/suffix, no decoder."""
    tok = Tokenizer(models.BPE(unk_token="[UNK]", continuing_subword_prefix="##", end_of_word_suffix="</w>"))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre.Whitespace()
    train_bpe(tok, 700, ["[UNK]", "[CLS]", "[SEP]", "[MASK]"], lines, limit_alphabet=150,
              continuing_subword_prefix="##", end_of_word_suffix="</w>")
    tok.post_processor = processors.BertProcessing(("[SEP]", tok.token_to_id("[SEP]")), ("[CLS]", tok.token_to_id("[CLS]")))
    return tok


def split_variants(lines):
    """Digits, Punctuation, WhitespaceSplit and every Split behaviour, on one byte-fallback model."""
    base = llama2_like(lines)
    out = {}
    norm_a = normalizers.Sequence([
        normalizers.NFD(), normalizers.StripAccents(), normalizers.Strip(left=True, right=True),
        normalizers.Replace(Regex(r"\s+"), " "), normalizers.Replace(" ", "▁"),
    ])
    variants = {
        "pt_digits_punct": (norm_a, pre.Sequence([pre.WhitespaceSplit(), pre.Punctuation(), pre.Digits(individual_digits=True)])),
        "pt_digits_contig": (normalizers.NFKD(), pre.Sequence([pre.Whitespace(), pre.Digits(individual_digits=False)])),
        "pt_split_removed": (None, pre.Split(" ", behavior="removed")),
        "pt_split_prev": (None, pre.Split(Regex(r"[,.;!?]"), behavior="merged_with_previous")),
        "pt_split_next": (None, pre.Split(" ", behavior="merged_with_next")),
        "pt_split_contig": (None, pre.Split(Regex(r"\d"), behavior="contiguous")),
        "pt_split_invert": (None, pre.Split(Regex(r"\p{L}+|\p{N}+"), behavior="removed", invert=True)),
        "pt_split_lazy": (normalizers.Lowercase(), pre.Split(Regex(r"\w+?(?=\s|$)|\s+|[^\w\s]{1,2}"), behavior="isolated")),
        "pt_punct_prev": (normalizers.NFD(), pre.Punctuation(behavior="merged_with_previous")),
        "pt_metaspace_split": (normalizers.Strip(), pre.Metaspace(replacement="▁", prepend_scheme="always", split=True)),
        "pt_metaspace_never": (None, pre.Metaspace(replacement="▁", prepend_scheme="never", split=True)),
        "pt_bytelevel_noregex": (normalizers.NFKC(), pre.Sequence([pre.Digits(individual_digits=True), pre.ByteLevel(add_prefix_space=True, use_regex=False)])),
    }
    for name, (norm, pt) in variants.items():
        tok = Tokenizer.from_str(base.to_str())
        tok.normalizer = norm
        tok.pre_tokenizer = pt
        out[name] = tok
    return out


def record(tok, cases, max_chars=None):
    expected = []
    for text in cases:
        if max_chars is not None and len(text) > max_chars:
            expected.append(None)  # skipped: keeps the many small variant fixtures small
            continue
        enc = tok.encode(text, add_special_tokens=True)
        plain = tok.encode(text, add_special_tokens=False)
        decoded = tok.decode(enc.ids, skip_special_tokens=False)
        decoded_skip = tok.decode(enc.ids, skip_special_tokens=True)
        entry = {"ids": run_length(enc.ids)}
        if plain.ids != enc.ids:
            entry["ids_plain"] = run_length(plain.ids)
        if decoded != text:
            entry["decoded"] = decoded
        if decoded_skip != decoded:
            entry["decoded_skip"] = decoded_skip
        expected.append(entry)
    return expected


def run_length(ids):
    """[7, 7, 7, 7, 5] -> [7, -4, 5]: a negative number repeats the previous id that many times in all."""
    out, i = [], 0
    while i < len(ids):
        j = i
        while j < len(ids) and ids[j] == ids[i]:
            j += 1
        out.extend([ids[i], -(j - i)] if j - i > 3 else ids[i:j])
        i = j
    return out


def save(name, tok, cases, config=None, max_chars=None):
    folder = os.path.join(OUT, name)
    os.makedirs(folder, exist_ok=True)
    # Round-trip through JSON so the fixture is exactly what `Tokenizer.from_file` reads.
    tok = Tokenizer.from_str(tok.to_str())
    with open(os.path.join(folder, "tokenizer.json"), "w", encoding="utf-8") as f:
        f.write(tok.to_str(pretty=False))
    with open(os.path.join(folder, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(record(tok, cases, max_chars), f, ensure_ascii=False, separators=(",", ":"))
    if config is not None:
        with open(os.path.join(folder, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump(config, f, ensure_ascii=False, indent=2)


def merges_as_strings(tok):
    """Re-spells merges in the older `"a b"` form (kept by many published tokenizer.json files)."""
    data = json.loads(tok.to_str())
    data["model"]["merges"] = [" ".join(pair) for pair in data["model"]["merges"]]
    return Tokenizer.from_str(json.dumps(data, ensure_ascii=False))


LLAMA3_CHAT = (
    "{{- bos_token }}\n"
    "{%- if messages[0]['role'] == 'system' %}{%- set system = messages[0]['content'] | trim %}{%- set messages = messages[1:] %}"
    "{%- else %}{%- set system = 'You are helpful.' %}{%- endif %}\n"
    "{{- '<|start_header_id|>system<|end_header_id|>\\n\\n' }}\n"
    "{%- if tools is not none %}{{- 'Tools:\\n' }}{%- for t in tools %}{{- t | tojson(indent=4) }}{{- '\\n\\n' }}{%- endfor %}{%- endif %}\n"
    "{%- if documents %}{%- for d in documents %}{{- 'Document ' ~ loop.index ~ ': ' ~ d.title ~ '\\n' }}{%- endfor %}{%- endif %}\n"
    "{{- system }}{{- '<|eot_id|>' }}\n"
    "{%- for message in messages %}\n"
    "    {%- if message.role not in ['user', 'assistant', 'tool'] %}{{- raise_exception('bad role ' ~ message.role) }}{%- endif %}\n"
    "    {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' }}\n"
    "    {%- if message.tool_calls is defined %}{%- for call in message.tool_calls %}"
    "{{- '{\"name\": \"' + call.function.name + '\", \"arguments\": ' + call.function.arguments | tojson + '}' }}{%- endfor %}\n"
    "    {%- else %}{{- message['content'] | trim }}{%- endif %}\n"
    "    {{- '<|eot_id|>' }}\n"
    "{%- endfor %}\n"
    "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}\n"
    "{%- if custom_suffix is defined %}{{ custom_suffix }}{%- endif %}"
)

SIMPLE_CHAT = (
    "{% for m in messages %}{% if loop.first %}{{ bos_token }}{% endif %}"
    "[{{ m.role | upper }}] {{ m.content }}{% if m.name is defined %} ({{ m.name }}){% endif %}{{ eos_token }}\n"
    "{% endfor %}{% if add_generation_prompt %}[ASSISTANT] {% endif %}"
)

CONVERSATIONS = [
    {"messages": [{"role": "user", "content": "Hello!"}], "add_generation_prompt": True},
    {"messages": [{"role": "user", "content": "Hello!"}], "add_generation_prompt": False},
    {"messages": [{"role": "system", "content": "  Be brief.  "}, {"role": "user", "content": "What is 2+2?"},
                  {"role": "assistant", "content": "4"}, {"role": "user", "content": "And 3+3?"}],
     "add_generation_prompt": True},
    {"messages": [{"role": "user", "content": "Weather in Paris?", "name": None},
                  {"role": "assistant", "content": None, "tool_calls": [
                      {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "C"}}}]},
                  {"role": "tool", "content": "22 degrees"}],
     "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Current weather",
                                                  "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                                 "required": ["city"]}}}],
     "add_generation_prompt": True},
    {"messages": [{"role": "user", "content": "Summarise the documents."}],
     "documents": [{"title": "Cats", "text": "Cats purr."}, {"title": "Dogs", "text": "Dogs bark."}],
     "add_generation_prompt": True},
    {"messages": [{"role": "user", "content": "日本語で？ 😀\n\nTwo lines."}], "add_generation_prompt": True,
     "custom_suffix": "<<END>>"},
    {"messages": [{"role": "user", "content": "Hi", "name": "ann"}, {"role": "assistant", "content": "Hey <|eot_id|> there"}],
     "add_generation_prompt": False},
    {"messages": [{"role": "user", "content": "Yo", "name": None}], "add_generation_prompt": False},
]


def chat_fixtures(lines, out_dir):
    """Chat templates rendered and tokenized by transformers' apply_chat_template."""
    from transformers import AutoTokenizer

    base = {
        "chat_llama3": (llama3_like(lines), {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>", "chat_template": LLAMA3_CHAT}),
        "chat_llama2": (llama2_like(lines), {
            "bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": False, "normalized": False, "rstrip": False, "single_word": False, "special": True},
            "eos_token": "</s>", "unk_token": "<unk>", "pad_token": None, "add_bos_token": True, "add_eos_token": True,
            "model_max_length": 2048,
            "chat_template": [{"name": "default", "template": SIMPLE_CHAT}, {"name": "tool_use", "template": LLAMA3_CHAT}]}),
    }
    for name, (tok, config) in base.items():
        folder = os.path.join(out_dir, name)
        os.makedirs(folder, exist_ok=True)
        tok.save(os.path.join(folder, "tokenizer.json"))
        with open(os.path.join(folder, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump(dict(config, tokenizer_class="PreTrainedTokenizerFast"), f, ensure_ascii=False, indent=2)
        hf = AutoTokenizer.from_pretrained(folder)
        results = []
        for conv in CONVERSATIONS:
            extra = {k: v for k, v in conv.items() if k not in ("messages", "tools", "documents", "add_generation_prompt")}
            kwargs = dict(tools=conv.get("tools"), documents=conv.get("documents"),
                          add_generation_prompt=conv["add_generation_prompt"], **extra)
            if name == "chat_llama2" and conv.get("tools"):
                kwargs["chat_template"] = "tool_use"
            try:
                text = hf.apply_chat_template(conv["messages"], tokenize=False, **kwargs)
                ids = hf.apply_chat_template(conv["messages"], tokenize=True, return_dict=False, **kwargs)
                if isinstance(ids, dict):
                    ids = ids["input_ids"]
                results.append({"text": text, "ids": list(ids), "template": kwargs.get("chat_template")})
            except Exception as error:  # a template raising is recorded too
                results.append({"error": str(error)})
        with open(os.path.join(folder, "chat.json"), "w", encoding="utf-8") as f:
            json.dump({"conversations": CONVERSATIONS, "expected": results,
                       "encode": {t: hf(t)["input_ids"] for t in ["Hello world", "", "<s> x </s>"]}},
                      f, ensure_ascii=False, indent=1)


def main():
    lines = training_corpus()
    cases = test_strings()
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "cases.json"), "w", encoding="utf-8") as f:
        json.dump(cases, f, ensure_ascii=False, separators=(",", ":"))

    save("llama3", llama3_like(lines), cases)
    save("llama3_merging", merges_as_strings(llama3_like(lines, vocab_size=700, ignore_merges=False)), cases)
    save("gpt2", gpt2_like(lines), cases)
    save("roberta_prefix", gpt2_prefix(lines), cases)
    save("qwen", qwen_like(lines), cases)
    save("llama2", llama2_like(lines), cases)
    save("metaspace_first", metaspace_like(lines, "first", False), cases)
    save("metaspace_always_fallback", metaspace_like(lines, "always", True, fallback=True), cases)
    save("added_tokens", added_tokens_variants(lines), cases)
    save("nfkc_lower", nfkc_lower(lines), cases, max_chars=1000)
    for name, tok in split_variants(lines).items():
        save(name, tok, cases, max_chars=400)
    chat_fixtures(lines, os.path.join(OUT, "chat"))
    print(f"{len(cases)} cases written to {OUT}")


if __name__ == "__main__":
    main()
