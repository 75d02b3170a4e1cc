import Foundation
import DogeModel

/// Dense → CDMoE upcycling as small-doge does it (`from_pretrained(dense, config=MoE config)`):
/// every dense tensor is kept, the dense MLP becomes the shared expert, and the new router and
/// expert tables are drawn N(0, initializer_range) — or, with `zeroInit`, `up_embed` is zero so the
/// routed term vanishes and the upcycled model computes exactly the dense model's logits.
public enum Upcycle {
    public static func moe(from dense: DogeForCausalLM, experts: Int, perToken: Int, zeroInit: Bool,
                           seed: UInt64 = 42) throws -> DogeForCausalLM {
        guard !dense.config.isMoE else {
            throw PostTrainingError.invalidOption(key: "--model", problem: "the checkpoint is already a CDMoE model (is_moe true)")
        }
        var config = dense.config
        config.isMoE = true
        config.numExperts = experts
        config.numExpertsPerTok = perToken
        let keys = config.numKeys
        guard experts > 0, keys * keys == experts else {
            throw PostTrainingError.invalidOption(key: "--num-experts", problem: "must be a perfect square (the router picks ⌊√E⌋ keys per half), found \(experts); e.g. \(max(1, keys * keys)) or \((keys + 1) * (keys + 1))")
        }
        guard perToken >= 1, perToken <= experts else {
            throw PostTrainingError.invalidOption(key: "--experts-per-token", problem: "must be between 1 and \(experts), found \(perToken)")
        }
        do { try config.validate() } catch { throw PostTrainingError.invalidOption(key: "--num-experts", problem: "\(error)") }
        var weights = dense.namedParameters()
        var rng = SeededGenerator(seed: seed)
        let std = Float(config.initializerRange)
        for spec in config.parameterSpecs(layout: dense.layout) where weights[spec.key] == nil {
            var t = Tensor(zeros: spec.shape)
            let zero = zeroInit && spec.key.hasSuffix("mlp.up_embed.weight")
            if !zero { for i in 0..<t.count { t.data[i] = rng.nextGaussian() * std } }
            weights[spec.key] = t
        }
        return DogeForCausalLM(config: config, layout: dense.layout, weights: weights)
    }

    /// The parameters that are new in an upcycled model (router and expert tables).
    public static func isExpertParameter(_ name: String) -> Bool {
        name.hasSuffix("mlp.router_gate.weight") || name.hasSuffix("mlp.down_embed.weight") || name.hasSuffix("mlp.up_embed.weight")
    }
}
