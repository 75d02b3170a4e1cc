#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CDogeKernels

/// How a weight matrix is held in memory for inference.
public enum WeightStorage: String, Sendable, CaseIterable, CustomStringConvertible {
    case f32, bf16, f16
    /// Blocks of 32 values with one F16 scale: int8 values (llama.cpp Q8_0), 8.5 bits a weight.
    case q8_0
    /// Blocks of 32 values with one F16 scale: 4-bit values (llama.cpp Q4_0), 4.5 bits a weight.
    case q4_0

    /// The quantized types `--quantize` and `doge quantize` accept.
    public static let quantized: [WeightStorage] = [.q8_0, .q4_0]
    public var isQuantized: Bool { self == .q8_0 || self == .q4_0 }
    public var description: String { rawValue }
    /// Values per scale for quantized types.
    public static let blockSize = Int(DK_QBLOCK)

    var code: Int32 {
        switch self {
        case .f32: return Int32(DK_W_F32)
        case .bf16: return Int32(DK_W_BF16)
        case .f16: return Int32(DK_W_F16)
        case .q8_0: return Int32(DK_W_Q8_0)
        case .q4_0: return Int32(DK_W_Q4_0)
        }
    }

    /// Bytes of one row of `cols` values (scales not included).
    public func rowBytes(cols: Int) -> Int { dk_wmat_row_bytes(code, cols) }
}

/// A [rows, cols] weight matrix held as BF16, F16, Q8_0 or Q4_0 (never float32: that is a
/// `Tensor`). Products widen it inside the kernels, so no float32 copy is ever made. Immutable
/// once built; memory is 64-byte aligned and owned.
public final class TypedMatrix: @unchecked Sendable {
    public let storage: WeightStorage
    public let rows: Int
    public let cols: Int
    let values: UnsafeMutableRawPointer
    let scales: UnsafeMutablePointer<UInt16>?

    /// Bytes of the values and of the scales (quantized only).
    public var valueByteCount: Int { rows * storage.rowBytes(cols: cols) }
    public var scaleCount: Int { storage.isQuantized ? rows * (cols / WeightStorage.blockSize) : 0 }

    private init(storage: WeightStorage, rows: Int, cols: Int) {
        precondition(storage != .f32, "float32 matrices are Tensors")
        precondition(!storage.isQuantized || cols % WeightStorage.blockSize == 0, "quantized rows must be whole blocks of 32")
        self.storage = storage
        self.rows = rows
        self.cols = cols
        let bytes = rows * storage.rowBytes(cols: cols)
        values = Self.allocate(bytes)
        let nScales = storage.isQuantized ? rows * (cols / WeightStorage.blockSize) : 0
        scales = nScales > 0 ? Self.allocate(nScales * 2).bindMemory(to: UInt16.self, capacity: nScales) : nil
    }

    deinit {
        free(values)
        free(scales)
    }

    private static func allocate(_ bytes: Int) -> UnsafeMutableRawPointer {
        let rounded = max(64, (bytes + 63) / 64 * 64)
        let p = aligned_alloc(64, rounded)!
        _ = MemoryAdvice.preferHugePages(UnsafeRawBufferPointer(start: p, count: rounded))
        return p
    }

    /// A copy of stored bytes: `values` as laid out by `storage` (little-endian 16-bit values,
    /// int8, or packed nibbles) and, for quantized types, the F16 scales.
    public convenience init(storage: WeightStorage, rows: Int, cols: Int, values: UnsafeRawBufferPointer,
                            scales: UnsafeRawBufferPointer? = nil) {
        self.init(storage: storage, rows: rows, cols: cols)
        precondition(values.count == valueByteCount, "\(storage) [\(rows), \(cols)] needs \(valueByteCount) value bytes, got \(values.count)")
        if valueByteCount > 0 { self.values.copyMemory(from: values.baseAddress!, byteCount: valueByteCount) }
        if let dst = self.scales {
            precondition(scales?.count == scaleCount * 2, "\(storage) [\(rows), \(cols)] needs \(scaleCount) scales")
            UnsafeMutableRawPointer(dst).copyMemory(from: scales!.baseAddress!, byteCount: scaleCount * 2)
        }
    }

    /// Float32 values stored as `storage`: rounded to nearest even for BF16/F16, quantized by
    /// blocks for Q8_0/Q4_0 (cols must be a multiple of 32).
    public convenience init(converting data: UnsafeBufferPointer<Float>, rows: Int, cols: Int, to storage: WeightStorage) {
        precondition(data.count == rows * cols)
        self.init(storage: storage, rows: rows, cols: cols)
        switch storage {
        case .bf16:
            let dst = values.bindMemory(to: UInt16.self, capacity: rows * cols)
            for i in 0..<data.count {
                let bits = data[i].bitPattern
                dst[i] = data[i].isNaN ? UInt16(bits >> 16) | 0x40 : UInt16((bits &+ ((bits >> 16) & 1) &+ 0x7fff) >> 16)
            }
        case .f16:
            let dst = values.bindMemory(to: UInt16.self, capacity: rows * cols)
            for i in 0..<data.count { dst[i] = dk_float_to_half(data[i]) }
        case .q8_0, .q4_0:
            if rows > 0 { dk_quantize_rows(storage.code, data.baseAddress!, rows, cols, values, scales!) }
        case .f32:
            preconditionFailure()
        }
    }

