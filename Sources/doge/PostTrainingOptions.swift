import ArgumentParser
import Foundation
import DogePostTraining
import DogeTraining

/// Flags shared by `doge sft`, `doge dpo` and `doge grpo`: a TRL recipe plus overrides.
struct PostTrainingFlags: ParsableArguments {
    @Option(name: .long, help: "Recipe YAML (TRL SFTConfig/DPOConfig/GRPOConfig keys, small-doge data keys).") var config: String?
    @Option(name: .long, help: "Checkpoint directory with its tokenizer (model_name_or_path).") var model: String?
    @Option(name: .long, help: "JSON Lines training file; repeat for several. FILE or FILE=RATIO.") var dataset: [String] = []
    @Option(name: .long, help: "Held-out JSON Lines file evaluated every eval_steps (eval_dataset); repeatable.") var evalDataset: [String] = []
    @Option(name: .long, help: "eval_steps (turns evaluation on)") var evalSteps: Int?
    @Option(name: .long, help: "output_dir") var outputDir: String?
    @Option(name: .long, help: "max_steps") var maxSteps: Int?
    @Option(name: .long, help: "learning_rate") var learningRate: Double?
    @Option(name: .long, help: "per_device_train_batch_size") var batchSize: Int?
    @Option(name: .long, help: "gradient_accumulation_steps") var gradientAccumulationSteps: Int?
    @Option(name: .long, help: "max_length") var maxLength: Int?
    @Option(name: .long, help: "seed") var seed: Int?
    @Option(name: .long, help: "Any recipe key: KEY=VALUE (VALUE parsed as YAML). Repeatable.") var set: [String] = []
    @Flag(name: .long, help: "Continue from the newest checkpoint in output_dir.") var resume = false
    @Option(name: .long, help: "Continue from this checkpoint directory.") var resumeFrom: String?
    @Option(name: .long, help: "Stop after this many steps (the schedule still spans max_steps); resume later.") var stopAt: Int?

    func validate() throws {
        for item in set where !item.contains("=") { throw ValidationError("--set expects KEY=VALUE, found \(item)") }
        if let stopAt, stopAt < 1 { throw ValidationError("--stop-at must be a positive step, not \(stopAt)") }
        if let maxSteps, maxSteps < 1 { throw ValidationError("--max-steps must be positive, not \(maxSteps)") }
    }

    func values() throws -> [String: Any] {
        var values: [String: Any] = try config.map { try TrainingOptions.load(recipe: URL(fileURLWithPath: $0)) } ?? [:]
        if let model { values["model_name_or_path"] = model }
        if !dataset.isEmpty {
            values["datasets_and_ratios"] = dataset.map { item -> [String: Any] in
                if let eq = item.lastIndex(of: "="), let r = Double(item[item.index(after: eq)...]) { return [String(item[..<eq]): r] }
                return [item: 1.0]
            }
            values.removeValue(forKey: "dataset_name")
        }
        if !evalDataset.isEmpty { values["eval_dataset"] = evalDataset }
        if let evalSteps { values["eval_steps"] = evalSteps; values["eval_strategy"] = "steps" }
        let flags: [(String, Any?)] = [("output_dir", outputDir), ("max_steps", maxSteps), ("learning_rate", learningRate),
                                       ("per_device_train_batch_size", batchSize),
                                       ("gradient_accumulation_steps", gradientAccumulationSteps), ("max_length", maxLength),
                                       ("seed", seed)]
        for (key, value) in flags { if let value { values[key] = value } }
        if maxLength != nil { values.removeValue(forKey: "max_seq_length") }
        for item in set {
            guard let eq = item.firstIndex(of: "=") else { throw ValidationError("--set expects KEY=VALUE, found \(item)") }
            let value: Any
            do { value = try RecipeYAML.load(String(item[item.index(after: eq)...])) ?? NSNull() } catch {
                throw ValidationError("--set \(item): the value is not valid YAML")
            }
            try TrainingOptions.set(&values, key: String(item[..<eq]), to: value)
        }
        return values
    }

    /// Prepares and runs the trainer of `kind`; prints the final checkpoint's path.
    func run(_ kind: PostTrainingRecipe.Kind, task makeTask: (PostTrainingSetup, @escaping (String) -> Void) throws -> PostTrainingTask) throws {
        let err = { (s: String) in FileHandle.standardError.write(Data(s.utf8)) }
        do {
            let setup = try PostTrainingSetup(kind: kind, values: try values())
            for (key, reason) in setup.options.ignored.sorted(by: { $0.key < $1.key }) { err("ignored: \(key) (\(reason))\n") }
            let task = try makeTask(setup, err)
            for key in setup.recipe.unread { err("ignored: \(key) (a TRL key not implemented by doge \(kind.rawValue))\n") }
            let evalTask = kind == .grpo ? nil : try setup.forEvaluation().map { try makeTask($0, { _ in }) }
            var checkpoint = resumeFrom.map { URL(fileURLWithPath: $0) }
            if resume && checkpoint == nil {
                guard let latest = TrainingCheckpoint.checkpoints(in: URL(fileURLWithPath: setup.options.outputDirectory)).last else {
                    throw ValidationError("--resume: no checkpoint-N directory in \(setup.options.outputDirectory)")
                }
                checkpoint = latest.1
            }
            let trainer = try PostTrainer(options: setup.options, task: task, model: setup.model,
                                          tokenizerDirectory: setup.tokenizerDirectory, resumeFrom: checkpoint)
            trainer.report = err
            trainer.evalTask = evalTask
            trainer.liveProgress = isatty(STDERR_FILENO) != 0
            err("\(kind.rawValue): \(trainer.totalSteps) steps (from step \(trainer.step)) over \(task.sampleCount) samples\n")
            let interrupt = InterruptFlag.install(notice: "\nstopping after this step: saving a checkpoint (Ctrl-C again quits now, unsaved)\n")
            try trainer.run(stopAt: stopAt, stop: { interrupt.isSet })
            if trainer.lastCheckpoint.map({ $0.lastPathComponent != "checkpoint-\(trainer.step)" }) ?? true {
                err("saved \(try trainer.saveCheckpoint().path)\n")
            }
            print(URL(fileURLWithPath: setup.options.outputDirectory).appendingPathComponent("checkpoint-\(trainer.step)").path)
            if interrupt.isSet { throw ExitCode(130) }
        } catch let e as PostTrainingError {
            throw RunError(e.description)
        } catch let e as TrainingError {
            throw RunError(e.description)
        }
    }
}
