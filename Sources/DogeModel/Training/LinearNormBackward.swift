import DogeKernels

// Backward passes of the two primitive layers (training only). Each pairs with the forward in
// Layers/Linear.swift: `backward` accumulates parameter gradients into a value of the same type
// (gradients mirror parameters) and returns the gradient of the input.

extension Linear {
    /// A Linear of the same shape filled with zeros: the gradient holder of this layer.
    public func zeroGradient() -> Linear {
        Linear(weight: Tensor(zeros: weight.shape), bias: bias.map { Tensor(zeros: $0.shape) })
    }

    /// x: [rows, in] (the saved forward input), dy: [rows, out].
    /// Accumulates dW += dyᵀ·x and db += Σ_rows dy; returns dx = dy·W ([rows, in]) unless
    /// `inputGradient` is false (then an empty array).
    public func backward(_ dy: [Float], input x: [Float], rows: Int, grads: inout Linear,
                         inputGradient: Bool = true, backend: ComputeBackend = .shared) -> [Float] {
        let n = outFeatures, k = inFeatures
        precondition(dy.count == rows * n && x.count == rows * k, "Linear.backward: shapes do not match")
        dy.withUnsafeBufferPointer { dyp in
            x.withUnsafeBufferPointer { xp in
                grads.weight.data.withUnsafeMutableBufferPointer { gw in
                    // dW[out, in] += dyᵀ[out, rows] · x[rows, in]
                    backend.gemm(GemmShape(transA: true, m: n, n: k, k: rows), dyp.baseAddress!, xp.baseAddress!,
                                 beta: 1, gw.baseAddress!)
                }
            }
            if grads.bias != nil {
                grads.bias!.data.withUnsafeMutableBufferPointer { gb in
                    for r in 0..<rows { VectorOps.add(dyp.baseAddress! + r * n, into: gb.baseAddress!, count: n) }
                }
            }
        }
        guard inputGradient else { return [] }
        var dx = [Float](repeating: 0, count: rows * k)
        dy.withUnsafeBufferPointer { dyp in
            weight.data.withUnsafeBufferPointer { wp in
                dx.withUnsafeMutableBufferPointer { dxp in
                    // dx[rows, in] = dy[rows, out] · W[out, in]
                    backend.gemm(GemmShape(m: rows, n: k, k: n), dyp.baseAddress!, wp.baseAddress!, dxp.baseAddress!)
                }
            }
        }
        return dx
    }
}

extension RMSNorm {
    public func zeroGradient() -> RMSNorm { RMSNorm(weight: Tensor(zeros: weight.shape), eps: eps) }

    /// Forward that also returns 1/sqrt(mean(x²)+eps) per row (what backward needs besides x).
    public func forwardTraining(_ x: [Float]) -> (y: [Float], rstd: [Float]) {
        let cols = weight.count, rows = x.count / cols
        var y = [Float](repeating: 0, count: x.count)
        var rstd = [Float](repeating: 0, count: rows)
        x.withUnsafeBufferPointer { xp in
            weight.data.withUnsafeBufferPointer { wp in
                y.withUnsafeMutableBufferPointer { yp in
                    for r in 0..<rows {
                        let row = xp.baseAddress! + r * cols
                        var ss: Float = 0
                        for c in 0..<cols { ss += row[c] * row[c] }
                        let s = 1 / (ss / Float(cols) + eps).squareRoot()
                        rstd[r] = s
                        let out = yp.baseAddress! + r * cols
                        for c in 0..<cols { out[c] = wp[c] * (row[c] * s) }
                    }
                }
            }
        }
        return (y, rstd)
    }

    /// y = w ⊙ x·s with s = (mean(x²)+eps)^-½:
    ///   dw += Σ_rows dy ⊙ x·s;  dx = s·(w⊙dy) − x·s³·mean((w⊙dy)⊙x).
    public func backward(_ dy: [Float], input x: [Float], rstd: [Float], grads: inout RMSNorm) -> [Float] {
        let cols = weight.count, rows = x.count / cols
        var dx = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { xp in
            dy.withUnsafeBufferPointer { dyp in
                weight.data.withUnsafeBufferPointer { wp in
                    grads.weight.data.withUnsafeMutableBufferPointer { gw in
                        dx.withUnsafeMutableBufferPointer { dxp in
                            for r in 0..<rows {
                                let xr = xp.baseAddress! + r * cols, g = dyp.baseAddress! + r * cols
                                let s = rstd[r]
                                var dotWX: Float = 0
                                for c in 0..<cols {
                                    gw[c] += g[c] * (xr[c] * s)
                                    dotWX += wp[c] * g[c] * xr[c]
                                }
                                let coefficient = dotWX / Float(cols) * s * s * s
                                let out = dxp.baseAddress! + r * cols
                                for c in 0..<cols { out[c] = s * wp[c] * g[c] - xr[c] * coefficient }
                            }
                        }
                    }
                }
            }
        }
        return dx
    }
}

/// x' = x·cos + rotate_half(x)·sin inverted for gradients, in place, for `heads` heads of one token:
/// with g = dx', dx[i] = g[i]·cos[i] + g[i+½]·sin[i+½], dx[i+½] = g[i+½]·cos[i+½] − g[i]·sin[i].
@inline(__always)
func applyRotaryBackward(_ g: UnsafeMutablePointer<Float>, heads: Int, dim: Int, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>) {
    let half = dim / 2
    for h in 0..<heads {
        let v = g + h * dim
        for i in 0..<half {
            let a = v[i], b = v[i + half]
            v[i] = a * cos[i] + b * sin[i + half]
            v[i + half] = b * cos[i + half] - a * sin[i]
        }
    }
}
