import Foundation
import Yams
import DogeModel

/// Everything a run is configured with: the small-doge recipe keys (Hugging Face
/// TrainingArguments names and defaults) that apply to `doge train`.
public struct TrainingOptions: Sendable {
    // Model
    /// New model from these DogeConfig fields (model_init_kwargs), or nil to continue from `modelPath`.
    public var modelInit: [String: JSONValue]?
    /// model_name_or_path: the checkpoint to continue from, or (with model_init_kwargs) where the tokenizer is.
    public var modelPath: String?
    public var tokenizerPath: String?
    // Data
    public var datasets: [(path: String, ratio: Double)] = []
    public var textField = "text"
    public var maxLength = 2048
    public var totalSampleSize: Int?
    public var evalFraction: Double?
    /// eval_dataset: held-out files evaluated instead of a split of the training data.
    public var evalDatasets: [String] = []
    public var cacheDirectory: String?
    // Optimisation
    public var learningRate = 5e-5
    public var schedulerType = "linear"
    public var schedulerArguments: [String: Double] = [:]
    public var schedulerStrings: [String: String] = [:]
    public var warmupSteps = 0
    public var warmupRatio = 0.0
    public var maxSteps = -1
    public var numTrainEpochs = 3.0
    public var batchSize = 8
    public var evalBatchSize = 8
    public var gradientAccumulationSteps = 1
    public var weightDecay = 0.0
    public var adamBeta1 = 0.9
    public var adamBeta2 = 0.999
    public var adamEpsilon = 1e-8
    public var maxGradNorm = 1.0
    public var seed = 42
    // Logging, evaluation, checkpoints
    public var loggingSteps = 500
    public var saveSteps = 500
    public var saveStrategy = "steps"
    public var saveTotalLimit: Int?
    public var evalSteps: Int?
    public var evalStrategy = "no"
    public var outputDirectory = "trainer_output"
    /// Keys read but not applicable here, each with the reason (printed once).
    public var ignored: [(key: String, reason: String)] = []

    public init() {}

    /// Keys that only do not apply to a CPU run (no effect on the weights it trains), with why:
    /// noted once, then ignored. Anything neither here nor in `appliedKeys` is an error.
    public static let ignoredKeys: [String: String] = [
        "bf16": "CPU training computes in float32", "fp16": "CPU training computes in float32",
        "tf32": "CPU training computes in float32", "torch_dtype": "CPU training computes in float32",
        "push_to_hub": "no hub uploads", "hub_model_id": "no hub uploads", "hub_strategy": "no hub uploads",
        "private": "no hub uploads", "token": "no hub uploads", "report_to": "metrics go to metrics.jsonl",
        "log_level": "progress goes to stderr", "logging_strategy": "logs every logging_steps",
        "overwrite_output_dir": "checkpoints are added next to existing ones",
        "gradient_checkpointing": "activations are kept (small models)", "gradient_checkpointing_kwargs": "activations are kept",
        "preprocessing_num_workers": "tokenization runs in this process", "dataset_num_proc": "tokenization runs in this process",
        "model_revision": "local directories only", "trust_remote_code": "both checkpoint layouts load natively",
        "do_train": "doge train always trains", "packing": "data is always packed into max_length blocks",
        "dataset_config": "local files only", "attn_implementation": "one attention implementation",
        "optim": "AdamW (torch) is the optimizer",
        "ddp_timeout": "single process", "use_liger_kernel": "no liger kernels", "use_liger": "no liger kernels",
        "bf16_full_eval": "float32", "run_name": "no experiment tracker", "logging_first_step": "logs every logging_steps",
        "remove_unused_columns": "not applicable", "dataloader_num_workers": "single process",
        "logging_dir": "metrics go to metrics.jsonl", "disable_tqdm": "progress goes to stderr",
        "save_safetensors": "checkpoints are always safetensors", "save_only_model": "checkpoints keep the optimizer state",
        "dataloader_pin_memory": "no GPU", "ddp_find_unused_parameters": "single process", "local_rank": "single process",
        "deepspeed": "single process", "fsdp": "single process", "fsdp_config": "single process",
        "include_tokens_per_second": "tokens/s is always shown", "hub_private_repo": "no hub uploads",
        "use_cpu": "always on the CPU", "no_cuda": "always on the CPU", "half_precision_backend": "CPU training computes in float32",
    ]

