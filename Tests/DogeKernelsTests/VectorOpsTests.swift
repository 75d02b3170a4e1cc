import Testing
import DogeKernels

private let sizes = [0, 1, 7, 8, 9, 31, 256, 1000, 1027]

/// Every fast path against `VectorOpsReference` (or the obvious loop), at the detected
/// instruction set and at the portable fallback.
@Suite("Vector ops against references")
struct VectorOpsTests {
    @Test(arguments: vectorISALevels)
    func rmsNorm(isa: KernelISA) {
        withThreadISA(isa) {
            var rng = TestRNG(seed: 11)
            for cols in [1, 7, 256, 1027] {
                let rows = 3
                let x = rng.floats(rows * cols, scale: 4), w = rng.floats(cols)
                var out = [Float](repeating: 0, count: rows * cols), ref = out
                VectorOps.rmsNorm(x, weight: w, eps: 1e-6, rows: rows, cols: cols, out: &out)
                VectorOpsReference.rmsNorm(x, weight: w, eps: 1e-6, rows: rows, cols: cols, out: &ref)
                for i in 0..<out.count { #expect(relClose(out[i], ref[i], rel: 1e-5, abs: 1e-6), "\(isa) cols=\(cols) i=\(i)") }
            }
        }
    }

    @Test(arguments: vectorISALevels)
    func softmax(isa: KernelISA) {
        withThreadISA(isa) {
            var rng = TestRNG(seed: 12)
            for n in sizes where n > 0 {
                var x = rng.floats(n, scale: 10)
                // Mask some entries the way attention does, and some with -inf.
                for i in stride(from: 1, to: n, by: 3) { x[i] = -Float.greatestFiniteMagnitude }
                for i in stride(from: 2, to: n, by: 5) { x[i] = -.infinity }
                var ref = x
                VectorOps.softmaxInPlace(&x, count: n)
                VectorOpsReference.softmaxInPlace(&ref, count: n)
                for i in 0..<n {
                    #expect(relClose(x[i], ref[i], rel: 1e-5, abs: 1e-9), "\(isa) n=\(n) i=\(i)")
                    if ref[i] == 0 { #expect(x[i] == 0, "masked entry must be exactly 0") }
                }
                #expect(abs(x.reduce(0, +) - 1) < 1e-5)
            }
            // A fully masked row is uniform (PyTorch), a fully -inf row is NaN.
            var masked = [Float](repeating: -Float.greatestFiniteMagnitude, count: 10)
            VectorOps.softmaxInPlace(&masked, count: 10)
            let uniform = masked.allSatisfy { abs($0 - 0.1) < 1e-6 }
            #expect(uniform)
            var dead = [Float](repeating: -.infinity, count: 9)
            VectorOps.softmaxInPlace(&dead, count: 9)
            let allNaN = dead.allSatisfy(\.isNaN)
            #expect(allNaN)
        }
    }

    /// AdamW must give the same bits at every level (runs resume and compare across machines):
    /// the SIMD path against the formula written out one operation at a time.
    @Test(arguments: vectorISALevels)
    func adamWIsBitExact(isa: KernelISA) {
        withThreadISA(isa) {
            var rng = TestRNG(seed: 17)
            for n in sizes {
                for decays in [false, true] {
                    let step = AdamWStep(decayFactor: 1 - 3e-3 * 0.1, decays: decays, oneMinusBeta1: 0.1, beta2: 0.95,
                                         oneMinusBeta2: 0.05, biasCorrection2Sqrt: Float((1 - 0.95 * 0.95).squareRoot()),
                                         epsilon: 1e-8, stepSize: Float(3e-3 / (1 - 0.9 * 0.9)))
                    let g = rng.floats(n, scale: 2)
                    var p = rng.floats(n), m = rng.floats(n, scale: 0.1), v = rng.floats(n, scale: 0.01).map(abs)
                    var (pr, mr, vr) = (p, m, v)
                    VectorOps.adamW(parameters: &p, gradients: g, firstMoment: &m, secondMoment: &v, count: n, step: step)
                    for i in 0..<n {
                        if decays { pr[i] = pr[i] * step.decayFactor }
                        let dm = g[i] - mr[i]
                        mr[i] = mr[i] + step.oneMinusBeta1 * dm
                        let g2 = step.oneMinusBeta2 * g[i]
                        vr[i] = vr[i] * step.beta2 + g2 * g[i]
                        let denominator = vr[i].squareRoot() / step.biasCorrection2Sqrt + step.epsilon
                        pr[i] = pr[i] + -step.stepSize * (mr[i] / denominator)
                    }
                    #expect(p.map(\.bitPattern) == pr.map(\.bitPattern), "\(isa) n=\(n) decays=\(decays): parameters")
                    #expect(m.map(\.bitPattern) == mr.map(\.bitPattern), "\(isa) n=\(n): first moment")
                    #expect(v.map(\.bitPattern) == vr.map(\.bitPattern), "\(isa) n=\(n): second moment")
                }
            }
        }
    }

    @Test(arguments: vectorISALevels)
    func siluMul(isa: KernelISA) {
        withThreadISA(isa) {
            var rng = TestRNG(seed: 13)
            for n in sizes {
                var g = rng.floats(n, scale: 20)
                if n > 4 { g[0] = -100; g[1] = 100; g[2] = 0; g[3] = -90 }
                let u = rng.floats(n, scale: 3)
                var out = [Float](repeating: .nan, count: n)
                VectorOps.siluMul(g, u, count: n, out: &out)
                for i in 0..<n {
                    let ref = VectorOpsReference.silu(g[i]) * u[i]
                    #expect(relClose(out[i], ref, rel: 2e-6, abs: 1e-30), "\(isa) g=\(g[i]): \(out[i]) vs \(ref)")
                }
            }
        }
    }

    @Test(arguments: vectorISALevels)
    func exp(isa: KernelISA) {
        withThreadISA(isa) {
            var x: [Float] = [0, 1, -1, 88.7, 88.72, 88.73, -87.3, -87.4, -100, -103.9, -104, -200,
                              .infinity, -.infinity, .nan, -Float.greatestFiniteMagnitude, 1e-8, -1e-8]
            var v: Float = -110
            while v < 90 { x.append(v); v += 0.0137 }
            var out = [Float](repeating: 0, count: x.count)
            VectorOps.exp(x, out: &out, count: x.count)
            for i in 0..<x.count {
                let ref = VectorOpsReference.exp(x[i])
                #expect(relClose(out[i], ref, rel: 3e-6, abs: 3e-45), "\(isa) exp(\(x[i])) = \(out[i]) vs \(ref)")
            }
            #expect(out[x.count - 1] > 0)
            // In place.
            var y: [Float] = [0, 1, 2]
            y.withUnsafeMutableBufferPointer { VectorOps.exp($0.baseAddress!, out: $0.baseAddress!, count: 3) }
            #expect(relClose(y[2], 7.389056, rel: 3e-6))
        }
    }

    @Test(arguments: vectorISALevels)
    func softplus(isa: KernelISA) {
        withThreadISA(isa) {
            var x: [Float] = [0, 20, 20.001, 19.999, -20, 30, -30, -87, -90, -104, -200, 1e-7, -1e-7,
                              .infinity, -.infinity, .nan]
            var v: Float = -120
            while v < 40 { x.append(v); v += 0.0173 }
            var out = [Float](repeating: 0, count: x.count)
            VectorOps.softplus(x, out: &out, count: x.count)
            for i in 0..<x.count {
                let ref = VectorOpsReference.softplus(x[i])
                #expect(relClose(out[i], ref, rel: 4e-6, abs: 3e-45), "\(isa) softplus(\(x[i])) = \(out[i]) vs \(ref)")
            }
        }
    }

    @Test(arguments: vectorISALevels)
    func elementwise(isa: KernelISA) {
        withThreadISA(isa) {
            var rng = TestRNG(seed: 14)
            for n in sizes {
                let x = rng.floats(n), y0 = rng.floats(n)
                var y = y0
                VectorOps.add(x, into: &y, count: n)
                #expect(y == zip(x, y0).map { $1 + $0 })
                y = y0
                VectorOps.axpy(0.37, x, into: &y, count: n)
                for i in 0..<n { #expect(relClose(y[i], y0[i] + 0.37 * x[i], rel: 1e-6, abs: 1e-7)) }
                var out = [Float](repeating: .nan, count: n)
                VectorOps.scale(-1.5, x, out: &out, count: n)
                #expect(out == x.map { -1.5 * $0 })
                VectorOps.mul(x, y0, out: &out, count: n)
                #expect(out == zip(x, y0).map { $0 * $1 })
            }
        }
    }

    @Test(arguments: vectorISALevels)
    func halfConversionsAreExactForEveryBitPattern(isa: KernelISA) {
        withThreadISA(isa) {
            let all = (0...UInt16.max).map { $0 }
            var out = [Float](repeating: 0, count: all.count)
            VectorOps.bf16ToF32(all, out: &out, count: all.count)
            for (i, h) in all.enumerated() { #expect(out[i].bitPattern == UInt32(h) << 16) }
            // Odd count and offset: the scalar tail must agree too.
            out = [Float](repeating: 0, count: all.count)
            all.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    VectorOps.f16ToF32(src.baseAddress! + 1, out: dst.baseAddress! + 1, count: all.count - 1)
                }
            }
            for i in 1..<all.count {
                let ref = Float(Float16(bitPattern: all[i]))
                if ref.isNaN {
                    #expect(out[i].isNaN)
                    #expect(out[i].bitPattern & 0x003F_E000 == UInt32(all[i] & 0x1FF) << 13, "NaN payload kept")
                } else {
                    #expect(out[i].bitPattern == ref.bitPattern, "f16 \(all[i])")
                }
            }
        }
    }
}
