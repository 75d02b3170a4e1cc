import Foundation

/// The fields of transformers' `tokenizer_config.json` that change what a tokenizer does
/// (plus `special_tokens_map.json` and `chat_template.jinja` next to it, when present).
public struct TokenizerConfig: Sendable {
    public var bosToken: String?
    public var eosToken: String?
    public var padToken: String?
    public var unkToken: String?
    /// nil when the file does not set it. Only Llama-family tokenizer classes use these (see
    /// `rebuildsPostProcessor`); otherwise tokenizer.json's post-processor decides, as in
    /// transformers v5, which drops the flags whenever a tokenizer.json exists.
    public var addBosToken: Bool?
    public var addEosToken: Bool?
    /// Named chat templates; a single-string `chat_template` is stored as "default".
    public var chatTemplates: [(name: String, template: String)] = []
    public var modelMaxLength: Double?
    public var tokenizerClass: String?
    /// Every top-level string-valued field (for callers that want more).
    public var strings: [String: String] = [:]

    public init() {}

    /// Tokenizer classes whose fast tokenizer rebuilds its post-processor from `add_bos_token`
    /// (default true) and `add_eos_token` (default false) in transformers v4.
    static let postProcessorRebuildingClasses: Set<String> = [
        "LlamaTokenizer", "LlamaTokenizerFast", "CodeLlamaTokenizer", "CodeLlamaTokenizerFast",
        "GemmaTokenizer", "GemmaTokenizerFast",
    ]

    /// Whether the post-processor is rebuilt from the add_bos/add_eos flags.
    public var rebuildsPostProcessor: Bool {
        Self.postProcessorRebuildingClasses.contains(tokenizerClass ?? "") && (addBosToken != nil || addEosToken != nil)
    }

    /// Parses tokenizer_config.json.
    public init(data: Data, file: String = "tokenizer_config.json") throws {
        let root = JSONField(try JSONReader.parse(data, file: file), path: "")
        _ = try root.members()
        bosToken = try Self.tokenContent(root["bos_token"])
        eosToken = try Self.tokenContent(root["eos_token"])
        padToken = try Self.tokenContent(root["pad_token"])
        unkToken = try Self.tokenContent(root["unk_token"])
        if root.has("add_bos_token"), !root["add_bos_token"].isNull { addBosToken = try root["add_bos_token"].bool(default: false) }
        if root.has("add_eos_token"), !root["add_eos_token"].isNull { addEosToken = try root["add_eos_token"].bool(default: false) }
        tokenizerClass = try root["tokenizer_class"].optionalString()
        if !root["model_max_length"].isNull { modelMaxLength = try root["model_max_length"].double() }
        let template = root["chat_template"]
        switch template.node {
        case .null: break
        case let .string(text): chatTemplates = [("default", text)]
        case .array:
            chatTemplates = try template.array().map { (try $0["name"].string(), try $0["template"].string()) }
        default: throw template.fail("expected a string or a list of {name, template}")
        }
        for (key, value) in try root.members() {
            if case let .string(text) = value.node { strings[key] = text }
        }
    }

    /// A special token written as `"<s>"` or `{"content": "<s>", ...}`.
    static func tokenContent(_ field: JSONField) throws -> String? {
        switch field.node {
        case .null: return nil
        case let .string(text): return text
        case .object: return try field["content"].string()
        default: throw field.fail("expected a string or {\"content\": ...}")
        }
    }

    /// Fills tokens missing here from special_tokens_map.json.
    mutating func merge(specialTokensMap data: Data, file: String) throws {
        let root = JSONField(try JSONReader.parse(data, file: file), path: "")
        bosToken = try bosToken ?? Self.tokenContent(root["bos_token"])
        eosToken = try eosToken ?? Self.tokenContent(root["eos_token"])
        padToken = try padToken ?? Self.tokenContent(root["pad_token"])
        unkToken = try unkToken ?? Self.tokenContent(root["unk_token"])
    }

    /// The template called `name`, or the default one: "default" if present, else a lone
    /// template. Returns nil when there is none.
    public func chatTemplate(named name: String? = nil) -> String? {
        if let name { return chatTemplates.first { $0.name == name }?.template }
        if let template = chatTemplates.first(where: { $0.name == "default" }) { return template.template }
        return chatTemplates.count == 1 ? chatTemplates[0].template : nil
    }
}
