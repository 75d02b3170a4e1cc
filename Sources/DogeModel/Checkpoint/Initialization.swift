import Foundation

/// A small, fast, seedable generator (SplitMix64) so a seed reproduces a model or a run.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A standard normal sample (Box–Muller).
    public mutating func nextGaussian() -> Float {
        let u1 = max(Double(next() >> 11) / Double(1 << 53), .leastNonzeroMagnitude)
        let u2 = Double(next() >> 11) / Double(1 << 53)
        return Float((-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
    }
}

extension DogeForCausalLM {
    /// A freshly initialised model as transformers' `_init_weights` makes one: linear and
    /// embedding weights ~ N(0, initializer_range), biases 0, norms and residuals 1, A = 0,
    /// the padding embedding row 0.
    public convenience init(config: DogeConfiguration, layout: CheckpointLayout = .native, seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        let std = Float(config.initializerRange)
        var weights: [String: Tensor] = [:]
        for spec in config.parameterSpecs(layout: layout) {
            var t = Tensor(zeros: spec.shape)
            switch spec.role {
            case .weight, .embedding:
                for i in 0..<t.count { t.data[i] = rng.nextGaussian() * std }
            case .norm:
                t = Tensor(repeating: 1, shape: spec.shape)
            case .residual:
                t = Tensor(repeating: 1, shape: spec.shape)
            case .bias, .dynamicMaskScale:
                break
            }
            if spec.key == "model.embed_tokens.weight", let pad = config.padTokenId {
                for j in 0..<config.hiddenSize { t.data[pad * config.hiddenSize + j] = 0 }
            }
            weights[spec.key] = t
        }
        DogeBackbone.preferHugePages(weights)
        self.init(config: config, layout: layout, weights: weights)
    }
}
