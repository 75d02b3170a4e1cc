/// The tokenizer shape of SmallDoge's Doge-tokenizer (Llama-3 style): no normalizer, the
/// Llama-3 split regex then a plain byte-level mapping, BOS added by a template, byte-level
/// decoding, `ignore_merges`, and four special tokens with a Doge chat template.
extension TokenizerBlueprint {
    static let beginOfText = "<|begin_of_text|>"
    static let endOfText = "<|end_of_text|>"
    static let startHeader = "<|start_header_id|>"
    static let endHeader = "<|end_header_id|>"

    /// Llama 3's pre-tokenizer pattern: contractions, words with one leading non-letter,
    /// numbers of up to three digits, punctuation runs, newlines, other whitespace.
    static let llama3Pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// Doge's turn format: a header line per message, the text, then EOS and a blank line.
    /// EOS ends each turn, so generation stops by itself after the assistant's answer.
    static let chatTemplate = """
        {{- bos_token }}
        {%- for message in messages %}
            {%- if message['role'] not in ['system', 'user', 'assistant'] %}
                {{- raise_exception('Doge chat messages have the role system, user or assistant, not ' ~ message['role']) }}
            {%- endif %}
            {{- '<|start_header_id|>' ~ message['role'] ~ '<|end_header_id|>\\n' }}
            {{- message['content'] | trim }}
            {{- eos_token ~ '\\n\\n' }}
        {%- endfor %}
        {%- if add_generation_prompt %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\\n' }}
        {%- endif %}
        """

    static func doge() -> TokenizerBlueprint {
        var blueprint = TokenizerBlueprint()
        let byteLevel: [(key: String, value: JSONNode)] = [
            ("type", .string("ByteLevel")), ("add_prefix_space", .bool(false)), ("trim_offsets", .bool(true)),
        ]
        blueprint.preTokenizer = .object([
            ("type", .string("Sequence")),
            ("pretokenizers", .array([
                .object([("type", .string("Split")), ("pattern", .object([("Regex", .string(llama3Pattern))])),
                         ("behavior", .string("Isolated")), ("invert", .bool(false))]),
                .object(byteLevel + [("use_regex", .bool(false))]),
            ])),
        ])
        let bos: JSONNode = .object([("SpecialToken", .object([("id", .string(beginOfText)), ("type_id", .int(0))]))])
        func sequence(_ name: String, _ typeID: Int) -> JSONNode {
            .object([("Sequence", .object([("id", .string(name)), ("type_id", .int(typeID))]))])
        }
        blueprint.postProcessor = .object([
            ("type", .string("TemplateProcessing")),
            ("single", .array([bos, sequence("A", 0)])),
            ("pair", .array([bos, sequence("A", 0), bos, sequence("B", 1)])),
            ("special_tokens", .object([
                (beginOfText, .object([("id", .string(beginOfText)), ("ids", .array([.int(0)])),
                                       ("tokens", .array([.string(beginOfText)]))])),
            ])),
        ])
        blueprint.decoder = .object(byteLevel + [("use_regex", .bool(true))])
        blueprint.modelOptions = [
            ("type", .string("BPE")), ("dropout", .null), ("unk_token", .null), ("continuing_subword_prefix", .null),
            ("end_of_word_suffix", .null), ("fuse_unk", .bool(false)), ("byte_fallback", .bool(false)),
            ("ignore_merges", .bool(true)),
        ]
        let flags: [(key: String, value: JSONNode)] = [
            ("single_word", .bool(false)), ("lstrip", .bool(false)), ("rstrip", .bool(false)),
            ("normalized", .bool(false)), ("special", .bool(true)),
        ]
        blueprint.specialTokens = [beginOfText, endOfText, startHeader, endHeader].map { ($0, flags) }
        blueprint.config = .object([
            ("added_tokens_decoder", .object([])),
            ("bos_token", .string(beginOfText)),
            ("eos_token", .string(endOfText)),
            ("chat_template", .string(chatTemplate)),
            ("clean_up_tokenization_spaces", .bool(false)),
            ("model_input_names", .array([.string("input_ids"), .string("attention_mask")])),
            ("tokenizer_class", .string("PreTrainedTokenizerFast")),
        ])
        let map = JSONNode.object([("bos_token", .string(beginOfText)), ("eos_token", .string(endOfText))])
        blueprint.extraFiles = [("special_tokens_map.json", JSONWriter.data(map))]
        return blueprint
    }
}
