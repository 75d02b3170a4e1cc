import Foundation
import DogeTraining

/// A TRL recipe (SFTConfig, DPOConfig or GRPOConfig keys) split into the Trainer's keys, which
/// `TrainingOptions` reads, and the trainer-specific keys read here.
public struct PostTrainingRecipe {
    public enum Kind: String, Sendable { case sft, dpo, grpo }

    /// TRL's own keys per trainer (TRL 1.16 names), with what each does here.
    public static let keys: [Kind: Set<String>] = [
        .sft: ["packing", "packing_strategy", "padding_free", "completion_only_loss", "assistant_only_loss", "eos_token",
               "pad_token", "truncation_mode", "shuffle_dataset", "loss_type", "dataset_kwargs", "chat_template_path",
               "eval_packing", "pad_to_multiple_of", "activation_offloading"],
        .dpo: ["beta", "loss_type", "loss_weights", "label_smoothing", "max_prompt_length", "max_completion_length",
               "truncation_mode", "precompute_ref_log_probs", "ref_model_init_kwargs", "disable_dropout", "pad_token",
               "reference_free", "rpo_alpha", "use_weighting", "ld_alpha", "f_divergence_type", "padding_free",
               "sync_ref_model", "ref_model_mixup_alpha", "ref_model_sync_steps", "generate_during_eval", "ref_model"],
        .grpo: ["num_generations", "max_completion_length", "max_prompt_length", "temperature", "top_p", "top_k", "min_p",
                "repetition_penalty", "beta", "epsilon", "epsilon_high", "loss_type", "scale_rewards", "num_iterations",
                "reward_funcs", "reward_weights", "mask_truncated_completions", "steps_per_generation",
                "generation_batch_size", "use_vllm", "vllm_mode", "vllm_gpu_memory_utilization", "vllm_device",
                "disable_dropout", "log_completions", "num_completions_to_print", "importance_sampling_level",
                "system_prompt", "reward_command", "sync_ref_model", "generation_kwargs", "shuffle_dataset",
                "cosine_min_value_wrong", "cosine_max_value_wrong", "cosine_min_value_correct", "cosine_max_value_correct",
                "cosine_max_len", "repetition_n_grams", "repetition_max_penalty", "dataset_prompt_column", "use_bias_correction_kl"],
    ]

    public var trainer: [String: Any] = [:]
    public var own: [String: Any] = [:]
    private final class Reads: @unchecked Sendable { var keys = Set<String>() }
    private let reads = Reads()

    /// The trainer's own keys the recipe gives that nothing read (accepted, not applied here).
    public func markRead(_ key: String) { reads.keys.insert(key) }

    public var unread: [String] { own.keys.filter { !reads.keys.contains($0) }.sorted() }

    /// Splits `values`; TRL's default learning rates apply when the recipe gives none.
    public init(_ values: [String: Any], kind: Kind) {
        let mine = Self.keys[kind]!
        for (k, v) in values {
            if mine.contains(k) { own[k] = v } else { trainer[k] = v }
        }
        if trainer["learning_rate"] == nil { trainer["learning_rate"] = kind == .sft ? 2e-5 : 1e-6 }
        if trainer["logging_steps"] == nil { trainer["logging_steps"] = 10 }
        if trainer["max_length"] == nil && trainer["max_seq_length"] == nil { trainer["max_length"] = 1024 }
        // TRL's datasets are rows, never packed into blocks by the Trainer's keys.
    }

    public func bool(_ key: String, default d: Bool) throws -> Bool {
        reads.keys.insert(key)
        guard let v = own[key], !(v is NSNull) else { return d }
        if let b = v as? Bool { return b }
        if let s = v as? String, ["true", "false"].contains(s.lowercased()) { return s.lowercased() == "true" }
        throw PostTrainingError.invalidOption(key: key, problem: "expected true or false, found \(v)")
    }

    public func optionalBool(_ key: String) throws -> Bool? {
        reads.keys.insert(key)
        guard let v = own[key], !(v is NSNull) else { return nil }
        return try bool(key, default: false)
    }

    public func double(_ key: String, default d: Double) throws -> Double {
        reads.keys.insert(key)
        guard let v = own[key], !(v is NSNull) else { return d }
        if let x = v as? Double { return x }
        if let i = v as? Int { return Double(i) }
        if let s = v as? String, let x = Double(s) { return x }
        throw PostTrainingError.invalidOption(key: key, problem: "expected a number, found \(v)")
    }

    public func int(_ key: String, default d: Int?) throws -> Int? {
        reads.keys.insert(key)
        guard let v = own[key], !(v is NSNull) else { return d }
        if let i = v as? Int { return i }
        if let x = v as? Double, x == x.rounded() { return Int(x) }
        if let s = v as? String, let i = Int(s) { return i }
        throw PostTrainingError.invalidOption(key: key, problem: "expected an integer, found \(v)")
    }

    public func string(_ key: String, default d: String?) throws -> String? {
        reads.keys.insert(key)
        guard let v = own[key], !(v is NSNull) else { return d }
        if let s = v as? String { return s }
        if let list = v as? [Any], list.count == 1, let s = list[0] as? String { return s }
        throw PostTrainingError.invalidOption(key: key, problem: "expected a string, found \(v)")
    }

    public func strings(_ key: String) throws -> [String]? {
        reads.keys.insert(key)
        guard let v = own[key], !(v is NSNull) else { return nil }
        if let s = v as? String { return [s] }
        if let list = v as? [Any] { return try list.map { guard let s = $0 as? String else { throw PostTrainingError.invalidOption(key: key, problem: "expected strings, found \($0)") }; return s } }
        throw PostTrainingError.invalidOption(key: key, problem: "expected a list of strings, found \(v)")
    }

    public func doubles(_ key: String) throws -> [Double]? {
        reads.keys.insert(key)
        guard let v = own[key], !(v is NSNull) else { return nil }
        let list = (v as? [Any]) ?? [v]
        return try list.map {
            if let x = $0 as? Double { return x }
            if let i = $0 as? Int { return Double(i) }
            throw PostTrainingError.invalidOption(key: key, problem: "expected numbers, found \($0)")
        }
    }
}
