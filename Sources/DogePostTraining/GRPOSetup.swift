import Foundation
import DogeModel
import DogeGeneration
import DogeTraining

extension PostTrainingSetup {
    /// GRPOConfig keys (TRL 1.16 defaults) as settings.
    public func grpoSettings() throws -> GRPOSettings {
        var s = GRPOSettings()
        s.numGenerations = try recipe.int("num_generations", default: 8)!
        s.maxCompletionLength = try recipe.int("max_completion_length", default: 256)!
        s.maxPromptLength = try recipe.int("max_prompt_length", default: nil)
        s.temperature = Float(try recipe.double("temperature", default: 1))
        s.beta = try recipe.double("beta", default: 0)
        s.epsilon = try recipe.double("epsilon", default: 0.2)
        s.epsilonHigh = recipe.own["epsilon_high"] == nil ? nil : try recipe.double("epsilon_high", default: 0.2)
        let loss = try recipe.string("loss_type", default: "dapo")!
        guard let lossType = GRPOSettings.LossType(rawValue: loss) else {
            throw PostTrainingError.invalidOption(key: "loss_type", problem: "supported: grpo, bnpo, dr_grpo, dapo; found \(loss)")
        }
        s.lossType = lossType
        let scale: String
        if let b = recipe.own["scale_rewards"] as? Bool { recipe.markRead("scale_rewards"); scale = b ? "group" : "none" } else { scale = try recipe.string("scale_rewards", default: "group")! }
        guard let sc = GRPOSettings.Scale(rawValue: scale) else {
            throw PostTrainingError.invalidOption(key: "scale_rewards", problem: "supported: group, batch, none; found \(scale)")
        }
        s.scaleRewards = sc
        s.numIterations = try recipe.int("num_iterations", default: 1)!
        s.maskTruncatedCompletions = try recipe.bool("mask_truncated_completions", default: false)
        s.rewardWeights = try recipe.doubles("reward_weights")
        s.biasCorrectionKL = try recipe.bool("use_bias_correction_kl", default: true)
        if s.numIterations < 1 { throw PostTrainingError.invalidOption(key: "num_iterations", problem: "must be at least 1, found \(s.numIterations)") }
        if !(s.temperature > 0) { throw PostTrainingError.invalidOption(key: "temperature", problem: "must be positive, found \(s.temperature)") }
        if let spg = try recipe.int("steps_per_generation", default: nil), spg != options.gradientAccumulationSteps {
            throw PostTrainingError.invalidOption(key: "steps_per_generation", problem: "only steps_per_generation = gradient_accumulation_steps (TRL's default) is implemented")
        }
        if try recipe.bool("use_vllm", default: false) {
            throw PostTrainingError.invalidOption(key: "use_vllm", problem: "completions are sampled by doge's generator; set use_vllm: false")
        }
        return s
    }

    /// Reward functions: reward_funcs names (small-doge's built-ins) plus reward_command.
    public func rewardFunctions() throws -> [RewardFunction] {
        var out: [RewardFunction] = []
        for name in try recipe.strings("reward_funcs") ?? [] {
            guard let f = BuiltinReward(rawValue: name) else {
                throw PostTrainingError.invalidOption(key: "reward_funcs", problem: "unknown reward \(name); built-in: \(BuiltinReward.allCases.map(\.rawValue).joined(separator: ", ")) (or give reward_command)")
            }
            out.append(f)
        }
        if let command = try recipe.string("reward_command", default: nil) { out.append(CommandReward(command: command)) }
        if out.isEmpty {
            throw PostTrainingError.invalidOption(key: "reward_funcs", problem: "no reward: give reward_funcs (e.g. [accuracy, format]) or reward_command")
        }
        return out
    }

    /// GRPOTrainer's task; completions from `source`, or sampled from the policy.
    public func grpoTask(source: CompletionSource? = nil, report: (String) -> Void = { _ in }) throws -> GRPOTask {
        let s = try grpoSettings()
        let reference = s.beta != 0 ? try TrainingSetup.model(options) : nil
        var generation = GenerationConfig()
        generation.doSample = true
        generation.maxNewTokens = s.maxCompletionLength
        generation.temperature = s.temperature
        generation.topP = Float(try recipe.double("top_p", default: 1))
        generation.topK = try recipe.int("top_k", default: 0)!
        generation.minP = recipe.own["min_p"] == nil ? nil : Float(try recipe.double("min_p", default: 0))
        generation.repetitionPenalty = Float(try recipe.double("repetition_penalty", default: 1))
        generation.eosTokenIds = tokenizer.eosTokenID.map { [$0] } ?? []
        generation.padTokenId = try padID()
        generation.seed = UInt64(bitPattern: Int64(options.seed))
        let task = try GRPOTask(rows: rows, tokenizer: tokenizer, settings: s, rewards: try rewardFunctions(),
                                source: source ?? SampledCompletions(model: model, config: generation),
                                reference: reference, batchSize: options.batchSize, padID: try padID())
        report("GRPO: \(rows.count) prompts, \(s.numGenerations) completions each, \(task.promptsPerBatch) prompts per batch\n")
        return task
    }
}
