import Foundation
import DogeKernels

/// `DogeModel`: embeddings, the decoder layers and the final norm.
public final class DogeBackbone: @unchecked Sendable {
    public let config: DogeConfiguration
    public let layout: CheckpointLayout
    public var embedTokens: Tensor            // [vocab, hidden]; empty when held typed
    /// The embeddings held as BF16, F16 or quantized (inference); `embedTokens` is then empty.
    public private(set) var embedTyped: TypedMatrix?
    public var layers: [DecoderLayer]
    public var norm: RMSNorm
    public let rotary: RotaryEmbedding

    init(config: DogeConfiguration, layout: CheckpointLayout, weights w: [String: Tensor], typed: [String: TypedMatrix] = [:]) {
        self.config = config
        self.layout = layout
        let eps = Float(config.rmsNormEps)
        let activation = Activation(name: config.hiddenAct)!   // validated with the config
        func linear(_ key: String) -> Linear {
            if let t = typed[key + ".weight"] { return Linear(typed: t, bias: w[key + ".bias"]) }
            return Linear(weight: w[key + ".weight"]!, bias: w[key + ".bias"])
        }
        func rms(_ key: String) -> RMSNorm { RMSNorm(weight: w[key]!, eps: eps) }
        embedTyped = typed["model.embed_tokens.weight"]
        embedTokens = embedTyped == nil ? w["model.embed_tokens.weight"]! : Tensor(zeros: [0, config.hiddenSize])
        layers = (0..<config.numHiddenLayers).map { i in
            let p = "model.layers.\(i)."
            let attention = DynamicMaskAttention(
                qProj: linear(p + "self_attn.q_proj"), kProj: linear(p + "self_attn.k_proj"),
                vProj: linear(p + "self_attn.v_proj"), oProj: linear(p + "self_attn.o_proj"),
                dtProj: linear(p + "self_attn.dt_proj"), a: w[p + "self_attn.A"]!,
                qNorm: layout.hasQKNorm ? rms(p + "self_attn.q_norm.weight") : nil,
                kNorm: layout.hasQKNorm ? rms(p + "self_attn.k_norm.weight") : nil,
                config: config)
            let mlp = MLP(gateProj: linear(p + "mlp.gate_proj"), upProj: linear(p + "mlp.up_proj"),
                          downProj: linear(p + "mlp.down_proj"), activation: activation)
            let feedForward: FeedForward = config.isMoE
                ? .moe(CDMoE(shared: mlp, routerGate: linear(p + "mlp.router_gate"),
                             downEmbed: w[p + "mlp.down_embed.weight"]!, upEmbed: w[p + "mlp.up_embed.weight"]!, config: config))
                : .mlp(mlp)
            return DecoderLayer(inputLayernorm: rms(p + "input_layernorm.weight"), selfAttention: attention,
                                inputResidual: w[p + "input_residual"]!,
                                postAttentionLayernorm: rms(p + "post_attention_layernorm.weight"),
                                feedForward: feedForward, postAttentionResidual: w[p + "post_attention_residual"]!)
        }
        norm = rms("model.norm.weight")
        rotary = RotaryEmbedding(config: config)
    }

    /// Weights that will run are streamed once per decoded token: back the big ones with huge
    /// pages. For loaded or freshly initialised models, not for gradient holders.
    /// The LM head tied to the embeddings (held as they are).
    public var tiedHead: Linear { embedTyped.map { Linear(typed: $0) } ?? Linear(weight: embedTokens) }

    static func preferHugePages(_ weights: [String: Tensor]) {
        for tensor in weights.values { _ = tensor.data.withUnsafeBytes { MemoryAdvice.preferHugePages($0) } }
    }

    /// How CDMoE layers split router outputs (transformers' `.view` by default).
    public var routerSplit: RouterSplit {
        get {
            for layer in layers { if case .moe(let m) = layer.feedForward { return m.routerSplit } }
            return .transformersView
        }
        set {
            for i in layers.indices {
                if case .moe(var m) = layers[i].feedForward { m.routerSplit = newValue; layers[i].feedForward = .moe(m) }
            }
        }
    }

