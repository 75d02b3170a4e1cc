#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CDogeKernels

/// Where matrix products run: a CBLAS library found at run time, or the built-in kernels.
///
/// Chosen once per process. `DOGE_BLAS` picks: `builtin` (never use BLAS), a library name or
/// path (`libblis.so.4`, `/opt/intel/mkl/lib/libmkl_rt.so`), or unset to try the usual ones.
public final class ComputeBackend: @unchecked Sendable {
    public enum Kind: Sendable, Equatable {
        case blas(library: String)
        case builtin
    }

    typealias CblasSgemm = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float,
                                           UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32,
                                           Float, UnsafeMutablePointer<Float>?, Int32) -> Void

    public let kind: Kind
    /// The BLAS library's own idea of the CPU it tuned for (OpenBLAS `openblas_get_corename`).
    public let blasCore: String?
    private let sgemm: CblasSgemm?

    /// The process-wide backend, resolved from `DOGE_BLAS` on first use.
    public static let shared = ComputeBackend(choice: ProcessEnvironment.value("DOGE_BLAS"))
    /// Built-in kernels only; tests use it to check the fallback path.
    public static let builtin = ComputeBackend(choice: "builtin")

    public init(choice: String?) {
        var found: (String, UnsafeMutableRawPointer, CblasSgemm)?
        if choice != "builtin" {
            let candidates = choice.map { [$0] } ?? Self.defaultLibraries
            for name in candidates {
                if let lib = Self.openBLAS(name) { found = (name, lib.0, lib.1); break }
            }
        }
        if let (name, handle, fn) = found {
            kind = .blas(library: name)
            sgemm = fn
            if let sym = dlsym(handle, "openblas_get_corename") {
                let corename = unsafeBitCast(sym, to: (@convention(c) () -> UnsafePointer<CChar>?).self)
                blasCore = corename().map { String(cString: $0) }
            } else {
                blasCore = nil
            }
        } else {
            kind = .builtin
            sgemm = nil
            blasCore = nil
        }
    }

    static let defaultLibraries = [
        "libopenblas.so.0", "libopenblas.so", "libblis.so.4", "libblis.so", "libmkl_rt.so",
        "/System/Library/Frameworks/Accelerate.framework/Accelerate",
    ]

    private static func openBLAS(_ name: String) -> (UnsafeMutableRawPointer, CblasSgemm)? {
        // Debian's OpenBLAS 0.3.21 mistakes AVX-512 CPUs for Prescott (5x slower): name the core
        // before the library initialises, unless the user already did.
        if ProcessEnvironment.value("OPENBLAS_CORETYPE") == nil, dk_has_avx512() != 0 {
            setenv("OPENBLAS_CORETYPE", "SkylakeX", 0)
        }
        guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else { return nil }
        guard let sym = dlsym(handle, "cblas_sgemm") else { dlclose(handle); return nil }
        return (handle, unsafeBitCast(sym, to: CblasSgemm.self))
    }

    /// `C = alpha · op(A) · op(B) + beta · C`, row-major.
    public func gemm(_ s: GemmShape, alpha: Float = 1, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                     beta: Float = 0, _ c: UnsafeMutablePointer<Float>) {
        if s.m == 0 || s.n == 0 { return }
        if let sgemm {
            sgemm(101, s.transA ? 112 : 111, s.transB ? 112 : 111, Int32(s.m), Int32(s.n), Int32(s.k),
                  alpha, a, Int32(s.lda), b, Int32(s.ldb), beta, c, Int32(s.ldc))
        } else {
            builtinGemm(s, alpha: alpha, a, b, beta: beta, c)
        }
    }

    public var name: String {
        switch kind {
        case .blas(let library): return "BLAS (\(library)\(blasCore.map { ", core \($0)" } ?? ""))"
        case .builtin: return "built-in kernels (\(dk_has_avx512() != 0 ? "AVX-512" : dk_has_avx2_fma() != 0 ? "AVX2" : "portable"))"
        }
    }

    public static func describe() -> String {
        """
        backend: \(shared.name)
        cores: \(ProcessEnvironment.coreCount)
        choose with DOGE_BLAS=builtin | <library name or path>
        """
    }
}

public enum ProcessEnvironment {
    public static func value(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    public static var coreCount: Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }
}
