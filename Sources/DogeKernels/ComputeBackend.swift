#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CDogeKernels

/// Where matrix products run: a CBLAS library found at run time, or the built-in kernels.
///
/// Chosen once per process. `DOGE_BLAS` picks: `builtin` (never use BLAS), `blas` (the first
/// usual library found), or a library name or path (`libblis.so.4`, `/opt/intel/mkl/lib/libmkl_rt.so`).
/// Unset: the built-in kernels on CPUs with AVX2 or AVX-512 — measured faster than OpenBLAS on
/// Doge's shapes (BENCHMARKS.md) — and otherwise the first BLAS library found.
/// Built-in kernels are C SIMD kernels chosen at run time (AVX-512, AVX2+FMA) with a portable
/// Swift fallback; `DOGE_ISA=avx2|portable` caps the level. `DOGE_THREADS` sets the thread count.
public final class ComputeBackend: @unchecked Sendable {
    public enum Kind: Sendable, Equatable {
        case blas(library: String)
        case builtin
    }

    /// Who parallelises BLAS calls. `.pool` (default): the library runs single-threaded and our
    /// spin pool splits each product into per-thread calls, so the two never fight over cores.
    /// `.library`: the library's own threads (`openblas_set_num_threads(pool.threads)`).
    public enum BlasThreading: Sendable, Equatable { case pool, library }

