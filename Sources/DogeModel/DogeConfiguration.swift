import Foundation

/// `DogeConfig` from transformers, with the same field names and defaults (configuration_doge.py).
public struct DogeConfiguration: Sendable, Equatable {
    public var vocabSize = 32768
    public var hiddenSize = 1024
    public var intermediateSize = 2048
    public var numHiddenLayers = 32
    public var hiddenDropout = 0.0
    public var hiddenAct = "silu"
    public var initializerRange = 0.02
    public var rmsNormEps = 1e-6
    public var useCache = true
    public var tieWordEmbeddings = false
    public var maxPositionEmbeddings = 2048
    public var rope = RopeParameters()
    public var numAttentionHeads = 8
    public var numKeyValueHeads = 8
    /// Only present in config.json when it differs from hidden_size / num_attention_heads.
    public var explicitHeadDim: Int?
    public var attentionBias = false
    public var attentionDropout = 0.0
    public var mlpBias = false
    public var slidingWindow: Int?
    public var keepWindowSize = 2048
    public var isMoE = false
    public var numExperts = 16384
    public var numExpertsPerTok = 64
    public var normTopkProb = false
    public var outputRouterLogits = false
    public var routerAuxLossCoef = 0.001
    public var padTokenId: Int?
    public var bosTokenId: Int?
    public var eosTokenIds: [Int] = []
    /// Labels of the sequence-classification head (`id2label`); transformers defaults to two.
    public var numLabels = 2
    /// Every key of the file as read, so a save keeps what this struct does not model.
    public var raw: [String: JSONValue] = [:]

    public init() {}

    public var headDim: Int { explicitHeadDim ?? hiddenSize / numAttentionHeads }
    /// Query heads per key/value head.
    public var groupSize: Int { numAttentionHeads / numKeyValueHeads }
    /// CDMoE product keys per side: floor(sqrt(num_experts)).
    public var numKeys: Int { Int(Double(numExperts).squareRoot().rounded(.down)) }
}

/// RoPE settings in transformers 5's `rope_parameters` form, whichever spelling the file used.
public struct RopeParameters: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case `default`, linear, dynamic, yarn, llama3
    }

    public var kind: Kind = .default
    public var theta = 10_000.0
    public var factor: Double?
    public var originalMaxPositionEmbeddings: Int?
    public var attentionFactor: Double?
    public var betaFast: Double?
    public var betaSlow: Double?
    public var mscale: Double?
    public var mscaleAllDim: Double?
    public var lowFreqFactor: Double?
    public var highFreqFactor: Double?
    public var truncate = true
    public var partialRotaryFactor = 1.0

    public init() {}
}

extension DogeConfiguration {
    /// The DogeConfig fields `init(json:)` reads, plus the PretrainedConfig keys every config.json
    /// may carry. A recipe's model_init_kwargs may only use these (a typo is an error there).
    public static let fieldNames: Set<String> = [
        "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "hidden_dropout", "hidden_act",
        "initializer_range", "rms_norm_eps", "use_cache", "tie_word_embeddings", "max_position_embeddings",
        "num_attention_heads", "num_key_value_heads", "head_dim", "attention_bias", "attention_dropout", "mlp_bias",
        "sliding_window", "keep_window_size", "is_moe", "num_experts", "num_experts_per_tok", "norm_topk_prob",
        "output_router_logits", "router_aux_loss_coef", "pad_token_id", "bos_token_id", "eos_token_id",
        "id2label", "label2id", "num_labels", "rope_theta", "rope_scaling", "rope_parameters", "partial_rotary_factor",
        "architectures", "model_type", "transformers_version", "torch_dtype", "dtype", "attn_implementation",
    ]

    /// Reads `config.json`. Unknown keys are kept in `raw` and otherwise ignored.
    public static func load(from url: URL) throws -> DogeConfiguration {
        try DogeConfiguration(json: JSONValue.readObject(at: url), file: url.lastPathComponent)
    }

