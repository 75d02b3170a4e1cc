import Foundation

/// Rotary position embedding with transformers' RoPE variants (modeling_rope_utils.py).
///
/// Dynamic NTK scaling is stateful across calls exactly like transformers' `dynamic_rope_update`:
/// a call reaching past the longest length seen so far recomputes the frequencies for that length,
/// and a call entirely inside the original length after that resets them.
public final class RotaryEmbedding: @unchecked Sendable {
    public let config: DogeConfiguration
    public private(set) var inverseFrequencies: [Float]
    public private(set) var attentionScaling: Float
    private let originalInverseFrequencies: [Float]
    private var maxSequenceLengthCached: Int
    private let originalMaxSequenceLength: Int

    public init(config: DogeConfiguration) {
        self.config = config
        (inverseFrequencies, attentionScaling) = Self.frequencies(config: config, sequenceLength: nil)
        originalInverseFrequencies = inverseFrequencies
        maxSequenceLengthCached = config.maxPositionEmbeddings
        originalMaxSequenceLength = config.maxPositionEmbeddings
    }

    /// Resets the dynamic-scaling state to a freshly loaded model's.
    public func reset() {
        inverseFrequencies = originalInverseFrequencies
        (_, attentionScaling) = Self.frequencies(config: config, sequenceLength: nil)
        maxSequenceLengthCached = originalMaxSequenceLength
    }

    var dim: Int { config.headDim }

    /// cos and sin, each [positions.count, headDim], for the positions of one forward call.
    public func cosSin(positions: [Int]) -> (cos: [Float], sin: [Float]) {
        if config.rope.kind == .dynamic, let maxPosition = positions.max() {
            updateDynamic(sequenceLength: maxPosition + 1)
        }
        let half = dim / 2
        var cosValues = [Float](repeating: 0, count: positions.count * dim)
        var sinValues = cosValues
        for (row, p) in positions.enumerated() {
            let base = row * dim
            for i in 0..<half {
                let angle = Float(p) * inverseFrequencies[i]   // float32 product, as torch
                let c = Foundation.cos(angle) * attentionScaling
                let s = Foundation.sin(angle) * attentionScaling
                cosValues[base + i] = c
                cosValues[base + half + i] = c
                sinValues[base + i] = s
                sinValues[base + half + i] = s
            }
        }
        return (cosValues, sinValues)
    }

    private func updateDynamic(sequenceLength: Int) {
        let cachedBefore = maxSequenceLengthCached
        if sequenceLength > cachedBefore {
            (inverseFrequencies, attentionScaling) = Self.frequencies(config: config, sequenceLength: sequenceLength)
            maxSequenceLengthCached = sequenceLength
        }
        if sequenceLength < originalMaxSequenceLength && cachedBefore > originalMaxSequenceLength {
            inverseFrequencies = originalInverseFrequencies
            maxSequenceLengthCached = originalMaxSequenceLength
        }
    }

    /// `1 / base^(2i/dim)` in float32, as torch computes it.
    static func defaultFrequencies(base: Float, dim: Int) -> [Float] {
        (0..<(dim / 2)).map { i in 1 / powf(base, Float(2 * i) / Float(dim)) }
    }

    /// inv_freq and the attention factor for a RoPE type (transformers' ROPE_INIT_FUNCTIONS).
    static func frequencies(config: DogeConfiguration, sequenceLength: Int?) -> ([Float], Float) {
        let rope = config.rope
        let dim = config.headDim
        switch rope.kind {
        case .default:
            return (defaultFrequencies(base: Float(rope.theta), dim: dim), 1)
        case .linear:
            let factor = Float(rope.factor ?? 1)
            return (defaultFrequencies(base: Float(rope.theta), dim: dim).map { $0 / factor }, 1)
        case .dynamic:
            let m = config.maxPositionEmbeddings
            let length = Float(max(sequenceLength ?? m, m))
            let factor = Float(rope.factor ?? 1)
            let scaled = Float(rope.theta) * powf(factor * length / Float(m) - (factor - 1), Float(dim) / Float(dim - 2))
            return (defaultFrequencies(base: scaled, dim: dim), 1)
        case .llama3:
            return (llama3Frequencies(rope, dim: dim, config: config), 1)
        case .yarn:
            return yarnFrequencies(rope, dim: dim, config: config)
        }
    }

