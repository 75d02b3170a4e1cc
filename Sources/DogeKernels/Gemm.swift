/// Row-major single-precision GEMM: `C = alpha · op(A) · op(B) + beta · C`.
///
/// `op(A)` is [m, k] and `op(B)` is [k, n]. With `transA` A is stored [k, m]; with `transB` B is
/// stored [n, k] (the Linear-layer case, `y = x · Wᵀ`). Leading dimensions are row strides.
public struct GemmShape: Sendable {
    public var transA: Bool
    public var transB: Bool
    public var m: Int
    public var n: Int
    public var k: Int
    public var lda: Int
    public var ldb: Int
    public var ldc: Int

    public init(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil) {
        self.transA = transA
        self.transB = transB
        self.m = m
        self.n = n
        self.k = k
        self.lda = lda ?? (transA ? m : k)
        self.ldb = ldb ?? (transB ? k : n)
        self.ldc = ldc ?? n
    }
}

/// The portable reference GEMM: obviously correct, slow. Tests compare every fast path with it.
public func referenceGemm(_ s: GemmShape, alpha: Float = 1, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                          beta: Float = 0, _ c: UnsafeMutablePointer<Float>) {
    for i in 0..<s.m {
        for j in 0..<s.n {
            var acc: Double = 0
            for p in 0..<s.k {
                let av = s.transA ? a[p * s.lda + i] : a[i * s.lda + p]
                let bv = s.transB ? b[j * s.ldb + p] : b[p * s.ldb + j]
                acc += Double(av) * Double(bv)
            }
            let old = beta == 0 ? 0 : beta * c[i * s.ldc + j]
            c[i * s.ldc + j] = alpha * Float(acc) + old
        }
    }
}
