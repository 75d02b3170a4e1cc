#if canImport(Glibc)
import Glibc
private func _exp(_ x: Double) -> Double { Glibc.exp(x) }
private func _log1p(_ x: Double) -> Double { Glibc.log1p(x) }
#elseif canImport(Darwin)
import Darwin
private func _exp(_ x: Double) -> Double { Darwin.exp(x) }
private func _log1p(_ x: Double) -> Double { Darwin.log1p(x) }
#endif
import CDogeKernels

/// Row-wise and element-wise float kernels the model layers are built from.
/// Each takes raw pointers so callers can work on slices of larger buffers without copies.
/// The bodies are C SIMD kernels (AVX2+FMA, chosen at run time) with portable C fallbacks;
/// `VectorOpsReference` holds the obviously-correct versions the tests compare against.
public enum VectorOps {
    /// out[r, :] = weight ⊙ x[r, :] / sqrt(mean(x[r, :]²) + eps) for `rows` rows of `cols`.
    public static func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, eps: Float,
                               rows: Int, cols: Int, out: UnsafeMutablePointer<Float>) {
        dk_rmsnorm(x, weight, eps, rows, cols, out)
    }

    /// In-place softmax of one row of `n` floats, like PyTorch: entries equal to
    /// -Float.greatestFiniteMagnitude (masked) or -inf give exactly 0 as long as one entry is
    /// larger; a row that is entirely -3.4e38 becomes uniform, one entirely -inf becomes NaN.
    public static func softmaxInPlace(_ x: UnsafeMutablePointer<Float>, count n: Int) {
        dk_softmax(x, n)
    }

    /// out = silu(gate) ⊙ up, element-wise over `n` values.
    public static func siluMul(_ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>, count n: Int,
                               out: UnsafeMutablePointer<Float>) {
        dk_silu_mul(gate, up, n, out)
    }

    /// y[i] += x[i] for `n` values.
    public static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count n: Int) {
        dk_add(x, y, n)
    }

    /// One AdamW update of `n` parameters in place (torch.optim.AdamW, decoupled decay), the
    /// same bits on every CPU: see `dk_adamw`.
    public static func adamW(parameters p: UnsafeMutablePointer<Float>, gradients g: UnsafePointer<Float>,
                             firstMoment m: UnsafeMutablePointer<Float>, secondMoment v: UnsafeMutablePointer<Float>,
                             count n: Int, step: AdamWStep) {
        var s = dk_adamw_step(decay: step.decayFactor, decays: step.decays ? 1 : 0, b1: step.oneMinusBeta1,
                              b2: step.beta2, one_minus_b2: step.oneMinusBeta2, bc2_sqrt: step.biasCorrection2Sqrt,
                              eps: step.epsilon, step_size: step.stepSize)
        dk_adamw(p, g, m, v, n, &s)
    }

    /// y[i] += alpha · x[i] for `n` values.
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count n: Int) {
        dk_axpy(alpha, x, y, n)
    }

    /// out[i] = alpha · x[i]; `out` may be `x`.
    public static func scale(_ alpha: Float, _ x: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, count n: Int) {
        dk_scale(alpha, x, out, n)
    }

    /// out[i] = a[i] · b[i]; `out` may be `a` or `b`.
    public static func mul(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, count n: Int) {
        dk_mul(a, b, out, n)
    }

    /// out[i] = exp(x[i]). Relative error ≤ ~3e-6; +inf above 88.72; results that would be
    /// tiny subnormals (x < -103.97) are exactly 0; NaN stays NaN. `out` may be `x`.
    public static func exp(_ x: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, count n: Int) {
        dk_exp(x, out, n)
    }

    /// out[i] = softplus(x[i]) = log(1 + exp(x[i])), and x[i] itself above 20
    /// (`torch.nn.functional.softplus` with beta 1, threshold 20). `out` may be `x`.
    public static func softplus(_ x: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, count n: Int) {
        dk_softplus(x, out, n)
    }

    /// bfloat16 bit patterns → Float (exact: a 16-bit shift).
    public static func bf16ToF32(_ src: UnsafePointer<UInt16>, out: UnsafeMutablePointer<Float>, count n: Int) {
        dk_bf16_to_f32(src, out, n)
    }

    /// IEEE half bit patterns → Float (exact for every pattern, subnormals, inf and NaN included).
    public static func f16ToF32(_ src: UnsafePointer<UInt16>, out: UnsafeMutablePointer<Float>, count n: Int) {
        dk_f16_to_f32(src, out, n)
    }
}

/// The naive versions of `VectorOps`, in double precision where it matters. For tests.
public enum VectorOpsReference {
    public static func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, eps: Float,
                               rows: Int, cols: Int, out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            var ss: Double = 0
            for c in 0..<cols { ss += Double(x[r * cols + c]) * Double(x[r * cols + c]) }
            let scale = 1 / (ss / Double(cols) + Double(eps)).squareRoot()
            for c in 0..<cols { out[r * cols + c] = Float(Double(weight[c]) * Double(x[r * cols + c]) * scale) }
        }
    }

    public static func softmaxInPlace(_ x: UnsafeMutablePointer<Float>, count n: Int) {
        var m = -Double.infinity
        for i in 0..<n where Double(x[i]) > m { m = Double(x[i]) }
        var e = [Double](repeating: 0, count: n)
        for i in 0..<n { e[i] = _exp(Double(x[i]) - m) }
        let sum = e.reduce(0, +)
        for i in 0..<n { x[i] = Float(e[i] / sum) }
    }

    public static func silu(_ g: Float) -> Float { Float(Double(g) / (1 + _exp(-Double(g)))) }

    public static func exp(_ x: Float) -> Float { Float(_exp(Double(x))) }

    public static func softplus(_ x: Float) -> Float {
        x > 20 ? x : Float(_log1p(_exp(Double(x))))
    }
}

/// The per-step constants of an AdamW update (see `VectorOps.adamW`).
public struct AdamWStep: Sendable {
    public var decayFactor: Float, decays: Bool
    public var oneMinusBeta1: Float, beta2: Float, oneMinusBeta2: Float
    public var biasCorrection2Sqrt: Float, epsilon: Float, stepSize: Float

    public init(decayFactor: Float, decays: Bool, oneMinusBeta1: Float, beta2: Float, oneMinusBeta2: Float,
                biasCorrection2Sqrt: Float, epsilon: Float, stepSize: Float) {
        self.decayFactor = decayFactor; self.decays = decays
        self.oneMinusBeta1 = oneMinusBeta1; self.beta2 = beta2; self.oneMinusBeta2 = oneMinusBeta2
        self.biasCorrection2Sqrt = biasCorrection2Sqrt; self.epsilon = epsilon; self.stepSize = stepSize
    }
}
