import DogeKernels

/// `nn.Linear`: y = x · Wᵀ + b, with W stored [out, in] as in the checkpoint.
public struct Linear: Sendable {
    public var weight: Tensor
    public var bias: Tensor?

    public init(weight: Tensor, bias: Tensor? = nil) {
        precondition(weight.rank == 2, "Linear weight must be 2-D")
        if let bias { precondition(bias.shape == [weight.shape[0]], "Linear bias must be [out]") }
        self.weight = weight
        self.bias = bias
    }

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    /// x: [rows, in] → [rows, out].
    public func callAsFunction(_ x: Tensor, backend: ComputeBackend = .shared) -> Tensor {
        let rows = x.count / inFeatures
        precondition(rows * inFeatures == x.count, "Linear input of \(x.count) values is not a multiple of \(inFeatures)")
        return Tensor(shape: [rows, outFeatures]) { out in forward(x.data, rows: rows, into: out, backend: backend) }
    }

    /// Raw form for callers that manage their own buffers: out[rows, out] = x[rows, in] · Wᵀ + b.
    public func forward(_ x: [Float], rows: Int, into out: inout [Float], backend: ComputeBackend = .shared) {
        out.withUnsafeMutableBufferPointer { forward(x, rows: rows, into: $0, backend: backend) }
    }

    /// Writes every value of out[rows, out].
    public func forward(_ x: [Float], rows: Int, into op: UnsafeMutableBufferPointer<Float>, backend: ComputeBackend = .shared) {
        let n = outFeatures, k = inFeatures
        precondition(op.count >= rows * n)
        x.withUnsafeBufferPointer { xp in
            weight.data.withUnsafeBufferPointer { wp in
                backend.gemm(GemmShape(transB: true, m: rows, n: n, k: k), xp.baseAddress!, wp.baseAddress!, op.baseAddress!)
                if let bias {
                    bias.data.withUnsafeBufferPointer { bp in
                        for r in 0..<rows { VectorOps.add(bp.baseAddress!, into: op.baseAddress! + r * n, count: n) }
                    }
                }
            }
        }
    }
}

/// `DogeRMSNorm`: w ⊙ x / sqrt(mean(x²) + eps) over the last dimension, in float32.
public struct RMSNorm: Sendable {
    public var weight: Tensor
    public var eps: Float

    public init(weight: Tensor, eps: Float) {
        self.weight = weight
        self.eps = eps
    }

    /// Normalises every consecutive run of `weight.count` values of x.
    public func callAsFunction(_ x: Tensor, backend: ComputeBackend = .shared) -> Tensor {
        Tensor(shape: x.shape) { out in apply(x.data, into: out, backend: backend) }
    }

    public func apply(_ x: [Float], into out: inout [Float], backend: ComputeBackend = .shared) {
        out.withUnsafeMutableBufferPointer { apply(x, into: $0, backend: backend) }
    }

    /// Writes every value of `out` (x.count values).
    public func apply(_ x: [Float], into op: UnsafeMutableBufferPointer<Float>, backend: ComputeBackend = .shared) {
        let cols = weight.count
        let rows = x.count / cols
        precondition(op.count >= x.count)
        x.withUnsafeBufferPointer { xp in
            weight.data.withUnsafeBufferPointer { wp in
                let (x, w, o) = (xp.baseAddress!, wp.baseAddress!, op.baseAddress!)
                backend.pool.parallelRows(rows, minimumPerPart: 64) { r in
                    VectorOps.rmsNorm(x + r.lowerBound * cols, weight: w, eps: eps, rows: r.count, cols: cols,
                                      out: o + r.lowerBound * cols)
                }
            }
        }
    }
}
