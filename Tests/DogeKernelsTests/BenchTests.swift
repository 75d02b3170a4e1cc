import Testing
import DogeKernels
#if canImport(Glibc)
import Glibc
#endif

/// Throughput numbers, only with `DOGE_KERNEL_BENCH=1` (build with `-c release`):
/// `DOGE_KERNEL_BENCH=1 swift test -c release --filter KernelBench`.
/// GEMMs are the Linear-layer form y = x·Wᵀ (transB); GEMVs are y = W·x.
@Suite("KernelBench", .serialized, .enabled(if: ProcessEnvironment.value("DOGE_KERNEL_BENCH") == "1"))
struct KernelBench {
    static func seconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Median over 5 runs of the mean time per call, each run at least `minRun` seconds.
    static func time(minRun: Double = 0.05, _ body: () -> Void) -> Double {
        body()
        var runs: [Double] = []
        for _ in 0..<5 {
            let t0 = seconds()
            var calls = 0
            repeat { body(); calls += 1 } while seconds() - t0 < minRun
            runs.append((seconds() - t0) / Double(calls))
        }
        return runs.sorted()[2]
    }

    /// `v` with `digits` decimals (no Foundation).
    static func fmt(_ v: Double, _ digits: Int = 1) -> String {
        var p = 1.0
        for _ in 0..<digits { p *= 10 }
        let r = (v * p).rounded() / p
        var str = "\(r)"
        if let dot = str.firstIndex(of: "."), str.distance(from: dot, to: str.endIndex) - 1 < digits {
            str += String(repeating: "0", count: digits - (str.distance(from: dot, to: str.endIndex) - 1))
        }
        return str
    }

    static let pool1 = ComputePool(threads: 1)
    static let pool2 = ComputePool(threads: 2)

    static var gemmBackends: [(String, ComputeBackend)] {
        var list: [(String, ComputeBackend)] = [
            ("builtin 1T", ComputeBackend(choice: "builtin", pool: pool1)),
            ("builtin 2T", ComputeBackend(choice: "builtin", pool: pool2)),
        ]
        if KernelISA.detected == .avx512 {
            list.append(("builtin-avx2 1T", ComputeBackend(choice: "builtin", pool: pool1, isaLimit: .avx2)))
            list.append(("builtin-avx2 2T", ComputeBackend(choice: "builtin", pool: pool2, isaLimit: .avx2)))
        }
        let blas = ComputeBackend(choice: nil, pool: pool1, gemvForDecode: false)
        if case .blas = blas.kind {
            list.append(("\(blas.name) 1T", blas))
            list.append(("BLAS 2T split on our pool", ComputeBackend(choice: nil, pool: pool2, gemvForDecode: false)))
            list.append(("BLAS 2T own threads", ComputeBackend(choice: nil, pool: pool2, blasThreading: .library, gemvForDecode: false)))
        }
        return list
    }

    @Test func gemm() {
        print("GEMM y = x·Wᵀ, GFLOP/s (ms per call); backend default: \(ComputeBackend.shared.name)")
        for (m, n, k) in [(512, 512, 256), (512, 32768, 256), (1024, 1024, 1024), (512, 256, 256)] {
            let x = [Float](repeating: 0.5, count: m * k), w = [Float](repeating: 0.25, count: n * k)
            let y = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
            defer { y.deallocate() }
            let s = GemmShape(transB: true, m: m, n: n, k: k)
            for (name, backend) in Self.gemmBackends {
                let t: Double = x.withUnsafeBufferPointer { xp in
                    w.withUnsafeBufferPointer { wp in
                        Self.time { backend.gemm(s, alpha: 1, xp.baseAddress!, wp.baseAddress!, beta: 0, y) }
                    }
                }
                let gflops = 2 * Double(m * n * k) / t / 1e9
                print("  \(m)×\(n)×\(k)  \(name): \(Self.fmt(gflops)) GFLOP/s (\(Self.fmt(t * 1e3, 3)) ms)")
            }
        }
    }

    typealias CblasSgemv = @convention(c) (Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
                                           UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void

    @Test func gemv() {
        print("GEMV y = W·x, GB/s of weights (µs per call)")
        var libs: [(String, CblasSgemv, (@convention(c) (Int32) -> Void)?)] = []
        _ = ComputeBackend.shared  // sets OPENBLAS_CORETYPE before the library is first loaded
        if let h = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL), let f = dlsym(h, "cblas_sgemv") {
            let setT = dlsym(h, "openblas_set_num_threads").map { unsafeBitCast($0, to: (@convention(c) (Int32) -> Void).self) }
            libs.append(("OpenBLAS sgemv", unsafeBitCast(f, to: CblasSgemv.self), setT))
        }
        for (n, k) in [(32768, 256), (512, 256), (1024, 512)] {
            let w = (0..<(n * k)).map { Float($0 % 7) * 0.1 }, x = [Float](repeating: 0.5, count: k)
            let y = UnsafeMutablePointer<Float>.allocate(capacity: n)
            defer { y.deallocate() }
            let s = GemmShape(transB: true, m: 1, n: n, k: k)
            var rows: [(String, Double)] = []
            w.withUnsafeBufferPointer { wb in
                x.withUnsafeBufferPointer { xb in
                    let wp = wb.baseAddress!, xp = xb.baseAddress!
                    for (name, pool) in [("builtin 1T", Self.pool1), ("builtin 2T", Self.pool2)] {
                        let backend = ComputeBackend(choice: "builtin", pool: pool)
                        let t = Self.time(minRun: 0.02) { backend.gemm(s, alpha: 1, xp, wp, beta: 0, y) }
                        rows.append((name, t))
                    }
                    for (name, sgemv, setThreads) in libs {
                        for threads in [1, 2] {
                            setThreads?(Int32(threads))
                            let t = Self.time(minRun: 0.02) {
                                sgemv(101, 111, Int32(n), Int32(k), 1, wp, Int32(k), xp, 1, 0, y, 1)
                            }
                            rows.append(("\(name) \(threads)T", t))
                        }
                        setThreads?(1)
                    }
                }
            }
            for (name, t) in rows {
                let gbs = Double(4 * n * k) / t / 1e9
                print("  [\(n),\(k)] \(name): \(Self.fmt(gbs)) GB/s (\(Self.fmt(t * 1e6, 2)) µs)")
            }
        }
    }

    @Test func vectorOps() {
        let n = 512 * 256
        let x = (0..<n).map { Float($0 % 13) * 0.1 - 0.6 }, w = [Float](repeating: 1, count: 256)
        var out = [Float](repeating: 0, count: n)
        let rms = Self.time(minRun: 0.02) { VectorOps.rmsNorm(x, weight: w, eps: 1e-6, rows: 512, cols: 256, out: &out) }
        var row = [Float](repeating: 0, count: 128 * 2048)
        let sm = Self.time(minRun: 0.02) {
            for i in 0..<row.count { row[i] = Float(i % 97) * 0.05 }
            row.withUnsafeMutableBufferPointer { b in for r in 0..<128 { VectorOps.softmaxInPlace(b.baseAddress! + r * 2048, count: 2048) } }
        }
        let silu = Self.time(minRun: 0.02) { VectorOps.siluMul(x, x, count: n, out: &out) }
        print("rmsNorm [512,256] \(Self.fmt(rms * 1e6)) µs, softmax [128,2048] (incl. refill) \(Self.fmt(sm * 1e6)) µs, siluMul 128K \(Self.fmt(silu * 1e6)) µs")
    }
}
