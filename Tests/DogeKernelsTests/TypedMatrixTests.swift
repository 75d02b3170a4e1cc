import Testing
import CDogeKernels
import DogeKernels

/// Plain Swift reference for the typed storages: llama.cpp's Q8_0 / Q4_0 definitions written
/// out one value at a time, independent of the C kernels.
enum PlainQuant {
    static func half(_ f: Float) -> UInt16 { Float16(f).bitPattern }
    static func float(_ h: UInt16) -> Float { Float(Float16(bitPattern: h)) }

    /// (values, scales) of rows quantized to q8_0 or q4_0.
    static func quantize(_ w: [Float], rows: Int, cols: Int, q4: Bool) -> ([UInt8], [UInt16]) {
        var values: [UInt8] = [], scales: [UInt16] = []
        for r in 0..<rows {
            for b in 0..<(cols / 32) {
                let x = Array(w[(r * cols + b * 32)..<(r * cols + b * 32 + 32)])
                if !q4 {
                    let amax = x.map(abs).max()!
                    let d = half(amax / 127), df = float(d), id: Float = df != 0 ? 1 / df : 0
                    scales.append(d)
                    values += x.map { UInt8(bitPattern: Int8(max(-127, min(127, ($0 * id).rounded(.toNearestOrAwayFromZero))))) }
                } else {
                    var m: Float = 0
                    for v in x where abs(v) > abs(m) { m = v }
                    let d = half(m / -8), df = float(d), id: Float = df != 0 ? 1 / df : 0
                    scales.append(d)
                    let q = x.map { Int(max(0, min(15, ($0 * id + 8.5).rounded(.down)))) }
                    values += (0..<16).map { UInt8(q[$0] | q[$0 + 16] << 4) }
                }
            }
        }
        return (values, scales)
    }

    static func dequantize(_ values: [UInt8], _ scales: [UInt16], rows: Int, cols: Int, q4: Bool) -> [Float] {
        var out = [Float](repeating: 0, count: rows * cols)
        for r in 0..<rows {
            for c in 0..<cols {
                let (b, j) = (c / 32, c % 32)
                let d = float(scales[r * (cols / 32) + b])
                if q4 {
                    let byte = values[r * cols / 2 + b * 16 + (j & 15)]
                    out[r * cols + c] = Float(Int(j < 16 ? byte & 15 : byte >> 4) - 8) * d
                } else {
                    out[r * cols + c] = Float(Int8(bitPattern: values[r * cols + c])) * d
                }
            }
        }
        return out
    }
}

private func bytes(_ m: TypedMatrix) -> ([UInt8], [UInt16]) {
    (Array(m.valueBytes), m.scaleBytes.map { Array($0.bindMemory(to: UInt16.self)) } ?? [])
}

@Suite("Typed (16-bit and quantized) weight matrices")
struct TypedMatrixTests {
    /// (m, n, k): GEMV (m == 1) and GEMM, tails in k (k % 8, k % 16, k % 32), n not a multiple of 4
    /// or 16, and a product large enough to be split over threads.
    static let shapes: [(Int, Int, Int)] = [(1, 37, 64), (1, 5, 17), (1, 300, 100), (1, 64, 1024), (3, 33, 40),
                                            (13, 70, 96), (30, 129, 288), (1, 2000, 64)]

    @Test(arguments: [WeightStorage.bf16, .f16])
    func sixteenBitGivesTheBitsOfTheWidenedMatrix(storage: WeightStorage) {
        var seed: UInt64 = 40
        for (m, n, k) in Self.shapes {
            seed += 1
            var rng = TestRNG(seed: seed)
            let w = rng.floats(n * k, scale: 2), x = rng.floats(m * k)
            let typed = w.withUnsafeBufferPointer { TypedMatrix(converting: $0, rows: n, cols: k, to: storage) }
            let widened = typed.floats()
            for (name, backend) in Backends.all {
                var expected = [Float](repeating: 0, count: m * n), got = [Float](repeating: .nan, count: m * n)
                backend.gemm(GemmShape(transB: true, m: m, n: n, k: k), x, widened, &expected)
                x.withUnsafeBufferPointer { xp in got.withUnsafeMutableBufferPointer { backend.gemm(xp.baseAddress!, rows: m, typed, $0.baseAddress!) } }
                #expect(got.map(\.bitPattern) == expected.map(\.bitPattern), "\(name) \(storage) m=\(m) n=\(n) k=\(k)")
            }
        }
    }

    @Test func roundingMatchesFloat16AndBFloat16() {
        var rng = TestRNG(seed: 9)
        let specials: [Float] = [0, -0, 1, -2.5, 65504, 65519, 65520, 1e9, -1e9, 6e-8, 3e-8, 2.9e-8, 1e-5, .infinity, -.infinity,
                                 1.00390625, 1.01171875, Float(bitPattern: 0x3380_0000), Float(bitPattern: 0x3880_1000)]
        let values = specials + rng.floats(2000, scale: 70000) + rng.floats(2000, scale: 1e-4)
        let h = values.withUnsafeBufferPointer { TypedMatrix(converting: $0, rows: 1, cols: values.count, to: .f16) }
        let b = values.withUnsafeBufferPointer { TypedMatrix(converting: $0, rows: 1, cols: values.count, to: .bf16) }
        let hb = Array(h.valueBytes.bindMemory(to: UInt16.self)), bb = Array(b.valueBytes.bindMemory(to: UInt16.self))
        for (i, v) in values.enumerated() {
            #expect(hb[i] == Float16(v).bitPattern, "f16 of \(v)")
            let bits = v.bitPattern, rounded = UInt16((bits &+ 0x7fff &+ ((bits >> 16) & 1)) >> 16)
            #expect(bb[i] == rounded, "bf16 of \(v)")
        }
        #expect(dk_float_to_half(.nan) & 0x7c00 == 0x7c00 && dk_float_to_half(.nan) & 0x3ff != 0)
    }

