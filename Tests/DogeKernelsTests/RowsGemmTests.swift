import Testing
import DogeKernels

/// A product of a few rows against Linear weights (a batched decode step, m ≤ rowsGemmMaxRows)
/// gives every row the bits a one-row product (the decode GEMV) gives it alone: sequences decoded
/// together get exactly the logits they get alone.
@Suite("Few-row products equal one-row products bit for bit")
struct RowsGemmTests {
    /// n: not a multiple of 4 or 16, a single row, several L1 blocks and thread parts; k: tails of 8,
    /// 16 and 32, and long rows (one 16-row block over L1's half).
    static let shapes: [(m: Int, n: Int, k: Int)] = [(2, 37, 64), (16, 300, 257), (5, 1, 40), (3, 2000, 100),
                                                      (ComputeBackend.rowsGemmMaxRows, 70, 513), (7, 33, 2048)]

    /// The portable fallback and BLAS without the decode GEMV (`gemvForDecode: false`) run other
    /// kernels for m == 1 and m > 1 alike; every other backend runs the GEMV.
    static func rowWise(_ backend: String) -> Bool { !backend.hasPrefix("builtin-portable") && backend != "blas-no-gemv" }

    /// Each row of `x` through the same backend alone (m == 1).
    static func rowByRow(_ backend: ComputeBackend, _ x: [Float], m: Int, _ product: (UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void,
                         n: Int, k: Int) -> [Float] {
        var out = [Float](repeating: .nan, count: m * n)
        x.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in
                for r in 0..<m { product(xp.baseAddress! + r * k, op.baseAddress! + r * n) }
            }
        }
        return out
    }

    @Test func float32() {
        var seed: UInt64 = 500
        for (m, n, k) in Self.shapes {
            seed += 1
            var rng = TestRNG(seed: seed)
            let w = rng.floats(n * k), x = rng.floats(m * k)
            for (name, backend) in Backends.all where Self.rowWise(name) {
                var together = [Float](repeating: .nan, count: m * n)
                backend.gemm(GemmShape(transB: true, m: m, n: n, k: k), x, w, &together)
                let alone = w.withUnsafeBufferPointer { wp in
                    Self.rowByRow(backend, x, m: m, { xr, out in
                        backend.gemm(GemmShape(transB: true, m: 1, n: n, k: k), xr, wp.baseAddress!, out)
                    }, n: n, k: k)
                }
                #expect(together.map(\.bitPattern) == alone.map(\.bitPattern), "\(name) m=\(m) n=\(n) k=\(k)")
            }
        }
    }

    @Test(arguments: [WeightStorage.bf16, .f16])
    func sixteenBit(storage: WeightStorage) {
        var seed: UInt64 = 600
        for (m, n, k) in Self.shapes {
            seed += 1
            var rng = TestRNG(seed: seed)
            let w = rng.floats(n * k, scale: 2), x = rng.floats(m * k)
            let typed = w.withUnsafeBufferPointer { TypedMatrix(converting: $0, rows: n, cols: k, to: storage) }
            for (name, backend) in Backends.all where Self.rowWise(name) {
                var together = [Float](repeating: .nan, count: m * n)
                x.withUnsafeBufferPointer { xp in together.withUnsafeMutableBufferPointer { backend.gemm(xp.baseAddress!, rows: m, typed, $0.baseAddress!) } }
                let alone = Self.rowByRow(backend, x, m: m, { backend.gemm($0, rows: 1, typed, $1) }, n: n, k: k)
                #expect(together.map(\.bitPattern) == alone.map(\.bitPattern), "\(name) \(storage) m=\(m) n=\(n) k=\(k)")
            }
        }
    }
}
