extension DogeForCausalLM {
    /// Visits every parameter under its Hugging Face key, in place (no copies when the tensor is
    /// uniquely referenced). Order: embeddings, layers, final norm, lm_head.
    public func forEachParameter(_ body: (String, inout Tensor) -> Void) {
        body("model.embed_tokens.weight", &model.embedTokens)
        for i in model.layers.indices {
            var layer = model.layers[i]
            model.layers[i] = placeholderLayer
            layer.forEachParameter(prefix: "model.layers.\(i).", body)
            model.layers[i] = layer
        }
        body("model.norm.weight", &model.norm.weight)
        if lmHead != nil { body("lm_head.weight", &lmHead!.weight) }
    }

    /// Sets every gradient to zero (keeps the buffers).
    public func zeroAll() {
        forEachParameter { _, t in t.data.withUnsafeMutableBufferPointer { p in p.update(repeating: 0) } }
    }
}

extension Linear {
    mutating func forEachParameter(prefix: String, _ body: (String, inout Tensor) -> Void) {
        body(prefix + ".weight", &weight)
        if bias != nil { body(prefix + ".bias", &bias!) }
    }
}

extension DecoderLayer {
    mutating func forEachParameter(prefix p: String, _ body: (String, inout Tensor) -> Void) {
        body(p + "input_layernorm.weight", &inputLayernorm.weight)
        body(p + "input_residual", &inputResidual)
        body(p + "post_attention_layernorm.weight", &postAttentionLayernorm.weight)
        body(p + "post_attention_residual", &postAttentionResidual)
        selfAttention.qProj.forEachParameter(prefix: p + "self_attn.q_proj", body)
        selfAttention.kProj.forEachParameter(prefix: p + "self_attn.k_proj", body)
        selfAttention.vProj.forEachParameter(prefix: p + "self_attn.v_proj", body)
        selfAttention.oProj.forEachParameter(prefix: p + "self_attn.o_proj", body)
        selfAttention.dtProj.forEachParameter(prefix: p + "self_attn.dt_proj", body)
        body(p + "self_attn.A", &selfAttention.a)
        if selfAttention.qNorm != nil { body(p + "self_attn.q_norm.weight", &selfAttention.qNorm!.weight) }
        if selfAttention.kNorm != nil { body(p + "self_attn.k_norm.weight", &selfAttention.kNorm!.weight) }
        var ff = feedForward
        feedForward = placeholderFeedForward
        switch ff {
        case .mlp(var m):
            ff = placeholderFeedForward   // m is now the only reference: updated in place
            m.forEachParameter(prefix: p + "mlp.", body)
            feedForward = .mlp(m)
        case .moe(var m):
            ff = placeholderFeedForward
            m.shared.forEachParameter(prefix: p + "mlp.", body)
            m.routerGate.forEachParameter(prefix: p + "mlp.router_gate", body)
            body(p + "mlp.down_embed.weight", &m.downEmbed)
            body(p + "mlp.up_embed.weight", &m.upEmbed)
            feedForward = .moe(m)
        }
    }
}

extension MLP {
    mutating func forEachParameter(prefix p: String, _ body: (String, inout Tensor) -> Void) {
        gateProj.forEachParameter(prefix: p + "gate_proj", body)
        upProj.forEachParameter(prefix: p + "up_proj", body)
        downProj.forEachParameter(prefix: p + "down_proj", body)
    }
}