    /// Reads a small-doge recipe (YAML); its relative paths are resolved against its folder.
    public static func load(recipe url: URL) throws -> [String: Any] {
        let text: String
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw TrainingError.invalidOption(key: url.path, problem: "no such recipe file")
        }
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw TrainingError.invalidOption(key: url.path, problem: "cannot read the recipe: \(error.localizedDescription)")
        }
        do {
            guard let object = try RecipeYAML.load(text) as? [String: Any] else {
                throw TrainingError.invalidOption(key: url.path, problem: "the recipe is not a mapping of keys to values")
            }
            return resolvingPaths(object, against: url.deletingLastPathComponent())
        } catch TrainingError.invalidOption(_, let problem) {
            throw TrainingError.invalidOption(key: url.path, problem: problem)
        } catch {
            throw TrainingError.invalidOption(key: url.path, problem: "not valid YAML: \(error)")
        }
    }

    /// Applies recipe keys (and flags, given as the same keys afterwards), then validates.
    public static func from(_ values: [String: Any]) throws -> TrainingOptions {
        var o = TrainingOptions()
        func bad(_ key: String, _ problem: String) -> TrainingError { .invalidOption(key: key, problem: problem) }
        func int(_ key: String, _ v: Any) throws -> Int {
            if let i = v as? Int { return i }
            if let d = v as? Double, let i = Int(exactly: d) { return i }
            if let s = v as? String, let i = Int(s) { return i }
            throw bad(key, "expected an integer, found \(v)")
        }
        func double(_ key: String, _ v: Any) throws -> Double {
            if let d = v as? Double { return d }
            if let i = v as? Int { return Double(i) }
            if let s = v as? String, let d = Double(s) { return d }
            throw bad(key, "expected a number, found \(v)")
        }
        func string(_ key: String, _ v: Any) throws -> String {
            if let s = v as? String { return s }
            if let i = v as? Int { return String(i) }
            throw bad(key, "expected a string, found \(v)")
        }
        // YAML 1.1 reads an unquoted `no` as false.
        func strategy(_ key: String, _ v: Any) throws -> String { (v as? Bool) == false ? "no" : try string(key, v) }
        try checkKnown(values.keys, known: appliedKeys.union(ignoredKeys.keys))
        for key in values.keys.sorted() {
            let v = values[key]!
            if v is NSNull { continue }
            switch key {
            case "model_init_kwargs", "model_config":
                guard let d = v as? [String: Any] else { throw bad(key, "expected a mapping of DogeConfig fields") }
                try checkKnown(d.keys, known: modelInitKeys, section: key)
                o.modelInit = try d.mapValues { try jsonValue($0, key: key) }
                for k in ["torch_dtype", "attn_implementation"] where d[k] != nil {
                    o.ignored.append(("model_init_kwargs.\(k)", k == "torch_dtype" ? "CPU training computes in float32" : "one attention implementation"))
                }
            case "model_name_or_path": o.modelPath = try string(key, v)
            case "tokenizer_name_or_path", "tokenizer": o.tokenizerPath = try string(key, v)
            case "datasets_and_ratios":
                guard let list = v as? [Any] else { throw bad(key, "expected a list of {path: ratio} entries") }
                o.datasets = try list.flatMap { item -> [(String, Double)] in
                    guard let d = item as? [String: Any] else { throw bad(key, "each entry must be {path: ratio}, found \(item)") }
                    return try d.map { ($0.key, try double(key, $0.value)) }
                }
            case "dataset_name", "dataset", "train_file":
                if let list = v as? [Any] { o.datasets = try list.map { (try string(key, $0), 1.0) } }
                else { o.datasets = [(try string(key, v), 1.0)] }
            case "eval_dataset", "eval_datasets", "validation_file":
                if let list = v as? [Any] { o.evalDatasets = try list.map { try string(key, $0) } }
                else { o.evalDatasets = [try string(key, v)] }
            case "dataset_text_field": o.textField = try string(key, v)
            case "max_length", "max_seq_length": o.maxLength = try int(key, v)
            case "total_sample_size": o.totalSampleSize = try int(key, v)
            case "eval_split", "validation_split_percentage":
                o.evalFraction = try double(key, v) / (key == "validation_split_percentage" ? 100 : 1)
            case "cache_dir": o.cacheDirectory = try string(key, v)
            case "learning_rate": o.learningRate = try double(key, v)
            case "lr_scheduler_type": o.schedulerType = try string(key, v)
            case "lr_scheduler_kwargs":
                guard let d = v as? [String: Any] else { throw bad(key, "expected a mapping") }
                for (k, x) in d {
                    if let s = x as? String, Double(s) == nil { o.schedulerStrings[k] = s } else { o.schedulerArguments[k] = try double("\(key).\(k)", x) }
                }
            case "warmup_steps": o.warmupSteps = try int(key, v)
            case "warmup_ratio": o.warmupRatio = try double(key, v)
            case "max_steps": o.maxSteps = try int(key, v)
            case "num_train_epochs": o.numTrainEpochs = try double(key, v)
            case "per_device_train_batch_size": o.batchSize = try int(key, v)
            case "per_device_eval_batch_size": o.evalBatchSize = try int(key, v)
            case "gradient_accumulation_steps": o.gradientAccumulationSteps = try int(key, v)
            case "weight_decay": o.weightDecay = try double(key, v)
            case "adam_beta1": o.adamBeta1 = try double(key, v)
            case "adam_beta2": o.adamBeta2 = try double(key, v)
            case "adam_epsilon": o.adamEpsilon = try double(key, v)
            case "max_grad_norm": o.maxGradNorm = try double(key, v)
            case "seed": o.seed = try int(key, v)
            case "logging_steps": o.loggingSteps = try int(key, v)
            case "save_steps": o.saveSteps = try int(key, v)
            case "save_strategy": o.saveStrategy = try strategy(key, v)
            case "save_total_limit": o.saveTotalLimit = try int(key, v)
            case "eval_steps": o.evalSteps = try int(key, v)
            case "eval_strategy", "evaluation_strategy": o.evalStrategy = try strategy(key, v)
            case "do_eval": if (v as? Bool) == true, o.evalStrategy == "no" { o.evalStrategy = "steps" }
            case "output_dir": o.outputDirectory = try string(key, v)
            case "optim":
                let name = try string(key, v)
                guard ["adamw_torch", "adamw_torch_fused", "adamw_hf", "adamw"].contains(name) else {
                    throw bad(key, "only AdamW is implemented (adamw_torch, adamw_torch_fused); found \(name)")
                }
                o.ignored.append((key, "\(name) is torch.optim.AdamW here"))
            default:
                if let reason = ignoredKeys[key] { o.ignored.append((key, reason)) }
            }
        }
        if (values["do_eval"] as? Bool) == false { o.evalStrategy = "no" }
        try o.validate()
        return o
    }

    /// Values that make no sense stop the run before it starts.
    public func validate() throws {
        func bad(_ key: String, _ problem: String) -> TrainingError { .invalidOption(key: key, problem: problem) }
        if !(learningRate > 0) || !learningRate.isFinite { throw bad("learning_rate", "must be a positive number, found \(learningRate)") }
        if maxLength < 2 { throw bad("max_length", "must be at least 2 tokens, found \(maxLength)") }
        if batchSize < 1 { throw bad("per_device_train_batch_size", "must be at least 1, found \(batchSize)") }
        if gradientAccumulationSteps < 1 { throw bad("gradient_accumulation_steps", "must be at least 1, found \(gradientAccumulationSteps)") }
        if weightDecay < 0 { throw bad("weight_decay", "must not be negative, found \(weightDecay)") }
        if !(0..<1).contains(adamBeta1) { throw bad("adam_beta1", "must be in [0, 1), found \(adamBeta1)") }
        if !(0..<1).contains(adamBeta2) { throw bad("adam_beta2", "must be in [0, 1), found \(adamBeta2)") }
        if !(adamEpsilon > 0) { throw bad("adam_epsilon", "must be positive, found \(adamEpsilon)") }
        if maxGradNorm < 0 { throw bad("max_grad_norm", "must not be negative (0 turns clipping off), found \(maxGradNorm)") }
        if warmupSteps < 0 { throw bad("warmup_steps", "must not be negative, found \(warmupSteps)") }
        if !(0...1).contains(warmupRatio) { throw bad("warmup_ratio", "must be in [0, 1], found \(warmupRatio)") }
        if maxSteps == 0 || maxSteps < -1 { throw bad("max_steps", "must be positive (or -1 to use num_train_epochs), found \(maxSteps)") }
        if maxSteps < 0 && !(numTrainEpochs > 0) { throw bad("num_train_epochs", "must be positive when max_steps is not set, found \(numTrainEpochs)") }
        if loggingSteps < 1 { throw bad("logging_steps", "must be at least 1, found \(loggingSteps)") }
        if saveSteps < 1 { throw bad("save_steps", "must be at least 1, found \(saveSteps)") }
        if let l = saveTotalLimit, l < 1 { throw bad("save_total_limit", "must be at least 1, found \(l)") }
        if let e = evalSteps, e < 1 { throw bad("eval_steps", "must be at least 1, found \(e)") }
        if !["no", "steps"].contains(saveStrategy) { throw bad("save_strategy", "supported: steps, no; found \(saveStrategy)") }
        if !["no", "steps"].contains(evalStrategy) { throw bad("eval_strategy", "supported: steps, no; found \(evalStrategy)") }
        if let f = evalFraction, !(0..<1).contains(f) { throw bad("eval_split", "must be in [0, 1), found \(f)") }
        if datasets.isEmpty { throw bad("datasets_and_ratios", "no training data: give datasets_and_ratios in the recipe or --dataset FILE") }
        for (path, ratio) in datasets where !(ratio > 0) { throw bad("datasets_and_ratios", "ratio of \(path) must be positive, found \(ratio)") }
        if modelInit == nil && modelPath == nil { throw bad("model_name_or_path", "give a checkpoint directory to continue from, or model_init_kwargs for a new model") }
        if let total = totalSampleSize, total < 1 { throw bad("total_sample_size", "must be positive, found \(total)") }
        _ = try schedule(totalSteps: maxSteps > 0 ? maxSteps : 1 << 40)   // unknown length: check the type and kwargs
    }

    /// warmup_steps if set, else ceil(warmup_ratio · total) (TrainingArguments.get_warmup_steps).
    public func warmup(totalSteps: Int) -> Int {
        warmupSteps > 0 ? warmupSteps : Int((warmupRatio * Double(totalSteps)).rounded(.up))
    }

    public func schedule(totalSteps: Int) throws -> LearningRateSchedule {
        let w = warmup(totalSteps: totalSteps)
        let kw = schedulerArguments
        func bad(_ problem: String) -> TrainingError { .invalidOption(key: "lr_scheduler_kwargs", problem: problem) }
        let cycles = kw["num_cycles"] ?? 0.5
        switch schedulerType {
        case "constant": return .constant
        case "constant_with_warmup": return .constantWithWarmup(warmup: w)
        case "linear": return .linear(warmup: w, total: totalSteps)
        case "cosine": return .cosine(warmup: w, total: totalSteps, cycles: cycles)
        case "cosine_with_min_lr":
            let rate: Double
            switch (kw["min_lr"], kw["min_lr_rate"]) {
            case (.some, .some): throw bad("give only one of min_lr and min_lr_rate")
            case (.some(let m), nil): rate = m / learningRate
            case (nil, .some(let r)): rate = r
            case (nil, nil): throw bad("cosine_with_min_lr needs min_lr or min_lr_rate")
            }
            return .cosineWithMinLR(warmup: w, total: totalSteps, cycles: cycles, minLRRate: rate)
        case "warmup_stable_decay":
            guard let decay = kw["num_decay_steps"] else { throw bad("warmup_stable_decay needs num_decay_steps") }
            func curve(_ name: String) throws -> LearningRateSchedule.CurveType {
                let s = schedulerStrings[name] ?? "linear"
                guard let c = LearningRateSchedule.CurveType(rawValue: s) else { throw bad("\(name) must be linear, cosine or 1-sqrt, found \(s)") }
                return c
            }
            let warmupType = try curve("warmup_type")
            let decayType: LearningRateSchedule.CurveType = schedulerStrings["decay_type"] == nil ? .cosine : try curve("decay_type")
            // Step counts from YAML numbers: anything not a whole number within ±2^53 is refused, not trapped on.
            func steps(_ name: String, _ v: Double) throws -> Int {
                guard let i = Int(exactly: v), abs(i) <= 1 << 53 else { throw bad("\(name) must be a whole number of steps, found \(v)") }
                return i
            }
            let decaySteps = try steps("num_decay_steps", decay)
            let stable = try kw["num_stable_steps"].map { try steps("num_stable_steps", $0) } ?? (totalSteps - w - decaySteps)
            if decaySteps < 0 || stable < 0 { throw bad("warmup (\(w)) + num_decay_steps (\(decaySteps)) exceed the \(totalSteps) training steps") }
            return .warmupStableDecay(warmup: w, stable: stable, decay: decaySteps, warmupType: warmupType, decayType: decayType,
                                      minLRRatio: kw["min_lr_ratio"] ?? 0, cycles: cycles)
        default:
            throw TrainingError.invalidOption(key: "lr_scheduler_type", problem: "supported: warmup_stable_decay, cosine_with_min_lr, cosine, linear, constant_with_warmup, constant; found \(schedulerType)")
        }
    }
}

func jsonValue(_ v: Any, key: String) throws -> JSONValue {
    switch v {
    case is NSNull: return .null
    case let b as Bool: return .bool(b)
    case let i as Int: return .int(i)
    case let d as Double: return .double(d)
    case let s as String: return .string(s)
    case let a as [Any]: return .array(try a.map { try jsonValue($0, key: key) })
    case let o as [String: Any]: return .object(try o.mapValues { try jsonValue($0, key: key) })
    default: throw TrainingError.invalidOption(key: key, problem: "unsupported value \(v)")
    }
}
