import CDogeKernels
import DogeKernels

/// Deterministic xorshift generator: tests reproduce from their seed.
struct TestRNG {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
    mutating func next() -> UInt64 {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return state
    }
    /// Uniform in [-1, 1).
    mutating func float() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }
    mutating func floats(_ n: Int, scale: Float = 1) -> [Float] { (0..<n).map { _ in float() * scale } }
}

/// The backends every GEMM test runs on: built-in kernels at each instruction set this CPU has
/// (so an AVX-512 machine also checks the AVX2 kernels), the portable Swift fallback, with 1 and
/// with the default thread count, and the BLAS library in both threading modes when installed.
enum Backends {
    static let singleThread = ComputePool(threads: 1)

    static var all: [(String, ComputeBackend)] {
        var list: [(String, ComputeBackend)] = []
        var isa = KernelISA.detected
        while true {
            list.append(("builtin-\(isa.name)", ComputeBackend(choice: "builtin", isaLimit: isa)))
            list.append(("builtin-\(isa.name)-1T", ComputeBackend(choice: "builtin", pool: singleThread, isaLimit: isa)))
            if isa == .portable { break }
            isa = KernelISA(rawValue: isa.rawValue - 1)!
        }
        let blas = ComputeBackend(choice: nil)
        if case .blas = blas.kind {
            list.append(("blas-pool", blas))
            list.append(("blas-library", ComputeBackend(choice: nil, blasThreading: .library)))
            list.append(("blas-no-gemv", ComputeBackend(choice: nil, gemvForDecode: false)))
        }
        return list
    }

    static var names: [String] { all.map(\.0) }
    static func named(_ name: String) -> ComputeBackend { all.first { $0.0 == name }!.1 }
}

/// Runs `body` with the C kernels capped at `isa` on this thread (vector ops run on the caller).
func withThreadISA<T>(_ isa: KernelISA, _ body: () throws -> T) rethrows -> T {
    _ = dk_set_thread_isa_limit(isa.rawValue)
    defer { _ = dk_set_thread_isa_limit(KernelISA.avx512.rawValue) }
    return try body()
}

/// The levels the vector ops have on this CPU: the detected one and the portable fallback.
var vectorISALevels: [KernelISA] {
    KernelISA.detected == .portable ? [.portable] : [KernelISA.detected, .portable]
}

func relClose(_ a: Float, _ b: Float, rel: Float, abs: Float = 0) -> Bool {
    if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
    if a.isInfinite || b.isInfinite { return a == b }
    return Swift.abs(a - b) <= abs + rel * Swift.abs(b)
}
