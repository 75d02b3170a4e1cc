import Foundation
import DogeKernels
import DogeModel
import DogeGeneration
import DogeTokenizers

/// Where GRPO's completions come from. The sampler decodes a prompt's completions together as one
/// batch; the protocol lets another decoding engine (or fixed completions, in tests) stand in.
public protocol CompletionSource: AnyObject {
    /// `count` completions for each prompt: token ids up to and including the first EOS, or cut
    /// at the length limit.
    func complete(prompts: [[Int]], rows: [DataRow], count: Int, step: Int) throws -> [[[Int]]]
}

/// Samples with DogeGeneration's TokenGenerator (the G completions of a prompt in one batch).
public final class SampledCompletions: CompletionSource {
    public let model: DogeForCausalLM
    public var config: GenerationConfig
    public var backend: ComputeBackend = .shared

    public init(model: DogeForCausalLM, config: GenerationConfig) { self.model = model; self.config = config }

    public func complete(prompts: [[Int]], rows: [DataRow], count: Int, step: Int) throws -> [[[Int]]] {
        let generator = TokenGenerator(model: model)
        generator.backend = backend
        return try prompts.enumerated().map { i, prompt in
            var c = config
            c.seed = config.seed &+ UInt64(step) &* 1_000_003 &+ UInt64(i) &* 7919
            return try generator.generate(prompts: Array(repeating: prompt, count: count), config: c)
        }
    }
}

/// Completions given in the data (a `completion_ids` column: one id list per generation), for
/// comparing the loss with TRL's on the same completions.
public final class FixedCompletions: CompletionSource {
    public init() {}
    public func complete(prompts: [[Int]], rows: [DataRow], count: Int, step: Int) throws -> [[[Int]]] {
        try rows.map { row in
            guard case .array(let list) = row["completion_ids"] ?? .null, list.count == count else {
                throw row.error("completion_ids", "fixed completions need a list of \(count) id lists")
            }
            return try list.map { item in
                guard case .array(let ids) = item else { throw row.error("completion_ids", "expected lists of token ids") }
                return try ids.map { guard case .int(let i) = $0 else { throw row.error("completion_ids", "expected integers") }; return i }
            }
        }
    }
}

public struct GRPOSettings: Sendable {
    public enum LossType: String, Sendable, CaseIterable { case grpo, bnpo, drGRPO = "dr_grpo", dapo }
    public enum Scale: String, Sendable, CaseIterable { case group, batch, none }
    public var numGenerations = 8
    public var maxCompletionLength = 256
    public var maxPromptLength: Int?
    public var temperature: Float = 1
    public var beta = 0.0
    public var epsilon = 0.2
    public var epsilonHigh: Double?
    public var lossType = LossType.dapo
    public var scaleRewards = Scale.group
    public var numIterations = 1
    public var maskTruncatedCompletions = false
    public var rewardWeights: [Double]?
    /// use_bias_correction_kl (TRL 1.16 default true): the KL term is multiplied by ρ.
    public var biasCorrectionKL = true
    public init() {}
}

/// GRPOTrainer's step (TRL 1.16), with steps_per_generation = gradient_accumulation_steps: the
/// step's prompts each get num_generations completions, rewards (weighted sum) become advantages
/// (r − mean_group)/(std_group + 1e-4), and the per-token loss −min(ρA, clip(ρ)A) + β·KL_k3 is
/// normalised as loss_type says. The batch is reused for num_iterations steps (ρ against the
/// log-probabilities of the first).
public final class GRPOTask: PostTrainingTask {
    public let rows: [DataRow]
    public let promptIDs: [[Int]]
    public let settings: GRPOSettings
    public let rewards: [RewardFunction]
    public let source: CompletionSource
    public let reference: DogeForCausalLM?
    public let tokenizer: Tokenizer
    public let eosIDs: Set<Int>
    public let padID: Int
    public let promptsPerBatch: Int

    struct Rollout {
        var prompt: Int            // row index
        var ids: [Int]             // completion ids
        var advantage: Double
        var mask: Bool             // false: masked out (truncated, with mask_truncated_completions)
        var old: [Float]?          // log-probabilities at generation (num_iterations > 1)
        var ref: [Float]?
    }
    private var buffer: [[Rollout]] = []      // per micro-batch
    private var generationMetrics: [String: Double] = [:]