    public init(json: [String: JSONValue], file: String = "config.json") throws {
        let r = ConfigReader(object: json, file: file)
        raw = json
        vocabSize = try r.int("vocab_size", default: vocabSize)
        hiddenSize = try r.int("hidden_size", default: hiddenSize)
        intermediateSize = try r.int("intermediate_size", default: intermediateSize)
        numHiddenLayers = try r.int("num_hidden_layers", default: numHiddenLayers)
        hiddenDropout = try r.double("hidden_dropout", default: hiddenDropout)
        hiddenAct = try r.string("hidden_act", default: hiddenAct)
        initializerRange = try r.double("initializer_range", default: initializerRange)
        rmsNormEps = try r.double("rms_norm_eps", default: rmsNormEps)
        useCache = try r.bool("use_cache", default: useCache)
        tieWordEmbeddings = try r.bool("tie_word_embeddings", default: tieWordEmbeddings)
        maxPositionEmbeddings = try r.int("max_position_embeddings", default: maxPositionEmbeddings)
        numAttentionHeads = try r.int("num_attention_heads", default: numAttentionHeads)
        numKeyValueHeads = try r.optionalInt("num_key_value_heads") ?? numAttentionHeads
        explicitHeadDim = try r.optionalInt("head_dim")
        attentionBias = try r.bool("attention_bias", default: attentionBias)
        attentionDropout = try r.double("attention_dropout", default: attentionDropout)
        mlpBias = try r.bool("mlp_bias", default: mlpBias)
        slidingWindow = try r.optionalInt("sliding_window")
        keepWindowSize = try r.int("keep_window_size", default: keepWindowSize)
        isMoE = try r.bool("is_moe", default: isMoE)
        numExperts = try r.int("num_experts", default: numExperts)
        numExpertsPerTok = try r.int("num_experts_per_tok", default: numExpertsPerTok)
        normTopkProb = try r.bool("norm_topk_prob", default: normTopkProb)
        outputRouterLogits = try r.bool("output_router_logits", default: outputRouterLogits)
        routerAuxLossCoef = try r.double("router_aux_loss_coef", default: routerAuxLossCoef)
        padTokenId = try r.optionalInt("pad_token_id")
        bosTokenId = try r.optionalInt("bos_token_id")
        eosTokenIds = try r.intOrIntList("eos_token_id")
        if case .object(let labels)? = json["id2label"] { numLabels = labels.count }
        numLabels = try r.optionalInt("num_labels") ?? numLabels
        rope = try r.rope()
        try validate(file: file)
    }

    /// Rejects configurations no checkpoint can have, naming the field.
    public func validate(file: String = "config.json") throws {
        func bad(_ field: String, _ problem: String) -> ModelError {
            .invalidConfig(file: file, field: field, problem: problem)
        }
        for (field, value) in [("vocab_size", vocabSize), ("hidden_size", hiddenSize),
                               ("intermediate_size", intermediateSize), ("num_hidden_layers", numHiddenLayers),
                               ("num_attention_heads", numAttentionHeads), ("num_key_value_heads", numKeyValueHeads),
                               ("max_position_embeddings", maxPositionEmbeddings), ("keep_window_size", keepWindowSize)]
        where value <= 0 {
            throw bad(field, "must be a positive integer, found \(value)")
        }
        if explicitHeadDim == nil, hiddenSize % numAttentionHeads != 0 {
            throw bad("num_attention_heads", "\(numAttentionHeads) heads do not divide hidden_size \(hiddenSize); set head_dim or change the head count")
        }
        if let d = explicitHeadDim, d <= 0 { throw bad("head_dim", "must be positive, found \(d)") }
        if headDim % 2 != 0 { throw bad("head_dim", "rotary embeddings need an even head_dim, found \(headDim)") }
        if numAttentionHeads % numKeyValueHeads != 0 {
            throw bad("num_key_value_heads", "\(numKeyValueHeads) key/value heads do not divide \(numAttentionHeads) attention heads")
        }
        if !(rmsNormEps > 0) { throw bad("rms_norm_eps", "must be positive, found \(rmsNormEps)") }
        if let w = slidingWindow, w <= 0 { throw bad("sliding_window", "must be positive or null, found \(w)") }
        if Activation(name: hiddenAct) == nil {
            throw bad("hidden_act", "unsupported activation \"\(hiddenAct)\"; supported: silu, swish, relu, gelu, gelu_new, gelu_pytorch_tanh")
        }
        if isMoE {
            if numExperts <= 0 { throw bad("num_experts", "must be positive, found \(numExperts)") }
            if numExpertsPerTok <= 0 || numExpertsPerTok > numKeys * numKeys {
                throw bad("num_experts_per_tok", "must be between 1 and \(numKeys * numKeys) (floor(sqrt(num_experts))²), found \(numExpertsPerTok)")
            }
        }
        if let pad = padTokenId, pad < 0 || pad >= vocabSize {
            throw bad("pad_token_id", "\(pad) is outside the vocabulary of \(vocabSize)")
        }
        switch rope.kind {
        case .default: break
        case .linear, .dynamic, .yarn, .llama3:
            if rope.kind != .yarn, (rope.factor ?? 0) <= 0 {
                throw bad("rope_parameters.factor", "rope_type \(rope.kind.rawValue) needs a positive factor")
            }
            if rope.kind == .llama3, rope.lowFreqFactor == nil || rope.highFreqFactor == nil {
                throw bad("rope_parameters", "rope_type llama3 needs low_freq_factor and high_freq_factor")
            }
        }
        if !(rope.theta > 0) { throw bad("rope_theta", "must be positive, found \(rope.theta)") }
        try validateSizes(file: file)
        if rope.partialRotaryFactor != 1 {
            throw bad("partial_rotary_factor", "Doge rotates the whole head; found \(rope.partialRotaryFactor)")
        }
    }

