import Foundation
import DogeModel

/// How to pick tokens: transformers' `GenerationConfig` fields, with its defaults.
public struct GenerationConfig: Sendable, Equatable {
    public var maxNewTokens = 20
    public var minNewTokens = 0
    public var doSample = false
    public var temperature: Float = 1
    public var topK = 50
    public var topP: Float = 1
    public var minP: Float?
    public var repetitionPenalty: Float = 1
    /// Generation stops for a row when it produces one of these.
    public var eosTokenIds: [Int] = []
    public var padTokenId: Int?
    /// Generation stops when the generated text contains one of these (the text is cut before it).
    public var stopStrings: [String] = []
    /// Seeds the sampler; the same seed gives the same text.
    public var seed: UInt64 = 0

    public init() {}

    /// Greedy decoding of `maxNewTokens` tokens.
    public static func greedy(maxNewTokens: Int) -> GenerationConfig {
        var c = GenerationConfig()
        c.maxNewTokens = maxNewTokens
        return c
    }

    /// Defaults for a model directory: `generation_config.json` when present, eos ids from it or
    /// from config.json, as transformers resolves them.
    public static func defaults(forModelAt directory: URL, config: DogeConfiguration) throws -> GenerationConfig {
        var g = GenerationConfig()
        g.eosTokenIds = config.eosTokenIds
        g.padTokenId = config.padTokenId
        let url = directory.appendingPathComponent("generation_config.json")
        guard FileManager.default.fileExists(atPath: url.path) else { return g }
        let json = try JSONValue.readObject(at: url)
        func number(_ key: String) throws -> Double? {
            switch json[key] {
            case nil, .null?: return nil
            case let v?:
                guard let d = v.doubleValue else { throw GenerationError.invalidSetting(key, "expected a number in generation_config.json") }
                return d
            }
        }
        if case .bool(let b)? = json["do_sample"] { g.doSample = b }
        if let t = try number("temperature") { g.temperature = Float(t) }
        if let k = try number("top_k") { g.topK = Int(k) }
        if let p = try number("top_p") { g.topP = Float(p) }
        if let m = try number("min_p") { g.minP = Float(m) }
        if let r = try number("repetition_penalty") { g.repetitionPenalty = Float(r) }
        if let n = try number("max_new_tokens") { g.maxNewTokens = Int(n) }
        if let n = try number("min_new_tokens") { g.minNewTokens = Int(n) }
        if let p = try number("pad_token_id") { g.padTokenId = Int(p) }
        switch json["eos_token_id"] {
        case .int(let e)?: g.eosTokenIds = [e]
        case .array(let items)?: g.eosTokenIds = items.compactMap { if case .int(let i) = $0 { return i }; return nil }
        default: break
        }
        try g.validate()
        return g
    }

    /// Rejects values transformers rejects, naming the setting.
    public func validate() throws {
        if maxNewTokens < 0 { throw GenerationError.invalidSetting("max_new_tokens", "must be ≥ 0, got \(maxNewTokens)") }
        if minNewTokens < 0 { throw GenerationError.invalidSetting("min_new_tokens", "must be ≥ 0, got \(minNewTokens)") }
        if doSample {
            if !(temperature > 0) || !temperature.isFinite {
                throw GenerationError.invalidSetting("temperature", "must be a positive number when sampling, got \(temperature) (use greedy decoding instead of temperature 0)")
            }
            if topK < 0 { throw GenerationError.invalidSetting("top_k", "must be ≥ 0 (0 disables it), got \(topK)") }
            if !(topP > 0 && topP <= 1) { throw GenerationError.invalidSetting("top_p", "must be in (0, 1], got \(topP)") }
            if let minP, !(minP >= 0 && minP <= 1) { throw GenerationError.invalidSetting("min_p", "must be in [0, 1], got \(minP)") }
        }
        if !(repetitionPenalty > 0) || !repetitionPenalty.isFinite {
            throw GenerationError.invalidSetting("repetition_penalty", "must be a positive number, got \(repetitionPenalty)")
        }
        if stopStrings.contains("") { throw GenerationError.invalidSetting("stop", "stop strings must not be empty") }
    }
}

/// Why generation could not run.
public enum GenerationError: Error, CustomStringConvertible, Equatable {
    case invalidSetting(String, String)
    case emptyPrompt
    case promptTooLong(tokens: Int, limit: Int)
    case noChatTemplate(String)
    case noTokenizer(String)

    public var description: String {
        switch self {
        case let .invalidSetting(name, problem): return "invalid generation setting \(name): \(problem)"
        case .emptyPrompt: return "the prompt is empty: give some text or token ids to start from"
        case let .promptTooLong(tokens, limit):
            return "the prompt has \(tokens) tokens but this model supports \(limit) (max_position_embeddings × RoPE scaling); shorten it"
        case let .noChatTemplate(detail): return "this model has no chat template: \(detail). Use `doge generate` with a plain prompt instead"
        case let .noTokenizer(detail): return "no tokenizer: \(detail)"
        }
    }
}