    typealias CblasSgemm = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float,
                                           UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32,
                                           Float, UnsafeMutablePointer<Float>?, Int32) -> Void

    public let kind: Kind
    /// The BLAS library's own idea of the CPU it tuned for (OpenBLAS `openblas_get_corename`).
    public let blasCore: String?
    /// Threads that split large products and GEMVs.
    public let pool: ComputePool
    /// Instruction set of the built-in kernels: the CPU's, capped by `isaLimit` and `DOGE_ISA`.
    public let isa: KernelISA
    public let blasThreading: BlasThreading
    /// Route m == 1 products to the built-in GEMV even when BLAS is present (it is faster:
    /// no packing, and split on our pool).
    public let gemvForDecode: Bool
    private let sgemm: CblasSgemm?
    private let sgemmSymbol: UnsafeMutableRawPointer?
    private let setLibraryThreads: ((Int) -> Void)?

    /// The process-wide backend, resolved from `DOGE_BLAS` on first use.
    public static let shared = ComputeBackend(choice: ProcessEnvironment.value("DOGE_BLAS") ?? defaultChoice)
    /// The first BLAS library found (the built-in kernels when there is none); tests use it to
    /// cover the BLAS path.
    public static let firstBLAS = ComputeBackend(choice: nil)

    /// Without DOGE_BLAS: the built-in SIMD kernels where the CPU has them, else a BLAS library.
    static var defaultChoice: String? { dk_isa() >= KernelISA.avx2.rawValue ? "builtin" : nil }
    /// Built-in kernels only; tests use it to check the fallback path.
    public static let builtin = ComputeBackend(choice: "builtin")

    public init(choice: String?, pool: ComputePool = .shared, isaLimit: KernelISA = .avx512,
                blasThreading: BlasThreading = .pool, gemvForDecode: Bool = true) {
        self.pool = pool
        self.isa = KernelISA(rawValue: min(dk_isa(), isaLimit.rawValue)) ?? .portable
        self.blasThreading = blasThreading
        self.gemvForDecode = gemvForDecode
        var found: (String, UnsafeMutableRawPointer, UnsafeMutableRawPointer)?
        if choice != "builtin" {
            let candidates = choice.flatMap { $0 == "blas" ? nil : [$0] } ?? Self.defaultLibraries
            for name in candidates {
                if let lib = Self.openBLAS(name) { found = (name, lib.0, lib.1); break }
            }
        }
        if let (name, handle, sym) = found {
            kind = .blas(library: name)
            sgemmSymbol = sym
            sgemm = unsafeBitCast(sym, to: CblasSgemm.self)
            if let sym = dlsym(handle, "openblas_get_corename") {
                let corename = unsafeBitCast(sym, to: (@convention(c) () -> UnsafePointer<CChar>?).self)
                blasCore = corename().map { String(cString: $0) }
            } else {
                blasCore = nil
            }
            setLibraryThreads = Self.threadSetter(handle)
        } else {
            kind = .builtin
            sgemm = nil
            sgemmSymbol = nil
            blasCore = nil
            setLibraryThreads = nil
        }
    }

    static let defaultLibraries = [
        "libopenblas.so.0", "libopenblas.so", "libblis.so.4", "libblis.so", "libmkl_rt.so",
        "/System/Library/Frameworks/Accelerate.framework/Accelerate",
    ]

    private static func openBLAS(_ name: String) -> (UnsafeMutableRawPointer, UnsafeMutableRawPointer)? {
        // Debian's OpenBLAS 0.3.21 mistakes AVX-512 CPUs for Prescott (5x slower): name the core
        // before the library initialises, unless the user already did.
        if ProcessEnvironment.value("OPENBLAS_CORETYPE") == nil, dk_has_avx512() != 0 {
            setenv("OPENBLAS_CORETYPE", "SkylakeX", 0)
        }
        guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else { return nil }
        guard let sym = dlsym(handle, "cblas_sgemm") else { dlclose(handle); return nil }
        return (handle, sym)
    }

    /// OpenBLAS takes an Int32, BLIS a dim_t (Int64), MKL an Int32.
    private static func threadSetter(_ handle: UnsafeMutableRawPointer) -> ((Int) -> Void)? {
        if let sym = dlsym(handle, "openblas_set_num_threads") {
            let f = unsafeBitCast(sym, to: (@convention(c) (Int32) -> Void).self)
            return { f(Int32($0)) }
        }
        if let sym = dlsym(handle, "bli_thread_set_num_threads") {
            let f = unsafeBitCast(sym, to: (@convention(c) (Int64) -> Void).self)
            return { f(Int64($0)) }
        }
        if let sym = dlsym(handle, "MKL_Set_Num_Threads") {
            let f = unsafeBitCast(sym, to: (@convention(c) (Int32) -> Void).self)
            return { f(Int32($0)) }
        }
        return nil
    }

    // The library's thread count is process-global: set it only when it has to change.
    private static let libraryThreadsLock = ThreadCountCache()

    /// Products with fewer multiply-adds than this stay on one thread (dispatch ≈ 0.5–1 µs).
    static let gemmSplitWork = 1 << 18
    /// GEMVs with fewer weights than this stay on one thread.
    static let gemvSplitWork = 1 << 14

    /// `C = alpha · op(A) · op(B) + beta · C`, row-major.
    public func gemm(_ s: GemmShape, alpha: Float = 1, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                     beta: Float = 0, _ c: UnsafeMutablePointer<Float>) {
        if s.m <= 0 || s.n <= 0 { return }
        if s.m == 1, isa != .portable, sgemm == nil || gemvForDecode {
            gemv(s, alpha: alpha, a, b, beta: beta, c)
            return
        }
        if s.m <= Self.rowsGemmMaxRows, s.transB, !s.transA, isa != .portable, sgemm == nil || gemvForDecode {
            rowsGemm(s, alpha: alpha, a, b, beta: beta, c)
            return
        }
        let work = s.m * s.n * s.k
        let parts = work >= Self.gemmSplitWork ? min(pool.threads, max(1, s.n / 32 + s.m / 24)) : 1
        // A few rows (attention's P·V for a few queries): the packed GEMM's bits without its 12-row padding.
        if parts == 1, s.m <= 4, !s.transA, !s.transB, sgemm == nil,
           dk_sgemm_few_rows(isa.rawValue, s.m, s.n, s.k, alpha, a, s.lda, b, s.ldb, beta, c, s.ldc) != 0 {
            return
        }
        if let sgemm {
            if blasThreading == .library || parts == 1 {
                Self.libraryThreadsLock.set(blasThreading == .library ? pool.threads : 1, setLibraryThreads)
                sgemm(101, s.transA ? 112 : 111, s.transB ? 112 : 111, Int32(s.m), Int32(s.n), Int32(s.k),
                      alpha, a, Int32(s.lda), b, Int32(s.ldb), beta, c, Int32(s.ldc))
                return
            }
            Self.libraryThreadsLock.set(1, setLibraryThreads)
            splitGemm(s, alpha: alpha, a, b, beta: beta, c, parts: parts, cblas: sgemmSymbol)
        } else if isa == .portable {
            builtinGemm(s, alpha: alpha, a, b, beta: beta, c, pool: parts > 1 ? pool : nil)
        } else {
            splitGemm(s, alpha: alpha, a, b, beta: beta, c, parts: parts, cblas: nil)
        }
    }

    private func splitGemm(_ s: GemmShape, alpha: Float, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                           beta: Float, _ c: UnsafeMutablePointer<Float>, parts: Int, cblas: UnsafeMutableRawPointer?) {
        var args = dk_sgemm_args(transA: s.transA ? 1 : 0, transB: s.transB ? 1 : 0, m: s.m, n: s.n, k: s.k,
                                 alpha: alpha, beta: beta, a: a, b: b, c: c, lda: s.lda, ldb: s.ldb, ldc: s.ldc,
                                 cblas: cblas, isa: isa.rawValue)
        withUnsafeMutablePointer(to: &args) { pool.run(parts: parts, dk_sgemm_job, context: $0) }
    }

    /// 1 < m ≤ rowsGemmMaxRows against Linear weights (a batched decode step): every row by the GEMV
    /// kernel over cache-sized blocks of W, so each row has the bits of an m == 1 call and W is
    /// read once, unpacked (the packed GEMM re-packs all of W and pads m to its 12-row tile).
    private func rowsGemm(_ s: GemmShape, alpha: Float, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                          beta: Float, _ c: UnsafeMutablePointer<Float>) {
        let parts = s.m * s.n * s.k >= Self.gemvSplitWork ? min(pool.threads, (s.n + 15) / 16) : 1
        var args = dk_sgemm_args(transA: 0, transB: 1, m: s.m, n: s.n, k: s.k, alpha: alpha, beta: beta, a: a, b: b, c: c,
                                 lda: s.lda, ldb: s.ldb, ldc: s.ldc, cblas: nil, isa: isa.rawValue)
        withUnsafeMutablePointer(to: &args) { pool.run(parts: parts, dk_sgemm_rows_job, context: $0) }
    }

    /// Most rows a product against Linear weights may have to run row by row (`rowsGemm`); above
    /// it the packed GEMM's register tiles win.
    public static let rowsGemmMaxRows = 32

    /// m == 1: y = alpha·x·op(B) + beta·y with the GEMV kernels, split over the pool.
    private func gemv(_ s: GemmShape, alpha: Float, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                      beta: Float, _ c: UnsafeMutablePointer<Float>) {
        let run = { (x: UnsafePointer<Float>) in
            let parts = s.n * s.k >= Self.gemvSplitWork ? min(self.pool.threads, (s.n + 15) / 16) : 1
            var args = dk_sgemv_args(trans: s.transB ? 0 : 1, n: s.n, k: s.k, ld: s.ldb, alpha: alpha, beta: beta,
                                     w: b, x: x, y: c, isa: self.isa.rawValue)
            withUnsafeMutablePointer(to: &args) { self.pool.run(parts: parts, dk_sgemv_job, context: $0) }
        }
        if !s.transA || s.lda == 1 || s.k <= 1 {
            run(a)
        } else {  // x is a column of a [k, lda] matrix: gather it
            let x = [Float](unsafeUninitializedCapacity: s.k) { buf, count in
                for p in 0..<s.k { buf[p] = a[p * s.lda] }
                count = s.k
            }
            x.withUnsafeBufferPointer { run($0.baseAddress!) }
        }
    }

    public var name: String {
        switch kind {
        case .blas(let library): return "BLAS (\(library)\(blasCore.map { ", core \($0)" } ?? ""))"
        case .builtin: return "built-in kernels (\(isa.name))"
        }
    }

    public static func describe() -> String {
        """
        backend: \(shared.name)
        kernels: \(shared.isa.name)
        quantized kernels: \(shared.quantizedKernels) (q8_0, q4_0; BF16/F16 weights widen in the \(shared.isa.name) kernels)
        threads: \(shared.pool.threads) (\(ProcessEnvironment.threadCountFromVariable ? "from DOGE_THREADS" : "the core count; DOGE_THREADS=N sets it"))
        cores: \(ProcessEnvironment.coreCount)
        choose with DOGE_BLAS=builtin | <library name or path>
        """
    }
}