    /// Whether `cols` allows `storage` (quantized types need whole blocks of 32).
    public static func canStore(cols: Int, as storage: WeightStorage) -> Bool {
        !storage.isQuantized || (cols > 0 && cols % WeightStorage.blockSize == 0)
    }

    public var valueBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: values, count: valueByteCount) }
    public var scaleBytes: UnsafeRawBufferPointer? { scales.map { UnsafeRawBufferPointer(start: $0, count: scaleCount * 2) } }

    var descriptor: dk_wmat {
        dk_wmat(type: storage.code, rows: rows, cols: cols, values: values, scales: scales.map { UnsafePointer($0) })
    }

    /// Row `i` as float32 into `out` (cols values).
    public func row(_ i: Int, into out: UnsafeMutablePointer<Float>) {
        var d = descriptor
        dk_wmat_row(&d, i, 0, cols, out)
    }

    /// Every value as float32 (exact for BF16/F16; q·d for quantized), row-major.
    public func floats() -> [Float] {
        [Float](unsafeUninitializedCapacity: rows * cols) { buf, count in
            for r in 0..<rows { row(r, into: buf.baseAddress! + r * cols) }
            count = rows * cols
        }
    }
}

extension ComputeBackend {
    /// The instruction set the quantized GEMV runs at: "avx512-vnni", "avx2" or "portable".
    public var quantizedKernels: String {
        let level = dk_wgemv_kernel_level(isa.rawValue, Int32(DK_W_Q8_0))
        return level >= KernelISA.avx512.rawValue ? "avx512-vnni" : KernelISA(rawValue: level)?.name ?? "portable"
    }

    /// out[m, w.rows] = x[m, w.cols] · Wᵀ with W held as BF16, F16, Q8_0 or Q4_0. BF16/F16 give
    /// the bits `gemm` gives on the widened float32 matrix (same kernels, same splits).
    public func gemm(_ x: UnsafePointer<Float>, rows m: Int, _ w: TypedMatrix, _ out: UnsafeMutablePointer<Float>) {
        if m <= 0 || w.rows <= 0 { return }
        var d = w.descriptor
        let n = w.rows, k = w.cols
        if m == 1, w.storage.isQuantized || (isa != .portable && (kind == .builtin || gemvForDecode)) {
            let parts = n * k >= Self.gemvSplitWork ? min(pool.threads, (n + 15) / 16) : 1
            withUnsafePointer(to: &d) { dp in
                if w.storage.isQuantized {
                    let blocks = k / WeightStorage.blockSize
                    var xq = [Int8](repeating: 0, count: k), xd = [Float](repeating: 0, count: blocks)
                    var xs = [Int32](repeating: 0, count: blocks)
                    dk_quantize_x(x, k, &xq, &xd, &xs)
                    xq.withUnsafeBufferPointer { q in xd.withUnsafeBufferPointer { dd in xs.withUnsafeBufferPointer { s in
                        var args = dk_wgemv_args(w: dp, x: x, xq: dk_xquant(q: q.baseAddress, d: dd.baseAddress, sum: s.baseAddress),
                                                 y: out, isa: isa.rawValue)
                        withUnsafeMutablePointer(to: &args) { pool.run(parts: parts, dk_wgemv_job, context: $0) }
                    } } }
                } else {
                    var args = dk_wgemv_args(w: dp, x: x, xq: dk_xquant(), y: out, isa: isa.rawValue)
                    withUnsafeMutablePointer(to: &args) { pool.run(parts: parts, dk_wgemv_job, context: $0) }
                }
            }
            return
        }
        if m <= Self.rowsGemmMaxRows, !w.storage.isQuantized, isa != .portable, kind == .builtin || gemvForDecode {
            rowsGemm(x, rows: m, w, out)
            return
        }
        if kind == .builtin, isa != .portable {
            let work = m * n * k
            let parts = work >= Self.gemmSplitWork ? min(pool.threads, max(1, n / 32 + m / 24)) : 1
            withUnsafePointer(to: &d) { dp in
                var args = dk_wgemm_args(m: m, a: x, lda: k, w: dp, c: out, ldc: n, isa: isa.rawValue)
                withUnsafeMutablePointer(to: &args) { pool.run(parts: parts, dk_wgemm_job, context: $0) }
            }
            return
        }
        // BLAS or the portable GEMM: a float32 copy for this call only.
        let dense = w.floats()
        dense.withUnsafeBufferPointer { gemm(GemmShape(transB: true, m: m, n: n, k: k), x, $0.baseAddress!, out) }
    }

    /// A few rows (a batched decode step) of BF16/F16 weights: each by the 16-bit GEMV kernel,
    /// with the bits an m == 1 call gives it, over cache-sized blocks of W. (Quantized weights keep
    /// the packed GEMM for m > 1: it multiplies float32 x, where the GEMV quantizes x.)
    private func rowsGemm(_ x: UnsafePointer<Float>, rows m: Int, _ w: TypedMatrix, _ out: UnsafeMutablePointer<Float>) {
        var d = w.descriptor
        let n = w.rows, k = w.cols
        let parts = m * n * k >= Self.gemvSplitWork ? min(pool.threads, (n + 15) / 16) : 1
        withUnsafePointer(to: &d) { dp in
            var args = dk_wgemm_rows_args(m: m, a: x, lda: k, w: dp, c: out, ldc: n, isa: isa.rawValue)
            withUnsafeMutablePointer(to: &args) { pool.run(parts: parts, dk_wgemm_rows_job, context: $0) }
        }
    }
}
