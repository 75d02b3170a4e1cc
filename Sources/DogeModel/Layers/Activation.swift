#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `hidden_act` functions transformers' ACT2FN maps Doge configs to.
public enum Activation: Sendable {
    case silu, relu, gelu, geluTanh

    public init?(name: String) {
        switch name {
        case "silu", "swish": self = .silu
        case "relu": self = .relu
        case "gelu": self = .gelu
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": self = .geluTanh
        default: return nil
        }
    }

    @inline(__always)
    public func callAsFunction(_ x: Float) -> Float {
        switch self {
        case .silu: return x / (1 + expf(-x))
        case .relu: return max(x, 0)
        case .gelu: return 0.5 * x * (1 + erff(x * 0.70710678118654752))
        case .geluTanh:
            let c: Float = 0.7978845608028654
            return 0.5 * x * (1 + tanhf(c * (x + 0.044715 * x * x * x)))
        }
    }

    /// d act(x) / dx, for backward passes.
    @inline(__always)
    public func derivative(_ x: Float) -> Float {
        switch self {
        case .silu:
            let s = 1 / (1 + expf(-x))
            return s * (1 + x * (1 - s))
        case .relu: return x > 0 ? 1 : 0
        case .gelu:
            let cdf = 0.5 * (1 + erff(x * 0.70710678118654752))
            let pdf = expf(-0.5 * x * x) / (2 * Float.pi).squareRoot()
            return cdf + x * pdf
        case .geluTanh:
            let c: Float = 0.7978845608028654
            let inner = c * (x + 0.044715 * x * x * x)
            let t = tanhf(inner)
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)
        }
    }
}
