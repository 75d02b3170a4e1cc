/// Portable GEMM for CPUs without the C SIMD kernels (neither AVX2 nor AVX-512).
///
/// Normalises to `C[m,n] = alpha · A[m,k] · Bᵀ + beta · C` with B stored [n, k] (SIMD8 dot
/// products along contiguous k), transposing the operands into scratch when needed. With a pool
/// the rows of C (or its columns when m is small) are split across threads.
func builtinGemm(_ s: GemmShape, alpha: Float, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                 beta: Float, _ c: UnsafeMutablePointer<Float>, pool: ComputePool? = nil) {
    if s.m <= 0 || s.n <= 0 { return }
    if s.k == 0 || alpha == 0 {  // BLAS semantics: A and B are not read, C = beta·C
        for i in 0..<s.m {
            for j in 0..<s.n { c[i * s.ldc + j] = beta == 0 ? 0 : beta * c[i * s.ldc + j] }
        }
        return
    }
    // A as [m, k] contiguous rows.
    var aPacked: [Float] = []
    if s.transA {
        aPacked = [Float](repeating: 0, count: s.m * s.k)
        for p in 0..<s.k { for i in 0..<s.m { aPacked[i * s.k + p] = a[p * s.lda + i] } }
    }
    // B as [n, k] contiguous rows.
    var bPacked: [Float] = []
    if !s.transB {
        bPacked = [Float](repeating: 0, count: s.n * s.k)
        for p in 0..<s.k { for j in 0..<s.n { bPacked[j * s.k + p] = b[p * s.ldb + j] } }
    }
    aPacked.withUnsafeBufferPointer { ap in
        bPacked.withUnsafeBufferPointer { bp in
            let aRows = s.transA ? ap.baseAddress! : a, aStride = s.transA ? s.k : s.lda
            let bRows = s.transB ? b : bp.baseAddress!, bStride = s.transB ? s.ldb : s.k
            func block(_ rows: Range<Int>, _ cols: Range<Int>) {
                for i in rows {
                    let x = aRows + i * aStride
                    for j in cols {
                        let d = dot(x, bRows + j * bStride, s.k)
                        let cij = c + i * s.ldc + j
                        cij.pointee = alpha * d + (beta == 0 ? 0 : beta * cij.pointee)
                    }
                }
            }
            guard let pool, pool.threads > 1 else { block(0..<s.m, 0..<s.n); return }
            let parts = pool.threads
            pool.parallel(parts: parts) { part in
                if s.m >= parts * 4 {
                    block(s.m * part / parts..<s.m * (part + 1) / parts, 0..<s.n)
                } else {
                    block(0..<s.m, s.n * part / parts..<s.n * (part + 1) / parts)
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
