import Foundation

/// A Hugging Face tokenizer (tokenizer.json with a BPE model, plus tokenizer_config.json),
/// encoding and decoding exactly as the `tokenizers` library does.
///
/// ```swift
/// let tokenizer = try Tokenizer(directory: modelURL)
/// let ids = tokenizer.encode("Hello world")          // with BOS etc. as configured
/// let text = try tokenizer.decode(ids, skipSpecialTokens: true)
/// ```
public final class Tokenizer: Sendable {
    let normalizer: Normalizer?
    let preTokenizer: PreTokenizer?
    let model: BPEModel
    let postProcessor: PostProcessor?
    let decoder: Decoder?
    /// `preTokenizer` minus a trailing pure ByteLevel mapping, which `byteLevelTail` applies
    /// per word after the cache lookup.
    let splitter: PreTokenizer?
    let byteLevelTail: Bool
    let addedVocabulary: AddedVocabulary
    /// tokenizer_config.json, or an empty config when there is none.
    public let config: TokenizerConfig
    private let specialContents: Set<[UInt32]>
    /// One past the largest id (model vocabulary or added token).
    public let vocabularySize: Int

    /// Loads `tokenizer.json` and, when present, `tokenizer_config.json`,
    /// `special_tokens_map.json` and `chat_template.jinja` from a model directory.
    /// A URL naming a tokenizer.json file also works.
    public convenience init(directory: URL) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) else {
            throw TokenizerError.fileNotFound(path: directory.path)
        }
        if !isDirectory.boolValue {
            let sibling = directory.deletingLastPathComponent().appendingPathComponent("tokenizer_config.json")
            try self.init(tokenizerJSON: directory, config: FileManager.default.fileExists(atPath: sibling.path) ? sibling : nil)
            return
        }
        let configURL = directory.appendingPathComponent("tokenizer_config.json")
        try self.init(tokenizerJSON: directory.appendingPathComponent("tokenizer.json"),
                      config: FileManager.default.fileExists(atPath: configURL.path) ? configURL : nil)
    }

    /// Loads a tokenizer.json and an optional tokenizer_config.json (whose directory is also
    /// searched for special_tokens_map.json and chat_template.jinja).
    public convenience init(tokenizerJSON: URL, config configURL: URL?) throws {
        do { try self.init(loading: tokenizerJSON, config: configURL) } catch let error as TokenizerError {
            throw error.inFile(tokenizerJSON.path)
        }
    }

    private convenience init(loading tokenizerJSON: URL, config configURL: URL?) throws {
        let data = try Self.read(tokenizerJSON)
        var config = TokenizerConfig()
        if let configURL {
            do { config = try TokenizerConfig(data: try Self.read(configURL), file: configURL.lastPathComponent) }
            catch let error as TokenizerError { throw error.inFile(configURL.path) }
        }
        let folder = (configURL ?? tokenizerJSON).deletingLastPathComponent()
        let specialMap = folder.appendingPathComponent("special_tokens_map.json")
        if let mapData = try? Data(contentsOf: specialMap) {
            do { try config.merge(specialTokensMap: mapData, file: specialMap.lastPathComponent) }
            catch let error as TokenizerError { throw error.inFile(specialMap.path) }
        }
        let jinja = folder.appendingPathComponent("chat_template.jinja")
        if let template = try? String(contentsOf: jinja, encoding: .utf8) {
            config.chatTemplates.removeAll { $0.name == "default" }
            config.chatTemplates.insert(("default", template), at: 0)
        }
        try self.init(tokenizerJSONData: data, config: config)
    }

    static func read(_ url: URL) throws -> Data {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw TokenizerError.fileNotFound(path: url.path)
        }
        return data
    }

    /// Builds a tokenizer from tokenizer.json bytes and a parsed config.
    public init(tokenizerJSONData data: Data, config: TokenizerConfig = TokenizerConfig()) throws {
        let root = JSONField(try JSONReader.parse(data, file: "tokenizer.json"), path: "")
        _ = try root.members()
        // HF tokenizers rejects a tokenizer.json without a model; an empty one would encode nothing.
        guard root.has("model"), !root["model"].isNull else {
            throw TokenizerError.invalidField(path: "model", reason: "missing: this is not a tokenizer.json (it needs a \"model\" with a vocabulary)")
        }
        let modelField = root["model"]
        let modelType = modelField.has("type") ? try modelField.typeTag() : "BPE"
        guard modelType == "BPE" else { throw TokenizerError.unsupportedType(path: "model.type", type: modelType) }
        model = try BPEModel(json: modelField)
        normalizer = root["normalizer"].isNull ? nil : try Normalizer(json: root["normalizer"])
        preTokenizer = root["pre_tokenizer"].isNull ? nil : try PreTokenizer(json: root["pre_tokenizer"])
        (splitter, byteLevelTail) = preTokenizer?.separatingByteLevelTail() ?? (nil, false)
        decoder = root["decoder"].isNull ? nil : try Decoder(json: root["decoder"])
        let added = root["added_tokens"].isNull ? [] : try root["added_tokens"].array().map { try AddedToken(json: $0) }
        addedVocabulary = AddedVocabulary(tokens: added, normalizer: normalizer)
        specialContents = Set(added.filter(\.special).map { $0.content.unicodeScalars.map(\.value) })
        vocabularySize = max(model.idToToken.count, (added.map(\.id).max() ?? -1) + 1)
        guard vocabularySize > 0 else {
            throw TokenizerError.invalidField(path: "model.vocab", reason: "the tokenizer has no tokens (empty vocabulary and no added tokens)")
        }
        self.config = config

        let model = self.model, addedVocabulary = self.addedVocabulary
        var processor = root["post_processor"].isNull ? nil : try PostProcessor(json: root["post_processor"])
        if config.rebuildsPostProcessor {
            // transformers v4's LlamaTokenizerFast.update_post_processor: `[bos] $A [eos]` from the flags.
            let bosID = config.addBosToken ?? true ? config.bosToken.flatMap { Self.lookup($0, model, addedVocabulary) } : nil
            let eosID = config.addEosToken ?? false ? config.eosToken.flatMap { Self.lookup($0, model, addedVocabulary) } : nil
            var single: [PostProcessor.TemplateItem] = [.sequenceA]
            if let bosID { single.insert(.special([bosID]), at: 0) }
            if let eosID { single.append(.special([eosID])) }
            var pair = single
            if let bosID { pair.append(.special([bosID])) }
            pair.append(.sequenceB)
            if let eosID { pair.append(.special([eosID])) }
            processor = .template(single: single, pair: pair)
        }
        postProcessor = processor
    }

    private static func lookup(_ token: String, _ model: BPEModel, _ added: AddedVocabulary) -> Int? {
        let scalars = token.unicodeScalars.map(\.value)
        return added.contentToID[scalars] ?? model.id(of: scalars)
    }

    // MARK: Vocabulary

    /// The id of a token string (added tokens first, then the model vocabulary).
    public func tokenToID(_ token: String) -> Int? { Self.lookup(token, model, addedVocabulary) }

    /// The token string of an id.
    public func idToToken(_ id: Int) -> String? { addedVocabulary.idToContent[id] ?? model.token(of: id) }

    /// Added tokens (special and not) from tokenizer.json, in file order.
    public var addedTokens: [AddedToken] { addedVocabulary.tokens }

    public func isSpecialToken(_ id: Int) -> Bool { addedVocabulary.idToToken[id]?.special ?? false }

    public var bosToken: String? { config.bosToken }
    public var eosToken: String? { config.eosToken }
    public var padToken: String? { config.padToken }
    public var unkToken: String? { config.unkToken ?? model.unkToken }
    public var bosTokenID: Int? { bosToken.flatMap(tokenToID) }
    public var eosTokenID: Int? { eosToken.flatMap(tokenToID) }
    public var padTokenID: Int? { padToken.flatMap(tokenToID) }
    public var unkTokenID: Int? { unkToken.flatMap(tokenToID) }

    // MARK: Encoding

    /// Token ids of `text`; with `addSpecialTokens`, the post-processor's tokens (BOS...) too.
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int] {
        let ids = encodeScalars(text.unicodeScalars.map(\.value))
        guard addSpecialTokens, let postProcessor else { return ids }
        return postProcessor.process(ids, nil)
    }

    /// Encodes a pair of sequences (`$A`, `$B` of the post-processor's pair template).
    public func encode(_ text: String, pair: String, addSpecialTokens: Bool = true) -> [Int] {
        let a = encodeScalars(text.unicodeScalars.map(\.value)), b = encodeScalars(pair.unicodeScalars.map(\.value))
        guard addSpecialTokens, let postProcessor else { return a + b }
        return postProcessor.process(a, b)
    }

    /// Encodes file bytes exactly. HF only accepts text, so bytes that are not UTF-8 are an
    /// error naming the first bad byte rather than being replaced.
    public func encode(bytes: some Collection<UInt8>, addSpecialTokens: Bool = true) throws -> [Int] {
        let scalars = try bytes.withContiguousStorageIfAvailable { try UTF8Scalars.decode($0) }
            ?? Array(bytes).withUnsafeBufferPointer { try UTF8Scalars.decode($0) }
        let ids = encodeScalars(scalars)
        guard addSpecialTokens, let postProcessor else { return ids }
        return postProcessor.process(ids, nil)
    }

    /// Added tokens → normalizer → pre-tokenizer → BPE, with a per-call word cache.
    func encodeScalars(_ scalars: [UInt32]) -> [Int] {
        var ids: [Int] = []
        ids.reserveCapacity(scalars.count / 3)
        var cache = WordCache()
        var mapped: [UInt32] = []
        // Tokenizes one pre-token; with a byte-level tail, `piece` is still unmapped text.
        func tokenize(_ piece: ArraySlice<UInt32>) {
            piece.withUnsafeBufferPointer { buffer in
                let cacheable = buffer.count <= WordCache.maxWordLength
                let hash = cacheable ? WordCache.hash(buffer) : 0
                if cacheable, let range = cache.find(buffer, hash: hash) {
                    ids.append(contentsOf: cache.ids[range])
                    return
                }
                let start = ids.count
                if byteLevelTail {
                    mapped.removeAll(keepingCapacity: true)
                    ByteLevel.encode(piece, into: &mapped)
                    model.tokenize(mapped[...], into: &ids)
                } else {
                    model.tokenize(piece, into: &ids)
                }
                if cacheable { cache.insert(buffer, hash: hash, ids: ids[start...]) }
            }
        }
        for segment in addedVocabulary.extractAndNormalize(scalars, normalizer: normalizer) {
            switch segment {
            case let .token(id):
                ids.append(id)
            case let .text(text, atOrigin):
                if text.isEmpty { continue }  // HF drops empty splits before pre-tokenizing
                if let splitter {
                    splitter.forEachPiece(text[...], atOrigin: atOrigin) { piece, _ in tokenize(piece) }
                } else {
                    tokenize(text[...])
                }
            }
        }
        return ids
    }

    // MARK: Decoding

    /// Text of `ids` through the decoder; ids that are neither in the vocabulary nor added
    /// tokens throw `TokenizerError.idOutOfRange`.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) throws -> String {
        var tokens: [String] = []
        tokens.reserveCapacity(ids.count)
        for id in ids {
            if let added = addedVocabulary.idToToken[id] {
                if skipSpecialTokens && added.special { continue }
                tokens.append(addedVocabulary.idToContent[id] ?? added.content)
                continue
            }
            guard let token = model.token(of: id) else {
                throw TokenizerError.idOutOfRange(id: id, vocabularySize: vocabularySize)
            }
            if skipSpecialTokens && specialContents.contains(token.unicodeScalars.map(\.value)) { continue }
            tokens.append(token)
        }
        guard let decoder else { return tokens.joined(separator: " ") }
        return decoder.decode(tokens)
    }
}
