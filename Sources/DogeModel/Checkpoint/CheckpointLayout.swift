/// The two tensor layouts Doge checkpoints come in (doge-architecture.md, "Checkpoint layouts").
public struct CheckpointLayout: Sendable, Equatable, CustomStringConvertible {
    /// transformers ≥ 4.57: q_norm/k_norm present, dt per key/value head.
    public static let native = CheckpointLayout(hasQKNorm: true, dtPerAttentionHead: false)
    /// small-doge remote code: no q/k norm, dt (and the mask) per attention head.
    public static let remoteCode = CheckpointLayout(hasQKNorm: false, dtPerAttentionHead: true)

    public var hasQKNorm: Bool
    public var dtPerAttentionHead: Bool

    public init(hasQKNorm: Bool, dtPerAttentionHead: Bool) {
        self.hasQKNorm = hasQKNorm
        self.dtPerAttentionHead = dtPerAttentionHead
    }

    public func dtHeads(_ config: DogeConfiguration) -> Int {
        dtPerAttentionHead ? config.numAttentionHeads : config.numKeyValueHeads
    }

    public var description: String {
        switch self {
        case .native: return "native (transformers)"
        case .remoteCode: return "remote code (small-doge)"
        default: return "q/k norm \(hasQKNorm ? "yes" : "no"), dt per \(dtPerAttentionHead ? "attention" : "key/value") head"
        }
    }

    /// Decides from the tensors present and their shapes, never from file names: q_norm present →
    /// native; otherwise remote code, with dt per attention head when A has one entry per head.
    public static func detect(shapes: [String: [Int]], config: DogeConfiguration) -> CheckpointLayout {
        let hasQKNorm = shapes["model.layers.0.self_attn.q_norm.weight"] != nil
        let aCount = shapes["model.layers.0.self_attn.A"]?.first
        let perHead = aCount == config.numAttentionHeads && config.numAttentionHeads != config.numKeyValueHeads
        return CheckpointLayout(hasQKNorm: hasQKNorm, dtPerAttentionHead: perHead)
    }
}

/// What kind of parameter a tensor is (the Trainer skips weight decay on biases and norms).
public enum ParameterRole: Sendable, Equatable {
    case weight, bias, norm, residual, embedding
    /// `self_attn.A`: scales softplus(dt_proj(v)); zero in a new model.
    case dynamicMaskScale
}

/// One checkpoint tensor: its Hugging Face key and shape.
public struct ParameterSpec: Sendable, Equatable {
    public var key: String
    public var shape: [Int]
    public var role: ParameterRole
}

extension DogeConfiguration {
    /// Every tensor a `DogeForCausalLM` checkpoint of this config holds, in a fixed order.
    /// One list drives the loader, the saver and (later) the optimizer.
    public func parameterSpecs(layout: CheckpointLayout, head: ModelHead = .causalLM) -> [ParameterSpec] {
        let (hid, inter, D) = (hiddenSize, intermediateSize, headDim)
        let (H, G) = (numAttentionHeads, numKeyValueHeads)
        let dtHeads = layout.dtHeads(self)
        var specs: [ParameterSpec] = [ParameterSpec(key: "model.embed_tokens.weight", shape: [vocabSize, hid], role: .embedding)]
        func linear(_ key: String, out: Int, in inp: Int, bias: Bool) {
            specs.append(ParameterSpec(key: key + ".weight", shape: [out, inp], role: .weight))
            if bias { specs.append(ParameterSpec(key: key + ".bias", shape: [out], role: .bias)) }
        }
        for i in 0..<numHiddenLayers {
            let p = "model.layers.\(i)."
            specs.append(ParameterSpec(key: p + "input_layernorm.weight", shape: [hid], role: .norm))
            specs.append(ParameterSpec(key: p + "input_residual", shape: [hid], role: .residual))
            linear(p + "self_attn.q_proj", out: H * D, in: hid, bias: attentionBias)
            linear(p + "self_attn.k_proj", out: G * D, in: hid, bias: attentionBias)
            linear(p + "self_attn.v_proj", out: G * D, in: hid, bias: attentionBias)
            specs.append(ParameterSpec(key: p + "self_attn.A", shape: [dtHeads], role: .dynamicMaskScale))
            linear(p + "self_attn.dt_proj", out: dtHeads, in: G * D, bias: attentionBias)
            linear(p + "self_attn.o_proj", out: hid, in: H * D, bias: attentionBias)
            if layout.hasQKNorm {
                specs.append(ParameterSpec(key: p + "self_attn.q_norm.weight", shape: [D], role: .norm))
                specs.append(ParameterSpec(key: p + "self_attn.k_norm.weight", shape: [D], role: .norm))
            }
            specs.append(ParameterSpec(key: p + "post_attention_layernorm.weight", shape: [hid], role: .norm))
            specs.append(ParameterSpec(key: p + "post_attention_residual", shape: [hid], role: .residual))
            linear(p + "mlp.gate_proj", out: inter, in: hid, bias: mlpBias)
            linear(p + "mlp.up_proj", out: inter, in: hid, bias: mlpBias)
            linear(p + "mlp.down_proj", out: hid, in: inter, bias: mlpBias)
            if isMoE {
                specs.append(ParameterSpec(key: p + "mlp.router_gate.weight", shape: [2 * numKeys, hid], role: .weight))
                specs.append(ParameterSpec(key: p + "mlp.down_embed.weight", shape: [numExperts, hid], role: .embedding))
                specs.append(ParameterSpec(key: p + "mlp.up_embed.weight", shape: [numExperts, hid], role: .embedding))
            }
        }
        specs.append(ParameterSpec(key: "model.norm.weight", shape: [hid], role: .norm))
        switch head {
        case .causalLM:
            if !tieWordEmbeddings { specs.append(ParameterSpec(key: "lm_head.weight", shape: [vocabSize, hid], role: .weight)) }
        case .sequenceClassification:
            specs.append(ParameterSpec(key: "score.weight", shape: [numLabels, hid], role: .weight))
        }
        return specs
    }
}

/// The head on top of the decoder stack.
public enum ModelHead: Sendable, Equatable {
    case causalLM
    case sequenceClassification
}