    /// Final hidden states [B·T, hidden] for token ids [B][T] (rectangular; padding marked in `layout`).
    /// Positions continue from the cache: past + 0 ..< T, as transformers' default position_ids.
    public func hiddenStates(ids: [[Int]], layout: BatchLayout, positions: [[Int]]? = nil, cache: DogeCache,
                             backend: ComputeBackend = .shared) throws -> Tensor {
        let hidden = config.hiddenSize
        var x = Tensor(zeros: [layout.batch * layout.tokens, hidden])
        for (b, row) in ids.enumerated() {
            for (t, id) in row.enumerated() {
                guard id >= 0 && id < config.vocabSize else {
                    throw ModelError.invalidInput("token id \(id) at batch row \(b), position \(t) is outside the vocabulary (0..<\(config.vocabSize))")
                }
                let dst = (b * layout.tokens + t) * hidden
                if let embedTyped {
                    x.data.withUnsafeMutableBufferPointer { embedTyped.row(id, into: $0.baseAddress! + dst) }
                } else {
                    x.data.replaceSubrange(dst..<(dst + hidden), with: embedTokens.data[(id * hidden)..<((id + 1) * hidden)])
                }
            }
        }
        let past = cache.length
        let flatPositions = positions.map { $0.flatMap { $0 } }
            ?? Array((0..<layout.batch).map { _ in Array(past..<(past + layout.tokens)) }.joined())
        let (cos, sin) = rotary.cosSin(positions: flatPositions)
        for (layer, layerCache) in zip(layers, cache.layers) {
            x = layer(x, layout: layout, cos: cos, sin: sin, cache: layerCache, backend: backend)
        }
        return norm(x, backend: backend)
    }
}

/// `DogeForCausalLM`: the backbone and the language-model head (tied to the embeddings or not).
public final class DogeForCausalLM: @unchecked Sendable {
    public let model: DogeBackbone
    public var lmHead: Linear?
    public var config: DogeConfiguration { model.config }
    public var layout: CheckpointLayout { model.layout }

    public init(config: DogeConfiguration, layout: CheckpointLayout, weights: [String: Tensor],
                typed: [String: TypedMatrix] = [:]) {
        model = DogeBackbone(config: config, layout: layout, weights: weights, typed: typed)
        if config.tieWordEmbeddings { lmHead = nil }
        else { lmHead = typed["lm_head.weight"].map { Linear(typed: $0) } ?? Linear(weight: weights["lm_head.weight"]!) }
    }

    /// Loads a checkpoint directory in Hugging Face layout (either tensor layout). By default
    /// (`.inference`) BF16/F16 matrices stay 16-bit and quantized checkpoints stay quantized;
    /// training loads `.float32`.
    public convenience init(directory: URL, loading: WeightLoading = .inference) throws {
        let (config, layout, weights, typed) = try CheckpointLoader.load(directory: directory, head: .causalLM, loading: loading)
        DogeBackbone.preferHugePages(weights)
        self.init(config: config, layout: layout, weights: weights, typed: typed)
    }

    /// A cache for `batch` rows; bounded to keep_window_size keys per dt head unless the config
    /// has a sliding window or `bounded` is false.
    public func makeCache(batch: Int = 1, bounded: Bool = true) -> DogeCache {
        DogeCache(config: config, layout: layout, batch: batch, bounded: bounded)
    }