    public init(rows: [DataRow], tokenizer: Tokenizer, settings: GRPOSettings, rewards: [RewardFunction], source: CompletionSource,
                reference: DogeForCausalLM?, batchSize: Int, padID: Int) throws {
        guard settings.numGenerations >= 2 else {
            throw PostTrainingError.invalidOption(key: "num_generations", problem: "must be at least 2 (a group of one always has advantage 0), found \(settings.numGenerations)")
        }
        guard batchSize % settings.numGenerations == 0 else {
            throw PostTrainingError.invalidOption(key: "per_device_train_batch_size", problem: "counts completions and must be a multiple of num_generations (\(settings.numGenerations)), found \(batchSize)")
        }
        if let w = settings.rewardWeights, w.count != rewards.count {
            throw PostTrainingError.invalidOption(key: "reward_weights", problem: "\(w.count) weights for \(rewards.count) reward functions")
        }
        if settings.beta != 0 && reference == nil { throw PostTrainingError.invalidOption(key: "beta", problem: "beta > 0 needs the reference model") }
        self.rows = rows; self.tokenizer = tokenizer; self.settings = settings; self.rewards = rewards
        self.source = source; self.reference = reference; self.padID = padID
        promptsPerBatch = batchSize / settings.numGenerations
        var eos = Set<Int>()
        if let e = tokenizer.eosTokenID { eos.insert(e) }
        eosIDs = eos
        promptIDs = try rows.map { row in
            let ids: [Int]
            switch try row.turns("prompt") {
            case .messages(let m): ids = try SFTData.render(tokenizer, m, tools: row.tools, generationPrompt: true, row: row, field: "prompt")
            case .text(let s): ids = tokenizer.encode(s)
            }
            if let L = settings.maxPromptLength, ids.count > L {
                throw row.error("prompt", "\(ids.count) tokens exceed max_prompt_length \(L); shorten the prompt or raise max_prompt_length")
            }
            return ids
        }
    }

    public var sampleCount: Int { rows.count }
    public var microBatchSamples: Int? { promptsPerBatch }
    public var stepsPerBatch: Int { settings.numIterations }

    static func mean(_ v: [Double]) -> Double { let f = v.filter { !$0.isNaN }; return f.isEmpty ? .nan : f.reduce(0, +) / Double(f.count) }
    static func std(_ v: [Double]) -> Double {
        let f = v.filter { !$0.isNaN }
        guard f.count > 1 else { return .nan }
        let m = f.reduce(0, +) / Double(f.count)
        return (f.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(f.count - 1)).squareRoot()
    }

