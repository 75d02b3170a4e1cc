import Foundation
import DogeKernels
import DogeModel

/// torch.optim.AdamW (single-tensor CPU path, amsgrad off, maximize off), step for step:
///     p ← p·(1 − lr·wd)                       (decayed parameters only)
///     m ← m + (1 − β1)·(g − m)                (torch's lerp)
///     v ← β2·v + (1 − β2)·g²
///     p ← p − lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + ε)
public struct AdamW: Sendable {
    public var beta1: Double
    public var beta2: Double
    public var epsilon: Double
    public var weightDecay: Double
    /// Optimizer steps taken (torch's `state["step"]`, the same for every parameter).
    public var step: Int = 0
    /// First and second moments by parameter name.
    public var exponentialAverage: [String: [Float]] = [:]
    public var exponentialAverageSquared: [String: [Float]] = [:]
    /// Threads for the element-wise update.
    public var pool: ComputePool = .shared

    public init(beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double = 0.01) {
        self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon; self.weightDecay = weightDecay
    }

    /// One update of every parameter of `model` with the gradient of the same name in `grads`.
    /// `decay(name)` says whether the parameter gets weight decay (HF Trainer's rule: `decayed`).
    public mutating func update(_ model: DogeForCausalLM, gradients: [String: Tensor], learningRate lr: Double,
                                decay: (String) -> Bool = AdamW.decayed) {
        step += 1
        model.forEachParameter { name, p in
            guard let g = gradients[name] else { return }
            apply(name: name, parameter: &p, gradient: g, learningRate: lr, decays: decay(name))
        }
    }

    /// The update of one parameter tensor at the current `step` (already counted).
    public mutating func apply(name: String, parameter p: inout Tensor, gradient g: Tensor, learningRate lr: Double, decays: Bool) {
        precondition(p.count == g.count, "AdamW: gradient of \(name) has \(g.count) values, the parameter \(p.count)")
        let biasCorrection1 = 1 - pow(beta1, Double(step))
        let biasCorrection2 = 1 - pow(beta2, Double(step))
        let constants = AdamWStep(decayFactor: Float(1 - lr * weightDecay), decays: decays && weightDecay != 0,
                                  oneMinusBeta1: Float(1 - beta1), beta2: Float(beta2), oneMinusBeta2: Float(1 - beta2),
                                  biasCorrection2Sqrt: Float(biasCorrection2.squareRoot()), epsilon: Float(epsilon),
                                  stepSize: Float(lr / biasCorrection1))
        var m = exponentialAverage.removeValue(forKey: name) ?? [Float](repeating: 0, count: p.count)
        var v = exponentialAverageSquared.removeValue(forKey: name) ?? [Float](repeating: 0, count: p.count)
        let count = p.count
        p.data.withUnsafeMutableBufferPointer { pp in
            g.data.withUnsafeBufferPointer { gp in
                m.withUnsafeMutableBufferPointer { mp in
                    v.withUnsafeMutableBufferPointer { vp in
                        let (pb, gb, mb, vb) = (pp.baseAddress!, gp.baseAddress!, mp.baseAddress!, vp.baseAddress!)
                        // Element-wise and independent: split across the pool for large tensors (same result).
                        let parts = count >= 1 << 16 ? pool.threads : 1
                        pool.parallel(parts: parts) { part in
                            let lo = count * part / parts, hi = count * (part + 1) / parts
                            VectorOps.adamW(parameters: pb + lo, gradients: gb + lo, firstMoment: mb + lo,
                                            secondMoment: vb + lo, count: hi - lo, step: constants)
                        }
                    }
                }
            }
        }
        exponentialAverage[name] = m
        exponentialAverageSquared[name] = v
    }

    /// transformers' `Trainer.get_decay_parameter_names`: every parameter except those whose
    /// lower-cased name matches bias, layernorm, rmsnorm, `(^|\.)norm($|\.)` or `_norm($|\.)`.
    /// So residuals, A, embeddings and projections decay; biases and norm weights do not.
    public static func decayed(_ name: String) -> Bool {
        let n = name.lowercased()
        if n.contains("bias") || n.contains("layernorm") || n.contains("rmsnorm") { return false }
        let parts = n.split(separator: ".", omittingEmptySubsequences: false)
        if parts.contains("norm") { return false }
        if parts.contains(where: { $0.hasSuffix("_norm") }) { return false }
        return true
    }
}

/// torch.nn.utils.clip_grad_norm_ with max_norm and norm type 2: returns the total norm and
/// scales every gradient by min(1, max_norm / (total + 1e-6)).
public func clipGradientNorm(_ gradients: inout [String: Tensor], maxNorm: Double) -> Double {
    var total = 0.0
    for key in gradients.keys.sorted() {
        var s: Float = 0
        for x in gradients[key]!.data { s += x * x }
        let norm = Double(Float(s).squareRoot())
        total += norm * norm
    }
    total = total.squareRoot()
    guard maxNorm > 0 else { return total }
    let coefficient = Float(min(1, maxNorm / (total + 1e-6)))
    if coefficient < 1 {
        for key in gradients.keys {
            gradients[key]!.data.withUnsafeMutableBufferPointer { p in for i in 0..<p.count { p[i] *= coefficient } }
        }
    }
    return total
}