    /// config.json as transformers writes it: the keys read (unknown ones included) with this
    /// struct's values on top.
    public func jsonObject() -> [String: JSONValue] {
        var o = raw
        func opt(_ v: Int?) -> JSONValue { v.map { .int($0) } ?? .null }
        o["model_type"] = .string("doge")
        if o["architectures"] == nil { o["architectures"] = .array([.string("DogeForCausalLM")]) }
        o["vocab_size"] = .int(vocabSize)
        o["hidden_size"] = .int(hiddenSize)
        o["intermediate_size"] = .int(intermediateSize)
        o["num_hidden_layers"] = .int(numHiddenLayers)
        o["hidden_dropout"] = .double(hiddenDropout)
        o["hidden_act"] = .string(hiddenAct)
        o["initializer_range"] = .double(initializerRange)
        o["rms_norm_eps"] = .double(rmsNormEps)
        o["use_cache"] = .bool(useCache)
        o["tie_word_embeddings"] = .bool(tieWordEmbeddings)
        o["max_position_embeddings"] = .int(maxPositionEmbeddings)
        o["num_attention_heads"] = .int(numAttentionHeads)
        o["num_key_value_heads"] = .int(numKeyValueHeads)
        if let d = explicitHeadDim { o["head_dim"] = .int(d) }
        o["attention_bias"] = .bool(attentionBias)
        o["attention_dropout"] = .double(attentionDropout)
        o["mlp_bias"] = .bool(mlpBias)
        o["sliding_window"] = opt(slidingWindow)
        o["keep_window_size"] = .int(keepWindowSize)
        o["is_moe"] = .bool(isMoE)
        o["num_experts"] = .int(numExperts)
        o["num_experts_per_tok"] = .int(numExpertsPerTok)
        o["norm_topk_prob"] = .bool(normTopkProb)
        o["output_router_logits"] = .bool(outputRouterLogits)
        o["router_aux_loss_coef"] = .double(routerAuxLossCoef)
        o["pad_token_id"] = opt(padTokenId)
        o["bos_token_id"] = opt(bosTokenId)
        o["eos_token_id"] = eosTokenIds.count == 1 ? .int(eosTokenIds[0]) : eosTokenIds.isEmpty ? .null : .array(eosTokenIds.map { .int($0) })
        // RoPE keeps the spelling it was read in; a new config uses transformers 5's.
        if raw["rope_parameters"] == nil && raw["rope_theta"] == nil && raw["rope_scaling"] == nil {
            var r: [String: JSONValue] = ["rope_type": .string(rope.kind.rawValue), "rope_theta": .double(rope.theta)]
            if let f = rope.factor { r["factor"] = .double(f) }
            if let m = rope.originalMaxPositionEmbeddings { r["original_max_position_embeddings"] = .int(m) }
            if let a = rope.attentionFactor { r["attention_factor"] = .double(a) }
            if let b = rope.betaFast { r["beta_fast"] = .double(b) }
            if let b = rope.betaSlow { r["beta_slow"] = .double(b) }
            if let l = rope.lowFreqFactor { r["low_freq_factor"] = .double(l) }
            if let h = rope.highFreqFactor { r["high_freq_factor"] = .double(h) }
            o["rope_parameters"] = .object(r)
        }
        return o
    }
}

/// Typed access to a config.json object, with errors that name the field.
struct ConfigReader {
    let object: [String: JSONValue]
    let file: String

