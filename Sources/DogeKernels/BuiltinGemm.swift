/// Built-in GEMM used when no BLAS library is available.
///
/// Normalises to `C[m,n] += A[m,k] · Bᵀ` with B stored [n, k] (dot products along contiguous k),
/// transposing the operands into scratch when needed.
func builtinGemm(_ s: GemmShape, alpha: Float, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                 beta: Float, _ c: UnsafeMutablePointer<Float>) {
    // A as [m, k] contiguous rows.
    var aPacked: [Float] = []
    var aRows = a
    var aStride = s.lda
    if s.transA {
        aPacked = [Float](repeating: 0, count: s.m * s.k)
        for p in 0..<s.k { for i in 0..<s.m { aPacked[i * s.k + p] = a[p * s.lda + i] } }
        aStride = s.k
    }
    // B as [n, k] contiguous rows.
    var bPacked: [Float] = []
    var bStride = s.ldb
    if !s.transB {
        bPacked = [Float](repeating: 0, count: s.n * s.k)
        for p in 0..<s.k { for j in 0..<s.n { bPacked[j * s.k + p] = b[p * s.ldb + j] } }
        bStride = s.k
    }
    aPacked.withUnsafeBufferPointer { ap in
        bPacked.withUnsafeBufferPointer { bp in
            if s.transA { aRows = ap.baseAddress! }
            let bRows = s.transB ? b : bp.baseAddress!
            for i in 0..<s.m {
                let x = aRows + i * aStride
                for j in 0..<s.n {
                    let d = dot(x, bRows + j * bStride, s.k)
                    let cij = c + i * s.ldc + j
                    cij.pointee = alpha * d + (beta == 0 ? 0 : beta * cij.pointee)
                }
            }
        }
    }
}

@inline(__always)
func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

/// Dot product of two contiguous float vectors (SIMD8, four accumulators).
@inline(__always)
public func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float {
    var a0 = SIMD8<Float>(), a1 = a0, a2 = a0, a3 = a0
    var i = 0
    while i + 32 <= n {
        a0 += load8(x + i) * load8(y + i)
        a1 += load8(x + i + 8) * load8(y + i + 8)
        a2 += load8(x + i + 16) * load8(y + i + 16)
        a3 += load8(x + i + 24) * load8(y + i + 24)
        i += 32
    }
    while i + 8 <= n { a0 += load8(x + i) * load8(y + i); i += 8 }
    var sum = ((a0 + a1) + (a2 + a3)).sum()
    while i < n { sum += x[i] * y[i]; i += 1 }
    return sum
}