    @Test(arguments: [WeightStorage.q8_0, .q4_0])
    func quantizationMatchesThePlainReference(storage: WeightStorage) {
        var rng = TestRNG(seed: 77)
        let (rows, cols) = (19, 96)
        var w = rng.floats(rows * cols, scale: 3)
        for i in stride(from: 0, to: 32, by: 1) { w[i] = 0 }              // an all-zero block: scale 0
        w[40] = 1e-9                                                        // a tiny block value
        let typed = w.withUnsafeBufferPointer { TypedMatrix(converting: $0, rows: rows, cols: cols, to: storage) }
        let (values, scales) = PlainQuant.quantize(w, rows: rows, cols: cols, q4: storage == .q4_0)
        let got = bytes(typed)
        #expect(got.0 == values)
        #expect(got.1 == scales)
        #expect(typed.floats() == PlainQuant.dequantize(values, scales, rows: rows, cols: cols, q4: storage == .q4_0))
        // Round-trip error is at most half a step of each block's scale.
        let back = typed.floats()
        for r in 0..<rows {
            for c in 0..<cols {
                let d = PlainQuant.float(scales[r * cols / 32 + c / 32])
                #expect(abs(back[r * cols + c] - w[r * cols + c]) <= abs(d) * (storage == .q8_0 ? 0.5 : 1.0) + 1e-6)
            }
        }
    }

    /// GEMV: x quantized to q8_0 blocks, exact integer block dots, float32 scaling — against the
    /// same computation in Double. GEMM (m > 1): x in float32 against the dequantized matrix.
    @Test(arguments: [WeightStorage.q8_0, .q4_0])
    func quantizedProductsMatchThePlainReference(storage: WeightStorage) {
        let q4 = storage == .q4_0
        var seed: UInt64 = 300
        for (m, n, k) in Self.shapes where k % 32 == 0 {
            seed += 1
            var rng = TestRNG(seed: seed)
            let w = rng.floats(n * k, scale: 2), x = rng.floats(m * k)
            let typed = w.withUnsafeBufferPointer { TypedMatrix(converting: $0, rows: n, cols: k, to: storage) }
            let (values, scales) = bytes(typed)
            let dq = PlainQuant.dequantize(values, scales, rows: n, cols: k, q4: q4)
            var expected = [Double](repeating: 0, count: m * n), bound = [Double](repeating: 0, count: m * n)
            if m == 1 {
                // x: blocks of 32 int8 with a float32 scale amax / 127 (not rounded to F16).
                var xv = [Int](repeating: 0, count: k), xd = [Float](repeating: 0, count: k / 32)
                for b in 0..<(k / 32) {
                    xd[b] = x[(b * 32)..<(b * 32 + 32)].map(abs).max()! / 127
                    let id: Float = xd[b] != 0 ? 1 / xd[b] : 0
                    for j in 0..<32 { xv[b * 32 + j] = Int(max(-127, min(127, (x[b * 32 + j] * id).rounded(.toNearestOrAwayFromZero)))) }
                }
                for i in 0..<n {
                    for b in 0..<(k / 32) {
                        var dot = 0
                        for j in 0..<32 {
                            let c = b * 32 + j
                            let wq = q4 ? Int(c % 32 < 16 ? values[i * k / 2 + b * 16 + j % 16] & 15 : values[i * k / 2 + b * 16 + j % 16] >> 4) - 8
                                : Int(Int8(bitPattern: values[i * k + c]))
                            dot += wq * xv[c]
                        }
                        let s = Double(PlainQuant.float(scales[i * k / 32 + b])) * Double(xd[b])
                        expected[i] += s * Double(dot)
                        bound[i] += abs(s) * 32 * 127 * 127
                    }
                }
            } else {
                for r in 0..<m {
                    for i in 0..<n {
                        for c in 0..<k {
                            expected[r * n + i] += Double(x[r * k + c]) * Double(dq[i * k + c])
                            bound[r * n + i] += abs(Double(x[r * k + c]) * Double(dq[i * k + c]))
                        }
                    }
                }
            }
            for (name, backend) in Backends.all {
                var got = [Float](repeating: .nan, count: m * n)
                x.withUnsafeBufferPointer { xp in got.withUnsafeMutableBufferPointer { backend.gemm(xp.baseAddress!, rows: m, typed, $0.baseAddress!) } }
                for i in 0..<(m * n) {
                    let err = abs(Double(got[i]) - expected[i])
                    #expect(err <= 1e-6 * bound[i] + 1e-6, "\(name) \(storage) m=\(m) n=\(n) k=\(k) row \(i): \(got[i]) vs \(expected[i])")
                }
            }
        }
    }

    @Test func quantizedKernelLevels() {
        // AVX-512 quantized kernels need VNNI; without it they run the AVX2 ones.
        for type in [DK_W_Q8_0, DK_W_Q4_0] {
            #expect(dk_wgemv_kernel_level(KernelISA.portable.rawValue, Int32(type)) == KernelISA.portable.rawValue)
            #expect(dk_wgemv_kernel_level(KernelISA.avx512.rawValue, Int32(type)) <= KernelISA.detected.rawValue)
        }
    }
}
