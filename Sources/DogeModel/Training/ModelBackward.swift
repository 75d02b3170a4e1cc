import Foundation
import DogeKernels

/// What one decoder layer's backward needs.
public struct DecoderLayerSaved: Sendable {
    var input: [Float]
    var inputRstd: [Float]
    var attention: AttentionSaved
    var afterAttention: [Float]
    var postRstd: [Float]
    var feedForward: FeedForwardSaved
}

public enum FeedForwardSaved: Sendable {
    case mlp(MLPSaved)
    case moe(CDMoESaved)
}

extension DecoderLayer {
    public func zeroGradient() -> DecoderLayer {
        let ff: FeedForward
        switch feedForward {
        case .mlp(let m): ff = .mlp(m.zeroGradient())
        case .moe(let m): ff = .moe(m.zeroGradient())
        }
        return DecoderLayer(inputLayernorm: inputLayernorm.zeroGradient(), selfAttention: selfAttention.zeroGradient(),
                            inputResidual: Tensor(zeros: inputResidual.shape),
                            postAttentionLayernorm: postAttentionLayernorm.zeroGradient(), feedForward: ff,
                            postAttentionResidual: Tensor(zeros: postAttentionResidual.shape))
    }

    /// x1 = r_in ⊙ x + DMA(norm_in(x));  x2 = r_post ⊙ x1 + FF(norm_post(x1)).
    public func forwardTraining(_ x: [Float], batch B: Int, tokens T: Int, cos: [Float], sin: [Float],
                                backend: ComputeBackend = .shared) -> (out: [Float], saved: DecoderLayerSaved) {
        let (normed, inputRstd) = inputLayernorm.forwardTraining(x)
        let (attended, attentionSaved) = selfAttention.forwardTraining(normed, batch: B, tokens: T, cos: cos, sin: sin, backend: backend)
        let width = inputResidual.count
        var x1 = attended
        for i in 0..<x1.count { x1[i] += inputResidual.data[i % width] * x[i] }
        let (normed2, postRstd) = postAttentionLayernorm.forwardTraining(x1)
        let ffOut: [Float], ffSaved: FeedForwardSaved
        switch feedForward {
        case .mlp(let m):
            let r = m.forwardTraining(normed2, rows: B * T, backend: backend); ffOut = r.out; ffSaved = .mlp(r.saved)
        case .moe(let m):
            let r = m.forwardTraining(normed2, rows: B * T, backend: backend); ffOut = r.out; ffSaved = .moe(r.saved)
        }
        var x2 = ffOut
        for i in 0..<x2.count { x2[i] += postAttentionResidual.data[i % width] * x1[i] }
        return (x2, DecoderLayerSaved(input: x, inputRstd: inputRstd, attention: attentionSaved, afterAttention: x1,
                                      postRstd: postRstd, feedForward: ffSaved))
    }

    public func backward(_ dy: [Float], saved s: DecoderLayerSaved, batch B: Int, tokens T: Int, cos: [Float], sin: [Float],
                         routerLogitGradient: [Float]? = nil, grads: inout DecoderLayer, backend: ComputeBackend = .shared) -> [Float] {
        let width = inputResidual.count
        // x2 = r_post ⊙ x1 + FF(norm_post(x1))
        var dx1 = [Float](repeating: 0, count: dy.count)
        for i in 0..<dy.count {
            grads.postAttentionResidual.data[i % width] += dy[i] * s.afterAttention[i]
            dx1[i] = dy[i] * postAttentionResidual.data[i % width]
        }
        let dNormed2: [Float]
        var gradFF = grads.feedForward
        grads.feedForward = placeholderFeedForward
        switch (feedForward, s.feedForward) {
        case (.mlp(let m), .mlp(let saved)):
            guard case .mlp(var g) = gradFF else { preconditionFailure("DecoderLayer.backward: gradient layer differs") }
            gradFF = placeholderFeedForward   // g is the only reference: no copy on write
            dNormed2 = m.backward(dy, saved: saved, rows: B * T, grads: &g, backend: backend)
            grads.feedForward = .mlp(g)
        case (.moe(let m), .moe(let saved)):
            guard case .moe(var g) = gradFF else { preconditionFailure("DecoderLayer.backward: gradient layer differs") }
            gradFF = placeholderFeedForward
            dNormed2 = m.backward(dy, saved: saved, rows: B * T, routerLogitGradient: routerLogitGradient, grads: &g, backend: backend)
            grads.feedForward = .moe(g)
        default:
            preconditionFailure("DecoderLayer.backward: saved activations do not match the layer")
        }
        _ = gradFF
        let dFromNorm2 = postAttentionLayernorm.backward(dNormed2, input: s.afterAttention, rstd: s.postRstd, grads: &grads.postAttentionLayernorm)
        for i in 0..<dx1.count { dx1[i] += dFromNorm2[i] }
        // x1 = r_in ⊙ x + DMA(norm_in(x))
        var dx = [Float](repeating: 0, count: dy.count)
        for i in 0..<dx1.count {
            grads.inputResidual.data[i % width] += dx1[i] * s.input[i]
            dx[i] = dx1[i] * inputResidual.data[i % width]
        }
        let dNormed = selfAttention.backward(dx1, saved: s.attention, batch: B, tokens: T, cos: cos, sin: sin,
                                             grads: &grads.selfAttention, backend: backend)
        let dFromNorm = inputLayernorm.backward(dNormed, input: s.input, rstd: s.inputRstd, grads: &grads.inputLayernorm)
        for i in 0..<dx.count { dx[i] += dFromNorm[i] }
        return dx
    }
}

/// An empty feed-forward value parked in a gradient layer while its real gradient is updated in place.
let placeholderFeedForward: FeedForward = {
    let empty = Linear(weight: Tensor(zeros: [0, 0]))
    return .mlp(MLP(gateProj: empty, upProj: empty, downProj: empty, activation: .silu))
}()
