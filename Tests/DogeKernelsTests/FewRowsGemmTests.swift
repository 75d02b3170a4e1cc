import Testing
import CDogeKernels
import DogeKernels

/// `dk_sgemm_few_rows` (m ≤ 4, neither operand transposed: attention's P·V for a few queries)
/// against the packed GEMM it stands in for: the same bits, every shape, stride and beta.
@Suite("Few-row GEMM equals the packed GEMM bit for bit")
struct FewRowsGemmTests {
    @Test func sameBitsAsThePackedGemm() {
        guard dk_isa() >= Int32(DK_ISA_AVX512) else {
            var c: Float = 0, a: Float = 1, b: Float = 1
            #expect(dk_sgemm_few_rows(Int32(DK_ISA_AVX512), 1, 1, 1, 1, &a, 1, &b, 1, 0, &c, 1) == 0)
            return
        }
        var rng = TestRNG(seed: 77)
        var cases = 0
        for m in 1...4 {
            for n in [1, 15, 16, 17, 64, 100, 128, 300] {
                for k in [1, 37, 256, 257, 600] {
                    for (alpha, beta) in [(Float(1), Float(0)), (1, 1), (0.3, 0.5)] {
                        let (lda, ldb, ldc) = (k + 3, n + 5, n + 2)   // strides wider than the rows
                        let a = rng.floats(m * lda), b = rng.floats(k * ldb), c0 = rng.floats(m * ldc)
                        var few = c0, packed = c0
                        let done = dk_sgemm_few_rows(Int32(DK_ISA_AVX512), m, n, k, alpha, a, lda, b, ldb, beta, &few, ldc)
                        #expect(done == 1)
                        _ = dk_sgemm_isa(Int32(DK_ISA_AVX512), 0, 0, m, n, k, alpha, a, lda, b, ldb, beta, &packed, ldc)
                        #expect(few.map(\.bitPattern) == packed.map(\.bitPattern), "m \(m) n \(n) k \(k) alpha \(alpha) beta \(beta)")
                        cases += 1
                    }
                }
            }
        }
        #expect(cases == 480)
    }

    /// Through the backend: a 3-row P·V gives what the packed GEMM gives.
    @Test func backendRoutesFewRows() {
        var rng = TestRNG(seed: 78)
        let (m, n, k) = (3, 128, 300)
        let a = rng.floats(m * k), b = rng.floats(k * n)
        var viaBackend = [Float](repeating: .nan, count: m * n), packed = viaBackend
        ComputeBackend.shared.gemm(GemmShape(m: m, n: n, k: k), a, b, &viaBackend)
        let isa = ComputeBackend.shared.isa.rawValue
        if isa >= Int32(DK_ISA_AVX2) {
            _ = dk_sgemm_isa(isa, 0, 0, m, n, k, 1, a, k, b, n, 0, &packed, n)
            #expect(viaBackend.map(\.bitPattern) == packed.map(\.bitPattern))
        }
    }
}
