import Foundation

/// Everything about a tokenizer except its learned vocabulary and merges: the pipeline
/// (normalizer, pre-tokenizer, post-processor, decoder, BPE options), the special tokens and
/// the transformers-side files. Training fills in the model; `--from` takes the blueprint of an
/// existing tokenizer, like transformers' `train_new_from_iterator`.
struct TokenizerBlueprint {
    var normalizer: JSONNode = .null
    var preTokenizer: JSONNode = .null
    var postProcessor: JSONNode = .null
    var decoder: JSONNode = .null
    /// BPE model fields other than vocab and merges, in file order ("type" first).
    var modelOptions: [(key: String, value: JSONNode)] = []
    /// Special added tokens: content plus their flags (lstrip, normalized...), in id order.
    var specialTokens: [(content: String, flags: [(key: String, value: JSONNode)])] = []
    /// tokenizer_config.json; its `added_tokens_decoder` is rewritten with the new ids.
    var config: JSONNode?
    /// Files copied unchanged (special_tokens_map.json, chat_template.jinja).
    var extraFiles: [(name: String, data: Data)] = []

    /// Byte-level pipelines start from all 256 byte characters, so any text stays encodable
    /// (transformers passes `ByteLevel.alphabet()` whenever the pre-tokenizer has ByteLevel).
    var initialAlphabet: [UInt32] {
        func hasByteLevel(_ node: JSONNode) -> Bool {
            if case .string("ByteLevel") = node[member: "type"] { return true }
            guard case .string("Sequence") = node[member: "type"], case let .array(list) = node[member: "pretokenizers"] else { return false }
            return list.contains { if case .string("ByteLevel") = $0[member: "type"] { true } else { false } }
        }
        return hasByteLevel(preTokenizer) ? ByteLevel.byteToScalar : []
    }

    /// A string option of the BPE model as scalars (empty when null or absent).
    func modelString(_ key: String) -> [UInt32] {
        guard case let .string(text)? = modelOptions.first(where: { $0.key == key })?.value else { return [] }
        return text.unicodeScalars.map(\.value)
    }

    /// The parsed normalizer and pre-tokenizer, for splitting the training text.
    func pipeline() throws -> (Normalizer?, PreTokenizer?) {
        let normalizer = try normalizer.isNull ? nil : Normalizer(json: JSONField(normalizer, path: "normalizer"))
        let preTokenizer = try preTokenizer.isNull ? nil : PreTokenizer(json: JSONField(preTokenizer, path: "pre_tokenizer"))
        return (normalizer, preTokenizer)
    }

