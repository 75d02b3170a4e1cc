#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Row-wise and element-wise float kernels the model layers are built from.
/// Each takes raw pointers so callers can work on slices of larger buffers without copies.
public enum VectorOps {
    /// out[r, :] = weight ⊙ x[r, :] / sqrt(mean(x[r, :]²) + eps) for `rows` rows of `cols`.
    public static func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, eps: Float,
                               rows: Int, cols: Int, out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let xr = x + r * cols
            let or = out + r * cols
            let ss = dot(xr, xr, cols)
            let scale = 1 / (ss / Float(cols) + eps).squareRoot()
            for c in 0..<cols { or[c] = weight[c] * (xr[c] * scale) }
        }
    }

    /// In-place softmax of one row of `n` floats. Entries equal to -Float.greatestFiniteMagnitude
    /// still get exp(x - max) like PyTorch (they underflow to 0 unless the whole row is masked).
    public static func softmaxInPlace(_ x: UnsafeMutablePointer<Float>, count n: Int) {
        var m = -Float.infinity
        for i in 0..<n where x[i] > m { m = x[i] }
        var sum: Float = 0
        for i in 0..<n { let e = expf(x[i] - m); x[i] = e; sum += e }
        let inv = 1 / sum
        for i in 0..<n { x[i] *= inv }
    }

    /// out = silu(gate) ⊙ up, element-wise over `n` values.
    public static func siluMul(_ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>, count n: Int,
                               out: UnsafeMutablePointer<Float>) {
        for i in 0..<n { let g = gate[i]; out[i] = g / (1 + expf(-g)) * up[i] }
    }

    /// y[i] += x[i] for `n` values.
    public static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { y[i] += x[i] }
    }

    /// y[i] += alpha · x[i] for `n` values.
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { y[i] += alpha * x[i] }
    }
}
