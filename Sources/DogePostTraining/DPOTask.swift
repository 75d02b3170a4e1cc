import Foundation
import DogeKernels
import DogeModel

/// DPO loss types (TRL 1.16 forms).
public enum DPOLossType: String, Sendable, CaseIterable { case sigmoid, hinge, ipo, robust }

/// DPOTrainer's step (TRL 1.16): completion log-probabilities summed over the surviving tokens,
/// the reference = the initial policy, frozen (its log-probabilities computed once and cached),
/// the loss of each pair from Δ = (logπ_c − logπref_c) − (logπ_r − logπref_r), averaged over the
/// micro-batch's pairs and divided by gradient_accumulation_steps.
public final class DPOTask: PostTrainingTask {
    public let pairs: [PreferencePair]
    public let beta: Double
    public let lossType: DPOLossType
    public let labelSmoothing: Double
    public let maxLength: Int?
    public let padID: Int
    /// Reference log-probabilities (chosen, rejected) of every pair.
    public private(set) var reference: [(Double, Double)] = []

    public init(pairs: [PreferencePair], beta: Double, lossType: DPOLossType, labelSmoothing: Double, maxLength: Int?,
                padID: Int, reference model: DogeForCausalLM, backend: ComputeBackend = .shared) throws {
        self.pairs = pairs; self.beta = beta; self.lossType = lossType; self.labelSmoothing = labelSmoothing
        self.maxLength = maxLength; self.padID = padID
        if lossType == .robust && !(0..<0.5).contains(labelSmoothing) {
            throw PostTrainingError.invalidOption(key: "label_smoothing", problem: "the robust loss needs 0 ≤ label_smoothing < 0.5, found \(labelSmoothing)")
        }
        guard beta > 0 else { throw PostTrainingError.invalidOption(key: "beta", problem: "must be positive, found \(beta)") }
        for start in stride(from: 0, to: pairs.count, by: 8) {
            let indices = Array(start..<min(start + 8, pairs.count))
            let (ids, labels, _) = batch(indices)
            let stats = try model.tokenStatistics(ids: ids, labels: labels, backend: backend)
            let logps = Self.sums(stats)
            for k in indices.indices { reference.append((logps[k], logps[indices.count + k])) }
        }
    }

    public var sampleCount: Int { pairs.count }

    /// Rows [chosen…; rejected…], each prompt+completion cut to max_length, right-padded; labels
    /// are the completion tokens. Also the completion token counts.
    func batch(_ indices: [Int]) -> ([[Int]], [[Int]], [Int]) {
        var rows: [[Int]] = [], labels: [[Int]] = [], counts: [Int] = []
        for which in 0..<2 {
            for i in indices {
                let p = pairs[i], completion = which == 0 ? p.chosen : p.rejected
                var ids = p.prompt + completion
                var lab = Array(repeating: -100, count: p.prompt.count) + completion
                if let L = maxLength, ids.count > L { ids = Array(ids.prefix(L)); lab = Array(lab.prefix(L)) }
                rows.append(ids); labels.append(lab); counts.append(lab.filter { $0 != -100 }.count)
            }
        }
        let T = rows.map(\.count).max() ?? 0
        return (rows.map { $0 + Array(repeating: padID, count: T - $0.count) },
                labels.map { $0 + Array(repeating: -100, count: T - $0.count) }, counts)
    }

    static func sums(_ s: TokenStatistics) -> [Double] {
        zip(s.logProbs, s.counted).map { lp, c in zip(lp, c).reduce(0.0) { $0 + ($1.1 ? Double($1.0) : 0) } }
    }