    /// The blueprint of an existing tokenizer directory (or tokenizer.json file).
    init(existing url: URL) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw TokenizerTrainingError.unsupportedBase(reason: "\(url.path) does not exist; give a model directory or a tokenizer.json")
        }
        let folder = isDirectory.boolValue ? url : url.deletingLastPathComponent()
        let jsonURL = isDirectory.boolValue ? url.appendingPathComponent("tokenizer.json") : url
        guard FileManager.default.fileExists(atPath: jsonURL.path) else {
            throw TokenizerTrainingError.unsupportedBase(reason: "\(url.path) has no tokenizer.json; give a model directory that has one")
        }
        let root = JSONField(try JSONReader.parse(try Tokenizer.read(jsonURL), file: jsonURL.lastPathComponent), path: "")
        let model = root["model"]
        let type = model.has("type") ? try model.typeTag() : "BPE"
        guard type == "BPE" else {
            throw TokenizerTrainingError.unsupportedBase(reason: "its model is \(type); only BPE tokenizers can be retrained")
        }
        normalizer = root["normalizer"].node
        preTokenizer = root["pre_tokenizer"].node
        postProcessor = root["post_processor"].node
        decoder = root["decoder"].node
        modelOptions = try model.members().filter { $0.key != "vocab" && $0.key != "merges" }.map { ($0.key, $0.value.node) }
        if !modelOptions.contains(where: { $0.key == "type" }) { modelOptions.insert(("type", .string("BPE")), at: 0) }
        // Only special added tokens survive retraining, in id order (as transformers does).
        let added = root["added_tokens"].isNull ? [] : try root["added_tokens"].array()
        let sorted = try added.map { (id: try $0["id"].int(), field: $0) }.sorted { $0.id < $1.id }
        for (_, field) in sorted where try field["special"].bool(default: false) {
            let flags = try field.members().filter { $0.key != "id" && $0.key != "content" }.map { ($0.key, $0.value.node) }
            specialTokens.append((try field["content"].string(), flags))
        }
        let configURL = folder.appendingPathComponent("tokenizer_config.json")
        if let data = FileManager.default.contents(atPath: configURL.path) {
            config = try JSONReader.parse(data, file: configURL.lastPathComponent)
        }
        for name in ["special_tokens_map.json", "chat_template.jinja"] {
            if let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path) {
                extraFiles.append((name, data))
            }
        }
    }

    init() {}

    // MARK: Assembling the trained tokenizer

    /// tokenizer.json for `result`, laid out as HF `tokenizers` saves it.
    func tokenizerJSON(_ result: BPETrainer.Result) throws -> JSONNode {
        let idOf = Dictionary(result.vocabulary.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let added: [JSONNode] = zip(specialTokens, result.specialTokenIDs).map { token, id in
            .object([("id", .int(id)), ("content", .string(token.content))] + token.flags)
        }
        let vocab = JSONNode.object(result.vocabulary.enumerated().map { (String(scalars: $1), .int($0)) })
        let merges = JSONNode.array(result.merges.map {
            .array([.string(String(scalars: result.vocabulary[$0.left])), .string(String(scalars: result.vocabulary[$0.right]))])
        })
        let model = JSONNode.object(modelOptions + [("vocab", vocab), ("merges", merges)])
        let processor = try Self.renumber(postProcessor) { token in idOf[token.unicodeScalars.map(\.value)] }
        return .object([
            ("version", .string("1.0")), ("truncation", .null), ("padding", .null),
            ("added_tokens", .array(added)), ("normalizer", normalizer), ("pre_tokenizer", preTokenizer),
            ("post_processor", processor), ("decoder", decoder), ("model", model),
        ])
    }

    /// The post-processor with its special tokens' ids looked up again in the new vocabulary
    /// (nested Sequence processors too, which transformers leaves stale).
    static func renumber(_ node: JSONNode, _ idOf: (String) -> Int?) throws -> JSONNode {
        func id(_ token: String) throws -> Int {
            guard let id = idOf(token) else {
                throw TokenizerTrainingError.unsupportedBase(
                    reason: "the post-processor uses \(token.debugDescription), which is not a special token of the tokenizer")
            }
            return id
        }
        switch node[member: "type"] {
        case .string("TemplateProcessing"):
            guard case let .object(specials)? = node[member: "special_tokens"] else { return node }
            let updated = try specials.map { name, special -> (key: String, value: JSONNode) in
                guard case let .array(tokens)? = special[member: "tokens"] else { return (name, special) }
                let ids = try tokens.map { token -> JSONNode in
                    guard case let .string(text) = token else { return .null }
                    return .int(try id(text))
                }
                return (name, special.setting("ids", to: .array(ids)))
            }
            return node.setting("special_tokens", to: .object(updated))
        case .string("RobertaProcessing"), .string("BertProcessing"):
            var result = node
            for key in ["cls", "sep"] {
                if case let .array(pair)? = node[member: key], case let .string(token)? = pair.first {
                    result = result.setting(key, to: .array([.string(token), .int(try id(token))]))
                }
            }
            return result
        case .string("Sequence"):
            guard case let .array(list)? = node[member: "processors"] else { return node }
            return node.setting("processors", to: .array(try list.map { try renumber($0, idOf) }))
        default:
            return node
        }
    }

    /// tokenizer_config.json with `added_tokens_decoder` keyed by the new ids.
    func configJSON(_ result: BPETrainer.Result) -> JSONNode? {
        guard let config else { return nil }
        let decoder = JSONNode.object(zip(specialTokens, result.specialTokenIDs).map { token, id in
            let flags = token.flags.filter { ["lstrip", "normalized", "rstrip", "single_word", "special"].contains($0.key) }
            return (String(id), .object([("content", .string(token.content))] + flags))
        })
        return config.setting("added_tokens_decoder", to: decoder)
    }
}

extension JSONNode {
    var isNull: Bool { if case .null = self { true } else { false } }
}