/// Instruction-set level of the built-in C kernels.
public enum KernelISA: Int32, Sendable, Comparable {
    case portable = 0, avx2 = 1, avx512 = 2
    public var name: String { String(cString: dk_isa_name(rawValue)) }
    /// What this CPU runs (after `DOGE_ISA`).
    public static var detected: KernelISA { KernelISA(rawValue: dk_isa()) ?? .portable }
    public static func < (l: KernelISA, r: KernelISA) -> Bool { l.rawValue < r.rawValue }
}

/// Remembers the thread count last given to the BLAS library (set only on change).
final class ThreadCountCache: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var current = -1
    init() { pthread_mutex_init(mutex, nil) }
    func set(_ n: Int, _ setter: ((Int) -> Void)?) {
        guard let setter else { return }
        pthread_mutex_lock(mutex)
        if current != n { setter(n); current = n }
        pthread_mutex_unlock(mutex)
    }
}

public enum ProcessEnvironment {
    public static func value(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    public static var coreCount: Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    /// `DOGE_THREADS` when set to a positive number, else the number of cores.
    public static var threadCount: Int {
        if let v = value("DOGE_THREADS"), let n = Int(v), n > 0 { return n }
        return coreCount
    }

    /// Whether `threadCount` came from `DOGE_THREADS`.
    public static var threadCountFromVariable: Bool {
        value("DOGE_THREADS").flatMap { Int($0) }.map { $0 > 0 } ?? false
    }

    /// `DOGE_THREADS`, `DOGE_ISA` and `DOGE_BLAS` values that cannot be used, each with what
    /// happens instead (the command line prints them as warnings; they are not errors).
    public static var warnings: [String] {
        var out: [String] = []
        if let v = value("DOGE_THREADS"), !threadCountFromVariable {
            out.append("DOGE_THREADS=\(v) is not a positive whole number; using \(coreCount) threads (the core count)")
        }
        if let v = value("DOGE_ISA"), !["portable", "avx2", "avx512"].contains(v) {
            out.append("DOGE_ISA=\(v) is not one of portable, avx2, avx512; the kernels use the CPU's best (\(KernelISA.detected.name))")
        }
        if let v = value("DOGE_BLAS"), v != "builtin", case .builtin = ComputeBackend.shared.kind {
            let tried = v == "blas" ? ComputeBackend.defaultLibraries.joined(separator: ", ") : v
            out.append("DOGE_BLAS=\(v): no CBLAS library could be loaded (tried \(tried)); using the built-in kernels")
        }
        return out
    }
}