    static func logSigmoid(_ x: Double) -> Double { x >= 0 ? -log1p(exp(-x)) : x - log1p(exp(x)) }
    static func sigmoid(_ x: Double) -> Double { x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)) }

    /// Loss of one pair and its derivatives with respect to logπ_c and logπ_r.
    func pairLoss(chosen: Double, rejected: Double, reference r: (Double, Double), counts: (Int, Int)) -> (Double, Double, Double) {
        let sc = chosen - r.0, sr = rejected - r.1, delta = sc - sr, b = beta, e = labelSmoothing
        switch lossType {
        case .sigmoid:
            let d = -b * Self.sigmoid(-b * delta)
            return (-Self.logSigmoid(b * delta), d, -d)
        case .hinge:
            let v = 1 - b * delta
            return (max(0, v), v > 0 ? -b : 0, v > 0 ? b : 0)
        case .ipo:
            let nc = Double(max(counts.0, 1)), nr = Double(max(counts.1, 1))
            let u = sc / nc - sr / nr - 1 / (2 * b)
            return (u * u, 2 * u / nc, -2 * u / nr)
        case .robust:
            let loss = (-(1 - e) * Self.logSigmoid(b * delta) + e * Self.logSigmoid(-b * delta)) / (1 - 2 * e)
            let d = (-(1 - e) * b * Self.sigmoid(-b * delta) - e * b * Self.sigmoid(b * delta)) / (1 - 2 * e)
            return (loss, d, -d)
        }
    }

    public func step(_ microBatches: [[Int]], model: DogeForCausalLM, gradients: DogeForCausalLM, step: Int,
                     backend: ComputeBackend) throws -> StepOutcome {
        var loss = 0.0, tokens = 0
        var metrics: [String: Double] = [:]
        let live = microBatches.filter { !$0.isEmpty }
        let ga = Double(microBatches.count)
        for indices in live {
            let (ids, labels, counts) = batch(indices)
            let n = indices.count
            var figures: [(Double, Double, Double, Double, Double)] = []   // loss, πc, πr, rc, rr
            let stats = try model.accumulateTokenObjective(ids: ids, labels: labels, into: gradients, backend: backend) { s in
                let logps = Self.sums(s)
                var coefficients = s.counted.map { $0.map { _ in Float(0) } }
                for k in 0..<n {
                    let r = reference[indices[k]]
                    let (l, dc, dr) = pairLoss(chosen: logps[k], rejected: logps[n + k], reference: r, counts: (counts[k], counts[n + k]))
                    figures.append((l, logps[k], logps[n + k], r.0, r.1))
                    let scale = 1 / (Double(n) * ga)
                    for t in coefficients[k].indices where s.counted[k][t] { coefficients[k][t] = Float(dc * scale) }
                    for t in coefficients[n + k].indices where s.counted[n + k][t] { coefficients[n + k][t] = Float(dr * scale) }
                }
                return coefficients
            }
            let mean = { (f: ((Double, Double, Double, Double, Double)) -> Double) in figures.map(f).reduce(0, +) / Double(n) }
            loss += mean { $0.0 } / ga
            let V = Double(model.config.vocabSize)
            func logitMean(_ rows: Range<Int>) -> Double {
                var sum = 0.0, count = 0
                for b in rows { for t in stats.counted[b].indices where stats.counted[b][t] { sum += Double(stats.logitSums[b][t]) / V; count += 1 } }
                return count > 0 ? sum / Double(count) : 0
            }
            func entropy() -> Double {
                var sum = 0.0, count = 0
                for b in stats.counted.indices { for t in stats.counted[b].indices where stats.counted[b][t] { sum += Double(stats.entropies[b][t]); count += 1 } }
                return count > 0 ? sum / Double(count) : 0
            }
            let micro: [String: Double] = [
                "rewards/chosen": mean { self.beta * ($0.1 - $0.3) },
                "rewards/rejected": mean { self.beta * ($0.2 - $0.4) },
                "rewards/accuracies": mean { self.beta * ($0.1 - $0.3) > self.beta * ($0.2 - $0.4) ? 1 : 0 },
                "rewards/margins": mean { self.beta * ($0.1 - $0.3) - self.beta * ($0.2 - $0.4) },
                "logps/chosen": mean { $0.1 }, "logps/rejected": mean { $0.2 },
                "logits/chosen": logitMean(0..<n), "logits/rejected": logitMean(n..<(2 * n)),
                "entropy": entropy(),
            ]
            for (k, v) in micro { metrics[k, default: 0] += v / Double(live.count) }
            tokens += ids.indices.reduce(0) { acc, b in acc + (b < n ? pairs[indices[b]].prompt.count + pairs[indices[b]].chosen.count
                                                                 : pairs[indices[b - n]].prompt.count + pairs[indices[b - n]].rejected.count) }
        }
        return StepOutcome(loss: loss, metrics: metrics, tokens: tokens)
    }

    /// Mean pair loss and reward metrics over every pair (forward only).
    public func evaluate(model: DogeForCausalLM, batchSize: Int, backend: ComputeBackend) throws -> [String: Double] {
        var sums: [String: Double] = [:]
        var pairsSeen = 0.0
        for start in stride(from: 0, to: pairs.count, by: max(batchSize, 1)) {
            let indices = Array(start..<min(start + max(batchSize, 1), pairs.count))
            let (ids, labels, counts) = batch(indices)
            let logps = Self.sums(try model.tokenStatistics(ids: ids, labels: labels, backend: backend))
            let n = indices.count
            for k in 0..<n {
                let r = reference[indices[k]]
                let (l, _, _) = pairLoss(chosen: logps[k], rejected: logps[n + k], reference: r, counts: (counts[k], counts[n + k]))
                let rc = beta * (logps[k] - r.0), rr = beta * (logps[n + k] - r.1)
                sums["loss", default: 0] += l
                sums["rewards/chosen", default: 0] += rc
                sums["rewards/rejected", default: 0] += rr
                sums["rewards/margins", default: 0] += rc - rr
                sums["rewards/accuracies", default: 0] += rc > rr ? 1 : 0
                sums["logps/chosen", default: 0] += logps[k]
                sums["logps/rejected", default: 0] += logps[n + k]
            }
            pairsSeen += Double(n)
        }
        return sums.mapValues { $0 / max(pairsSeen, 1) }
    }
}