    /// Logits [B, T', vocab] for token ids [B][T]. `attentionMask` [B][T] marks padding with 0.
    /// `logitsToKeep` > 0 computes only the last that many positions (T' = logitsToKeep).
    /// `positions` [B][T] default to cache length + 0 ..< T (transformers' default position_ids).
    public func logits(ids: [[Int]], attentionMask: [[Int]]? = nil, positions: [[Int]]? = nil, logitsToKeep: Int = 0,
                       cache: DogeCache? = nil, backend: ComputeBackend = .shared) throws -> Tensor {
        let layout = try Self.batchLayout(ids: ids, attentionMask: attentionMask)
        let cache = cache ?? makeCache(batch: layout.batch)
        if let positions, positions.count != layout.batch || positions.contains(where: { $0.count != layout.tokens }) {
            throw ModelError.invalidInput("positions shape \(positions.map(\.count)) does not match the ids \(ids.map(\.count))")
        }
        let hidden = try model.hiddenStates(ids: ids, layout: layout, positions: positions, cache: cache, backend: backend)
        let T = layout.tokens, H = config.hiddenSize
        let keep = logitsToKeep > 0 ? min(logitsToKeep, T) : T
        var selected = hidden
        if keep < T {
            selected = Tensor(zeros: [layout.batch * keep, H])
            for b in 0..<layout.batch {
                let src = (b * T + T - keep) * H
                selected.data.replaceSubrange((b * keep * H)..<((b + 1) * keep * H), with: hidden.data[src..<(src + keep * H)])
            }
        }
        return head(selected, backend: backend).reshaped([layout.batch, keep, config.vocabSize])
    }

    /// The LM head: `lm_head`, or the embedding matrix when tied.
    public var head: Linear { lmHead ?? model.tiedHead }

    static func batchLayout(ids: [[Int]], attentionMask: [[Int]]?) throws -> BatchLayout {
        guard let T = ids.first?.count, T > 0 else { throw ModelError.invalidInput("no tokens: give at least one token id") }
        guard ids.allSatisfy({ $0.count == T }) else {
            throw ModelError.invalidInput("batch rows have different lengths \(ids.map(\.count)); pad them to one length and pass an attention mask")
        }
        if let mask = attentionMask {
            guard mask.count == ids.count, mask.allSatisfy({ $0.count == T }) else {
                throw ModelError.invalidInput("attention mask shape \(mask.map(\.count)) does not match the ids \(ids.map(\.count))")
            }
            return BatchLayout(batch: ids.count, tokens: T, isReal: mask.map { $0.map { $0 != 0 } })
        }
        return BatchLayout(batch: ids.count, tokens: T)
    }
}

/// `DogeForSequenceClassification`: a bias-free score head read at each row's last non-padding token.
public final class DogeForSequenceClassification: @unchecked Sendable {
    public let model: DogeBackbone
    public var score: Linear
    public var config: DogeConfiguration { model.config }

    public init(directory: URL) throws {
        let (config, layout, weights) = try CheckpointLoader.load(directory: directory, head: .sequenceClassification)
        DogeBackbone.preferHugePages(weights)
        model = DogeBackbone(config: config, layout: layout, weights: weights)
        score = Linear(weight: weights["score.weight"]!)
    }

    /// Logits [B, num_labels]. As transformers: the rightmost token that is not pad_token_id.
    public func logits(ids: [[Int]], attentionMask: [[Int]]? = nil, backend: ComputeBackend = .shared) throws -> Tensor {
        let layout = try DogeForCausalLM.batchLayout(ids: ids, attentionMask: attentionMask)
        let cache = DogeCache(config: config, layout: model.layout, batch: layout.batch)
        let hidden = try model.hiddenStates(ids: ids, layout: layout, cache: cache, backend: backend)
        let all = score(hidden, backend: backend)        // [B·T, labels]
        let labels = config.numLabels, T = layout.tokens
        if config.padTokenId == nil && layout.batch > 1 {
            throw ModelError.invalidInput("cannot find the last token of padded rows: the config has no pad_token_id (use batch size 1 or set pad_token_id)")
        }
        var out = Tensor(zeros: [layout.batch, labels])
        for (b, row) in ids.enumerated() {
            let last = config.padTokenId.map { pad in row.indices.reduce(0) { row[$1] != pad ? $1 : $0 } } ?? (T - 1)
            out.data.replaceSubrange((b * labels)..<((b + 1) * labels), with: all.data[((b * T + last) * labels)..<((b * T + last + 1) * labels)])
        }
        return out
    }
}
