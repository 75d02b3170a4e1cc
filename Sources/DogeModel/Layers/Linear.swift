import DogeKernels

/// `nn.Linear`: y = x · Wᵀ + b, with W stored [out, in] as in the checkpoint.
///
/// W is a float32 `weight` (training, float32 checkpoints) or, for inference, a `typed` matrix
/// held as BF16, F16, Q8_0 or Q4_0; then `weight` is empty and the kernels widen W on the fly.
public struct Linear: Sendable {
    public var weight: Tensor
    public var bias: Tensor?
    /// W in 16-bit or quantized form (inference only); `weight` is then empty.
    public private(set) var typed: TypedMatrix?

    public init(weight: Tensor, bias: Tensor? = nil) {
        precondition(weight.rank == 2, "Linear weight must be 2-D")
        if let bias { precondition(bias.shape == [weight.shape[0]], "Linear bias must be [out]") }
        self.weight = weight
        self.bias = bias
    }

    public init(typed: TypedMatrix, bias: Tensor? = nil) {
        if let bias { precondition(bias.shape == [typed.rows], "Linear bias must be [out]") }
        self.weight = Tensor(zeros: [0, 0])
        self.bias = bias
        self.typed = typed
    }

    public var inFeatures: Int { typed?.cols ?? weight.shape[1] }
    public var outFeatures: Int { typed?.rows ?? weight.shape[0] }
    /// How W is held: f32, bf16, f16, q8_0 or q4_0.
    public var storage: WeightStorage { typed?.storage ?? .f32 }

    /// W as float32 (a widened copy when it is held typed).
    public var denseWeight: Tensor {
        guard let typed else { return weight }
        return Tensor(shape: [typed.rows, typed.cols], data: typed.floats())
    }

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
        if let typed {
            x.withUnsafeBufferPointer { xp in backend.gemm(xp.baseAddress!, rows: rows, typed, op.baseAddress!) }
            addBias(rows: rows, into: op)
            return
        }
        x.withUnsafeBufferPointer { xp in
            weight.data.withUnsafeBufferPointer { wp in
                backend.gemm(GemmShape(transB: true, m: rows, n: n, k: k), xp.baseAddress!, wp.baseAddress!, op.baseAddress!)
            }
        }
        addBias(rows: rows, into: op)
    }

    private func addBias(rows: Int, into op: UnsafeMutableBufferPointer<Float>) {
        guard let bias else { return }
        let n = outFeatures
        bias.data.withUnsafeBufferPointer { bp in
            for r in 0..<rows { VectorOps.add(bp.baseAddress!, into: op.baseAddress! + r * n, count: n) }
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
