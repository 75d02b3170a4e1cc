import Foundation

extension DogeBackbone {
    /// Every backbone tensor under its Hugging Face key.
    public func namedParameters() -> [String: Tensor] {
        let embeddings = embedTyped.map { Tensor(shape: [$0.rows, $0.cols], data: $0.floats()) } ?? embedTokens
        var out: [String: Tensor] = ["model.embed_tokens.weight": embeddings, "model.norm.weight": norm.weight]
        func put(_ key: String, _ l: Linear) {
            out[key + ".weight"] = l.denseWeight
            if let b = l.bias { out[key + ".bias"] = b }
        }
        for (i, layer) in layers.enumerated() {
            let p = "model.layers.\(i)."
            let attn = layer.selfAttention
            out[p + "input_layernorm.weight"] = layer.inputLayernorm.weight
            out[p + "input_residual"] = layer.inputResidual
            out[p + "post_attention_layernorm.weight"] = layer.postAttentionLayernorm.weight
            out[p + "post_attention_residual"] = layer.postAttentionResidual
            put(p + "self_attn.q_proj", attn.qProj)
            put(p + "self_attn.k_proj", attn.kProj)
            put(p + "self_attn.v_proj", attn.vProj)
            put(p + "self_attn.o_proj", attn.oProj)
            put(p + "self_attn.dt_proj", attn.dtProj)
            out[p + "self_attn.A"] = attn.a
            if let q = attn.qNorm { out[p + "self_attn.q_norm.weight"] = q.weight }
            if let k = attn.kNorm { out[p + "self_attn.k_norm.weight"] = k.weight }
            switch layer.feedForward {
            case .mlp(let m):
                put(p + "mlp.gate_proj", m.gateProj); put(p + "mlp.up_proj", m.upProj); put(p + "mlp.down_proj", m.downProj)
            case .moe(let m):
                put(p + "mlp.gate_proj", m.shared.gateProj); put(p + "mlp.up_proj", m.shared.upProj)
                put(p + "mlp.down_proj", m.shared.downProj); put(p + "mlp.router_gate", m.routerGate)
                out[p + "mlp.down_embed.weight"] = m.downEmbed
                out[p + "mlp.up_embed.weight"] = m.upEmbed
            }
        }
        return out
    }
}

extension DogeForCausalLM {
    /// Every tensor of the checkpoint under its Hugging Face key (no lm_head when tied).
    public func namedParameters() -> [String: Tensor] {
        var out = model.namedParameters()
        if let lmHead { out["lm_head.weight"] = lmHead.denseWeight }
        return out
    }

    /// Writes config.json and model.safetensors in the layout the model was loaded in, so
    /// transformers (or small-doge's remote code) loads the directory unchanged. Each file is
    /// written to a temporary name and renamed into place.
    public func save(to directory: URL, dtype: WeightDType = .f32) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw ModelError.io(path: directory.path, detail: "cannot create the directory: \(error.localizedDescription)")
        }
        if FileManager.default.fileExists(atPath: directory.appendingPathComponent("model.safetensors.index.json").path) {
            throw ModelError.io(path: directory.path, detail: "holds a sharded checkpoint (model.safetensors.index.json); save into a new directory instead of mixing two checkpoints")
        }
        var config = self.config.jsonObject()
        config["quantization_config"] = nil   // saved as float: quantized values are dequantized
        config["torch_dtype"] = .string(dtype == .f32 ? "float32" : "bfloat16")
        config["dtype"] = config["torch_dtype"]
        let specs = self.config.parameterSpecs(layout: layout)
        let parameters = namedParameters()
        let tensors = specs.map { ($0.key, parameters[$0.key]!) }
        try SafeTensorsWriter.write(tensors, dtype: dtype, to: directory.appendingPathComponent("model.safetensors"))
        try AtomicFile.write(JSONValue.encodeObject(config), to: directory.appendingPathComponent("config.json"))
    }
}