    private func fail(_ key: String, _ expected: String, _ found: JSONValue) -> ModelError {
        .invalidConfig(file: file, field: key, problem: "expected \(expected), found \(Self.show(found))")
    }

    static func show(_ v: JSONValue) -> String {
        switch v {
        case .null: return "null"
        case .bool(let b): return "\(b)"
        case .int(let i): return "\(i)"
        case .double(let d): return "\(d)"
        case .string(let s): return "\"\(s)\""
        case .array: return "a list"
        case .object: return "an object"
        }
    }

    func int(_ key: String, default d: Int) throws -> Int { try optionalInt(key) ?? d }

    func optionalInt(_ key: String, in obj: [String: JSONValue]? = nil) throws -> Int? {
        switch (obj ?? object)[key] {
        case nil, .null?: return nil
        case .int(let i)?: return i
        case .double(let d)? where d == d.rounded() && abs(d) < 1e15: return Int(d)
        case let v?: throw fail(key, "an integer", v)
        }
    }

    func double(_ key: String, default d: Double) throws -> Double { try optionalDouble(key) ?? d }

    func optionalDouble(_ key: String, in obj: [String: JSONValue]? = nil) throws -> Double? {
        switch (obj ?? object)[key] {
        case nil, .null?: return nil
        case let v?:
            guard let d = v.doubleValue else { throw fail(key, "a number", v) }
            return d
        }
    }

    func bool(_ key: String, default d: Bool) throws -> Bool {
        switch object[key] {
        case nil, .null?: return d
        case .bool(let b)?: return b
        case let v?: throw fail(key, "true or false", v)
        }
    }

    func string(_ key: String, default d: String) throws -> String {
        switch object[key] {
        case nil, .null?: return d
        case .string(let s)?: return s
        case let v?: throw fail(key, "a string", v)
        }
    }

    func intOrIntList(_ key: String) throws -> [Int] {
        switch object[key] {
        case nil, .null?: return []
        case .int(let i)?: return [i]
        case .array(let items)?:
            return try items.map {
                guard case .int(let i) = $0 else { throw fail(key, "an integer or a list of integers", .array(items)) }
                return i
            }
        case let v?: throw fail(key, "an integer or a list of integers", v)
        }
    }

    /// Both spellings: transformers 5's `rope_parameters`, and `rope_theta` + `rope_scaling`.
    func rope() throws -> RopeParameters {
        var p = RopeParameters()
        var params: [String: JSONValue] = [:]
        var section = "rope_parameters"
        switch object["rope_parameters"] {
        case .object(let o)?: params = o
        case nil, .null?:
            section = "rope_scaling"
            switch object["rope_scaling"] {
            case .object(let o)?: params = o
            case nil, .null?: break
            case let v?: throw fail("rope_scaling", "an object or null", v)
            }
        case let v?: throw fail("rope_parameters", "an object or null", v)
        }
        let typeValue = params["rope_type"] ?? params["type"] ?? .string("default")
        guard case .string(let typeName) = typeValue else { throw fail("\(section).rope_type", "a string", typeValue) }
        guard let kind = RopeParameters.Kind(rawValue: typeName) else {
            throw ModelError.invalidConfig(file: file, field: "\(section).rope_type",
                                           problem: "unsupported RoPE type \"\(typeName)\"; supported: default, linear, dynamic, yarn, llama3")
        }
        p.kind = kind
        func num(_ k: String) throws -> Double? {
            switch params[k] {
            case nil, .null?: return nil
            case let v?:
                guard let d = v.doubleValue else { throw fail("\(section).\(k)", "a number", v) }
                return d
            }
        }
        p.theta = try num("rope_theta") ?? optionalDouble("rope_theta") ?? 10_000
        p.factor = try num("factor")
        p.originalMaxPositionEmbeddings = try num("original_max_position_embeddings").map { Int($0) }
            ?? optionalInt("original_max_position_embeddings")
        p.attentionFactor = try num("attention_factor")
        p.betaFast = try num("beta_fast")
        p.betaSlow = try num("beta_slow")
        p.mscale = try num("mscale")
        p.mscaleAllDim = try num("mscale_all_dim")
        p.lowFreqFactor = try num("low_freq_factor")
        p.highFreqFactor = try num("high_freq_factor")
        p.partialRotaryFactor = try num("partial_rotary_factor") ?? optionalDouble("partial_rotary_factor") ?? 1
        if case .bool(let t)? = params["truncate"] { p.truncate = t }
        return p
    }
}
