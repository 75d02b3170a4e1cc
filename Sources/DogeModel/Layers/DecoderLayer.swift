import DogeKernels

/// The feed-forward half of a layer: a dense MLP or a CDMoE.
public enum FeedForward: Sendable {
    case mlp(MLP)
    case moe(CDMoE)

    public func callAsFunction(_ h: Tensor, backend: ComputeBackend) -> Tensor {
        switch self {
        case .mlp(let m): return m(h, backend: backend)
        case .moe(let m): return m(h, backend: backend)
        }
    }
}

/// `DogeDecoderLayer`:
///   x = input_residual ⊙ x + DMA(RMSNorm_input(x))
///   x = post_attention_residual ⊙ x + MLP(RMSNorm_post(x))
public struct DecoderLayer: Sendable {
    public var inputLayernorm: RMSNorm
    public var selfAttention: DynamicMaskAttention
    public var inputResidual: Tensor
    public var postAttentionLayernorm: RMSNorm
    public var feedForward: FeedForward
    public var postAttentionResidual: Tensor

    public func callAsFunction(_ x: Tensor, layout: BatchLayout, cos: [Float], sin: [Float],
                               cache: LayerKVCache, backend: ComputeBackend) -> Tensor {
        let attended = selfAttention(inputLayernorm(x, backend: backend), layout: layout, cos: cos, sin: sin, cache: cache,
                                     backend: backend)
        let afterAttention = residualAdd(x, scale: inputResidual, plus: attended, backend: backend)
        let transformed = feedForward(postAttentionLayernorm(afterAttention, backend: backend), backend: backend)
        return residualAdd(afterAttention, scale: postAttentionResidual, plus: transformed, backend: backend)
    }
}

/// residual ⊙ x + y, with `residual` broadcast over rows.
func residualAdd(_ x: Tensor, scale residual: Tensor, plus y: Tensor, backend: ComputeBackend = .shared) -> Tensor {
    let width = residual.count
    return Tensor(shape: y.shape) { out in
        residual.data.withUnsafeBufferPointer { r in
            x.data.withUnsafeBufferPointer { xs in
                y.data.withUnsafeBufferPointer { ys in
                    let (r, xs, ys, o) = (r.baseAddress!, xs.baseAddress!, ys.baseAddress!, out.baseAddress!)
                    backend.pool.parallelRows(y.count / width, minimumPerPart: 64) { rows in
                        for row in rows {
                            let base = row * width
                            for j in 0..<width { o[base + j] = ys[base + j] + r[j] * xs[base + j] }
                        }
                    }
                }
            }
        }
    }
}