    /// Samples, scores and turns rewards into advantages for the step's micro-batches.
    func generate(_ microBatches: [[Int]], model: DogeForCausalLM, step: Int, backend: ComputeBackend) throws {
        let G = settings.numGenerations
        let all = microBatches.flatMap { $0 }
        let completions = try source.complete(prompts: all.map { promptIDs[$0] }, rows: all.map { rows[$0] }, count: G, step: step)
        var flat: [(prompt: Int, ids: [Int])] = []
        for (k, p) in all.enumerated() { for c in completions[k] { flat.append((p, Array(c.prefix(settings.maxCompletionLength)))) } }
        let scored = try flat.map { f -> ScoredCompletion in
            // Ids past the tokenizer's vocabulary (a model's padded embedding rows) decode to nothing, as in HF tokenizers.
            let known = f.ids.filter { tokenizer.idToToken($0) != nil }
            return ScoredCompletion(row: rows[f.prompt], text: try tokenizer.decode(known, skipSpecialTokens: true), ids: f.ids)
        }
        let weights = settings.rewardWeights ?? Array(repeating: 1, count: rewards.count)
        var perFunction: [[Double]] = []
        for r in rewards {
            let values = try r.rewards(scored)
            guard values.count == scored.count else { throw PostTrainingError.reward("\(r.name) returned \(values.count) rewards for \(scored.count) completions") }
            perFunction.append(values.map { $0 ?? .nan })
        }
        let total = (0..<flat.count).map { i -> Double in
            let parts = perFunction.indices.map { perFunction[$0][i] * weights[$0] }
            return parts.allSatisfy(\.isNaN) ? .nan : parts.filter { !$0.isNaN }.reduce(0, +)
        }
        var advantages = [Double](repeating: 0, count: flat.count)
        var zeroStd = 0
        let batchStd = Self.std(total)
        for g in 0..<(flat.count / G) {
            let group = Array(total[(g * G)..<((g + 1) * G)])
            let m = Self.mean(group)
            let s = settings.scaleRewards == .batch ? batchStd : Self.std(group)
            if abs(s) <= 1e-8 { zeroStd += G }
            for j in 0..<G {
                var a = group[j] - m
                if settings.scaleRewards != .none { a /= (s + 1e-4) }
                advantages[g * G + j] = a.isNaN ? 0 : a
            }
        }
        // Metrics of the generation (TRL names).
        var m: [String: Double] = [:]
        let lengths = flat.map { Double($0.ids.count) }
        m["completions/mean_length"] = Self.mean(lengths)
        m["completions/min_length"] = lengths.min()
        m["completions/max_length"] = lengths.max()
        let truncated = flat.map { f in f.ids.last.map { !eosIDs.contains($0) && $0 != padID } ?? true }
        m["completions/clipped_ratio"] = Double(truncated.filter { $0 }.count) / Double(flat.count)
        let terminated = zip(lengths, truncated).filter { !$0.1 }.map(\.0)
        m["completions/mean_terminated_length"] = terminated.isEmpty ? 0 : Self.mean(terminated)
        m["completions/min_terminated_length"] = terminated.min() ?? 0
        m["completions/max_terminated_length"] = terminated.max() ?? 0
        for (k, r) in rewards.enumerated() {
            m["rewards/\(r.name)/mean"] = Self.mean(perFunction[k])
            m["rewards/\(r.name)/std"] = Self.std(perFunction[k])
        }
        m["reward"] = Self.mean(total)
        m["reward_std"] = Self.std(total)
        m["frac_reward_zero_std"] = Double(zeroStd) / Double(flat.count)
        generationMetrics = m
        // Rollouts per micro-batch, with the reference's (and, for reuse, the policy's) log-probabilities.
        buffer = []
        var offset = 0
        for micro in microBatches {
            var rollouts: [Rollout] = []
            for _ in micro {
                for _ in 0..<G {
                    let f = flat[offset]
                    rollouts.append(Rollout(prompt: f.prompt, ids: f.ids, advantage: advantages[offset],
                                            mask: !(settings.maskTruncatedCompletions && truncated[offset])))
                    offset += 1
                }
            }
            if let reference, !rollouts.isEmpty {
                let (ids, labels) = batch(rollouts)
                let stats = try reference.tokenStatistics(ids: ids, labels: labels, temperature: settings.temperature, backend: backend)
                for k in rollouts.indices { rollouts[k].ref = completionValues(stats.logProbs[k], rollouts[k]) }
            }
            buffer.append(rollouts)
        }
    }

    /// Rows prompt + completion, right-padded; labels on the completion.
    func batch(_ rollouts: [Rollout]) -> ([[Int]], [[Int]]) {
        let seqs = rollouts.map { promptIDs[$0.prompt] + $0.ids }
        let T = seqs.map(\.count).max() ?? 0
        let ids = seqs.map { $0 + Array(repeating: padID, count: T - $0.count) }
        let labels = rollouts.map { r in
            Array(repeating: -100, count: promptIDs[r.prompt].count) + r.ids + Array(repeating: -100, count: T - promptIDs[r.prompt].count - r.ids.count)
        }
        return (ids, labels)
    }

    /// The values at the positions that predict the completion's tokens.
    func completionValues(_ row: [Float], _ r: Rollout) -> [Float] {
        let start = promptIDs[r.prompt].count - 1
        return Array(row[start..<(start + r.ids.count)])
    }