    static func llama3Frequencies(_ rope: RopeParameters, dim: Int, config: DogeConfiguration) -> [Float] {
        let factor = Float(rope.factor ?? 1)
        let low = Float(rope.lowFreqFactor ?? 1)
        let high = Float(rope.highFreqFactor ?? 4)
        let oldContext = Float(rope.originalMaxPositionEmbeddings ?? config.maxPositionEmbeddings)
        let lowWavelength = oldContext / low
        let highWavelength = oldContext / high
        return defaultFrequencies(base: Float(rope.theta), dim: dim).map { f in
            let wavelength = 2 * Float.pi / f
            if wavelength < highWavelength { return f }
            if wavelength > lowWavelength { return f / factor }
            let smooth = (oldContext / wavelength - low) / (high - low)
            return (1 - smooth) * f / factor + smooth * f
        }
    }

    static func yarnFrequencies(_ rope: RopeParameters, dim: Int, config: DogeConfiguration) -> ([Float], Float) {
        let base = rope.theta
        let originalMax = Double(rope.originalMaxPositionEmbeddings ?? config.maxPositionEmbeddings)
        let factor = rope.factor ?? Double(config.maxPositionEmbeddings) / originalMax
        func mscale(_ scale: Double, _ m: Double = 1) -> Double { scale <= 1 ? 1 : 0.1 * m * log(scale) + 1 }
        var attentionFactor = rope.attentionFactor
        if attentionFactor == nil {
            if let m = rope.mscale, let mAll = rope.mscaleAllDim, m != 0, mAll != 0 {
                attentionFactor = mscale(factor, m) / mscale(factor, mAll)
            } else {
                attentionFactor = mscale(factor)
            }
        }
        let betaFast = rope.betaFast.flatMap { $0 == 0 ? nil : $0 } ?? 32
        let betaSlow = rope.betaSlow.flatMap { $0 == 0 ? nil : $0 } ?? 1
        func correctionDim(_ rotations: Double) -> Double {
            Double(dim) * log(originalMax / (rotations * 2 * Double.pi)) / (2 * log(base))
        }
        var low = correctionDim(betaFast), high = correctionDim(betaSlow)
        if rope.truncate { low = low.rounded(.down); high = high.rounded(.up) }
        low = max(low, 0)
        high = min(high, Double(dim - 1))
        if low == high { high += 0.001 }
        let f = Float(factor)
        let inv = (0..<(dim / 2)).map { i -> Float in
            let positionFrequency = powf(Float(base), Float(2 * i) / Float(dim))
            let extrapolation = 1 / positionFrequency
            let interpolation = 1 / (f * positionFrequency)
            let ramp = min(max((Float(i) - Float(low)) / (Float(high) - Float(low)), 0), 1)
            let extrapolationFactor = 1 - ramp
            return interpolation * (1 - extrapolationFactor) + extrapolation * extrapolationFactor
        }
        return (inv, Float(attentionFactor!))
    }
}

/// x' = x·cos + rotate_half(x)·sin, in place, for `heads` heads of one token.
@inline(__always)
func applyRotary(_ x: UnsafeMutablePointer<Float>, heads: Int, dim: Int, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>) {
    let half = dim / 2
    for h in 0..<heads {
        let v = x + h * dim
        for i in 0..<half {
            let a = v[i], b = v[i + half]
            v[i] = a * cos[i] - b * sin[i]
            v[i + half] = b * cos[i + half] + a * sin[i + half]
        }
    }
}
