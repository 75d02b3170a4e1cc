import Foundation

/// Learning-rate schedules of transformers' optimization.py, as multipliers of the base rate.
/// `factor(step:)` is the LambdaLR lambda: the rate used by optimizer step k (0-based) is
/// base · factor(k), as the Trainer steps the scheduler after each optimizer step.
public enum LearningRateSchedule: Sendable, Equatable {
    case constant
    case constantWithWarmup(warmup: Int)
    case linear(warmup: Int, total: Int)
    case cosine(warmup: Int, total: Int, cycles: Double)
    case cosineWithMinLR(warmup: Int, total: Int, cycles: Double, minLRRate: Double)
    case warmupStableDecay(warmup: Int, stable: Int, decay: Int, warmupType: CurveType, decayType: CurveType,
                           minLRRatio: Double, cycles: Double)

    public enum CurveType: String, Sendable, CaseIterable { case linear, cosine, oneMinusSqrt = "1-sqrt" }

    public func factor(step current: Int) -> Double {
        switch self {
        case .constant:
            return 1
        case .constantWithWarmup(let w):
            return current < w ? Double(current) / Double(max(1, w)) : 1
        case let .linear(w, total):
            if current < w { return Double(current) / Double(max(1, w)) }
            return max(0, Double(total - current) / Double(max(1, total - w)))
        case let .cosine(w, total, cycles):
            if current < w { return Double(current) / Double(max(1, w)) }
            let progress = Double(current - w) / Double(max(1, total - w))
            return max(0, 0.5 * (1 + cos(Double.pi * cycles * 2 * progress)))
        case let .cosineWithMinLR(w, total, cycles, rate):
            if current < w { return Double(current) / Double(max(1, w)) }
            let progress = Double(current - w) / Double(max(1, total - w))
            let f = 0.5 * (1 + cos(Double.pi * cycles * 2 * progress))
            return max(0, f * (1 - rate) + rate)
        case let .warmupStableDecay(w, stable, decay, warmupType, decayType, minRatio, cycles):
            if current < w {
                let progress = Double(current) / Double(max(1, w))
                let f: Double
                switch warmupType {
                case .linear: f = progress
                case .cosine: f = 0.5 * (1 - cos(Double.pi * progress))
                case .oneMinusSqrt: f = 1 - (1 - progress).squareRoot()
                }
                return max(0, f * (1 - minRatio) + minRatio)
            }
            if current < w + stable { return 1 }
            if current < w + stable + decay {
                let progress = Double(current - w - stable) / Double(max(1, decay))
                let f: Double
                switch decayType {
                case .linear: f = 1 - progress
                case .cosine: f = 0.5 * (1 + cos(Double.pi * cycles * 2 * progress))
                case .oneMinusSqrt: f = 1 - progress.squareRoot()
                }
                return max(0, f * (1 - minRatio) + minRatio)
            }
            return minRatio
        }
    }
}
