import Testing
import DogeKernels

/// Shapes that hit every edge: 1×1×1, odd tiles, gemv (m == 1), n == 1, k == 0, k across KC
/// (256), m across MC (120 / 192), n across NC (2048 / 4096), and work large enough to be split
/// across threads. Kept small: the reference runs unoptimised in debug builds.
private let shapes: [(m: Int, n: Int, k: Int)] = [
    (1, 1, 1), (7, 13, 5), (1, 37, 64), (1, 300, 257), (5, 1, 9), (6, 16, 256), (13, 33, 300),
    (30, 70, 513), (200, 40, 20), (7, 4200, 9), (130, 70, 32), (3, 5, 0), (1, 8, 0),
]

/// Runs one product on every backend and returns the worst |C - reference| per backend.
private func gemmErrors(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, pad: Int,
                        alpha: Float, beta: Float, seed: UInt64) -> [(String, Float)] {
    var rng = TestRNG(seed: seed)
    let s = GemmShape(transA: transA, transB: transB, m: m, n: n, k: k,
                      lda: (transA ? m : k) + pad, ldb: (transB ? k : n) + pad, ldc: n + pad)
    let a = rng.floats(max(1, (transA ? k : m) * s.lda))
    let b = rng.floats(max(1, (transB ? n : k) * s.ldb))
    // beta == 0 must ignore C entirely: fill it with NaN garbage.
    let c0 = beta == 0 ? [Float](repeating: .nan, count: m * s.ldc) : rng.floats(m * s.ldc)
    var r = c0
    referenceGemm(s, alpha: alpha, a, b, beta: beta, &r)
    return Backends.all.map { name, backend in
        var c = c0
        backend.gemm(s, alpha: alpha, a, b, beta: beta, &c)
        var worst: Float = 0
        for i in 0..<m {
            for j in 0..<n {
                let d = abs(c[i * s.ldc + j] - r[i * s.ldc + j])
                if !(d <= worst) { worst = d }  // NaN poisons `worst`
            }
            // Padding between rows must be untouched.
            for j in n..<s.ldc where c[i * s.ldc + j].bitPattern != c0[i * s.ldc + j].bitPattern { worst = .infinity }
        }
        return (name, worst)
    }
}

@Suite("GEMM against referenceGemm")
struct GemmTests {
    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func allShapesAllBackends(trans: (Bool, Bool)) {
        var seed: UInt64 = 1
        for sh in shapes {
            for pad in [0, 3] {
                for (alpha, beta) in [(Float(1), Float(0)), (0.5, 1), (1, -0.5)] {
                    seed += 1
                    let tol = 1e-4 * (1 + Float(sh.k).squareRoot())
                    for (name, err) in gemmErrors(transA: trans.0, transB: trans.1, m: sh.m, n: sh.n, k: sh.k,
                                                  pad: pad, alpha: alpha, beta: beta, seed: seed) {
                        #expect(err <= tol, "\(name) tA=\(trans.0) tB=\(trans.1) \(sh) pad=\(pad) α=\(alpha) β=\(beta): \(err)")
                    }
                }
            }
        }
    }

    @Test(arguments: [256, 512, 4096])
    func linearLayerShapes(n: Int) {
        // The Doge-20M prefill shapes (x·Wᵀ, K = 256), scaled down in M to keep the reference quick.
        for (name, err) in gemmErrors(transA: false, transB: true, m: 24, n: n, k: 256, pad: 0,
                                      alpha: 1, beta: 0, seed: UInt64(n)) {
            #expect(err <= 2e-3, "\(name) n=\(n): \(err)")
        }
    }

    @Test func backendsUnderTest() {
        let names = Backends.names
        #expect(names.contains("builtin-portable"))
        if KernelISA.detected >= .avx2 { #expect(names.contains("builtin-avx2")) }
    }

    @Test func alphaZeroAndKZeroScaleC() {
        for (name, backend) in Backends.all {
            var c: [Float] = [1, 2, 3, 4]
            let a: [Float] = [.nan, .nan], b: [Float] = [.nan, .nan]
            backend.gemm(GemmShape(m: 2, n: 2, k: 0), alpha: 1, a, b, beta: 2, &c)
            #expect(c == [2, 4, 6, 8], "\(name)")
            backend.gemm(GemmShape(m: 2, n: 2, k: 0), alpha: 1, a, b, beta: 0, &c)
            #expect(c == [0, 0, 0, 0], "\(name)")
        }
    }

    @Test func describeNamesTheKernels() {
        #expect(ComputeBackend.builtin.name.contains(KernelISA.detected.name))
        #expect(ComputeBackend.describe().contains("threads:"))
    }
}