    public func step(_ microBatches: [[Int]], model: DogeForCausalLM, gradients: DogeForCausalLM, step: Int,
                     backend: ComputeBackend) throws -> StepOutcome {
        let iteration = step % settings.numIterations
        if iteration == 0 || buffer.isEmpty { try generate(microBatches, model: model, step: step, backend: backend) }
        let ga = Double(microBatches.count)
        let eLow = settings.epsilon, eHigh = settings.epsilonHigh ?? settings.epsilon, beta = settings.beta
        let totalTokens = buffer.reduce(0) { $0 + $1.reduce(0) { $0 + ($1.mask ? $1.ids.count : 0) } }
        var loss = 0.0, tokens = 0
        var klSum = 0.0, entropySum = 0.0, low = 0.0, high = 0.0, region = 0.0, counted = 0.0
        for (b, rollouts) in buffer.enumerated() where !rollouts.isEmpty {
            let (ids, labels) = batch(rollouts)
            let n = Double(rollouts.count)
            let maskedTokens = Double(rollouts.reduce(0) { $0 + ($1.mask ? $1.ids.count : 0) })
            var microLoss = 0.0
            var current: [[Float]] = []
            try model.accumulateTokenObjective(ids: ids, labels: labels, temperature: settings.temperature, into: gradients, backend: backend) { s in
                var coefficients = s.counted.map { $0.map { _ in Float(0) } }
                for (k, r) in rollouts.enumerated() {
                    let logps = completionValues(s.logProbs[k], r)
                    let entropies = completionValues(s.entropies[k], r)
                    current.append(logps)
                    let old = r.old ?? logps
                    let count = Double(max(r.ids.count, 1))
                    // Each token's weight in the loss (loss_type's normalisation).
                    let weight: Double
                    switch settings.lossType {
                    case .grpo: weight = 1 / (count * n * ga)
                    case .bnpo: weight = 1 / (max(maskedTokens, 1) * ga)
                    case .drGRPO: weight = 1 / (n * Double(settings.maxCompletionLength) * ga)
                    case .dapo: weight = 1 / Double(max(totalTokens, 1))
                    }
                    let a = r.advantage
                    let start = promptIDs[r.prompt].count - 1
                    for t in logps.indices where r.mask {
                        let ratio = exp(Double(logps[t]) - Double(old[t]))
                        let clipped = min(max(ratio, 1 - eLow), 1 + eHigh)
                        let unclippedTerm = ratio * a, clippedTerm = clipped * a
                        var tokenLoss = -min(unclippedTerm, clippedTerm)
                        var g = unclippedTerm <= clippedTerm || clipped == ratio ? -ratio * a : 0
                        if beta != 0, let ref = r.ref {
                            // k3 estimator; with use_bias_correction_kl (TRL's default) times ρ, whose
                            // gradient also counts: d(ρ·kl)/dlogp = ρ·(1 − e^d) + ρ·kl.
                            let d = Double(ref[t]) - Double(logps[t])
                            var kl = exp(d) - d - 1
                            var dkl = 1 - exp(d)
                            if settings.biasCorrectionKL { dkl = ratio * dkl + ratio * kl; kl *= ratio }
                            tokenLoss += beta * kl
                            g += beta * dkl
                            klSum += kl
                        }
                        microLoss += tokenLoss * weight
                        coefficients[k][start + t] = Float(g * weight)
                        entropySum += Double(entropies[t])
                        let isLow = ratio < 1 - eLow && a < 0, isHigh = ratio > 1 + eHigh && a > 0
                        low += isLow ? 1 : 0; high += isHigh ? 1 : 0; region += isLow || isHigh ? 1 : 0
                        counted += 1
                    }
                }
                return coefficients
            }
            if settings.numIterations > 1 && iteration == 0 {
                for k in buffer[b].indices { buffer[b][k].old = current[k] }
            }
            loss += microLoss
            tokens += ids.reduce(0) { $0 + $1.count }
        }
        var metrics = generationMetrics
        if iteration != 0 {   // TRL logs the generation metrics at the generating step only
            metrics = metrics.filter { !$0.key.hasPrefix("completions/") && !$0.key.hasPrefix("reward") && $0.key != "frac_reward_zero_std" }
        }
        let c = max(counted, 1)
        metrics["entropy"] = entropySum / c
        if beta != 0 { metrics["kl"] = klSum / c }
        metrics["clip_ratio/low_mean"] = low / c
        metrics["clip_ratio/high_mean"] = high / c
        metrics["clip_ratio/region_mean"] = region / c
        return StepOutcome(loss: loss, metrics: metrics, tokens: tokens)
    }
}
