import ArgumentParser
import Foundation
import DogeHub
import DogeModel
import DogeTraining
import DogePostTraining

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Pre-train or continue training a Doge model (small-doge recipes, Hugging Face Trainer semantics).",
        discussion: """
            Reads a small-doge recipe (--config RECIPE.yaml); flags override its keys. Data: plain text \
            (documents separated by blank lines), JSON lines with a text field, or JSON lines with \
            "input_ids"; tokenized once into OUTPUT_DIR/token_cache, packed into max_length blocks. \
            Checkpoints (Hugging Face layout + optimizer state, transformers' trainer_state.json) go to \
            OUTPUT_DIR/checkpoint-N; metrics to OUTPUT_DIR/metrics.jsonl; a loss/learning-rate plot to \
            OUTPUT_DIR/loss.svg.

            Relative paths in a recipe are read from the recipe's folder; paths given as flags from the \
            working directory. A key doge train does not know is an error (with the closest known key); \
            keys that only do not apply on a CPU (bf16, push_to_hub, report_to, …) are noted and ignored. \
            --set reaches nested keys: --set model_init_kwargs.hidden_size=256.

            Ctrl-C (or SIGTERM) finishes the current step, saves a checkpoint and the loss plot, and \
            exits (status 130); run the same command with --resume to continue exactly. A second \
            Ctrl-C quits at once.

              doge train --config Models/doge-tiny/recipe.yaml
              doge train --config recipe.yaml --set lr_scheduler_kwargs.num_decay_steps=100 --resume

            Recipe keys read: \(TrainingOptions.appliedKeys.sorted().joined(separator: ", ")).
            """
    )

    @Option(name: .long, help: "Recipe YAML (small-doge config_full.yaml keys).") var config: String?
    @Option(name: .long, help: "Checkpoint directory to continue from (model_name_or_path), or Hub name OWNER/NAME from the Hugging Face cache.") var model: String?
    @Option(name: .long, help: "Branch, tag or commit of a Hub name in model_name_or_path (default: main).") var revision: String?
    @Option(name: .long, help: "Directory with tokenizer.json (default: the model directory).") var tokenizer: String?
    @Option(name: .long, help: "Training data file; repeat for several. FILE or FILE=RATIO.") var dataset: [String] = []
    @Option(name: .long, help: "Held-out file evaluated every eval_steps (eval_dataset); repeatable.") var evalDataset: [String] = []
    @Option(name: .long, help: "output_dir") var outputDir: String?
    @Option(name: .long, help: "max_steps") var maxSteps: Int?
    @Option(name: .long, help: "learning_rate") var learningRate: Double?
    @Option(name: .long, help: "lr_scheduler_type") var lrSchedulerType: String?
    @Option(name: .long, help: "warmup_steps") var warmupSteps: Int?
    @Option(name: .long, help: "per_device_train_batch_size") var batchSize: Int?
    @Option(name: .long, help: "gradient_accumulation_steps") var gradientAccumulationSteps: Int?
    @Option(name: .long, help: "max_length (tokens per packed block)") var maxLength: Int?
    @Option(name: .long, help: "save_steps") var saveSteps: Int?
    @Option(name: .long, help: "logging_steps") var loggingSteps: Int?
    @Option(name: .long, help: "eval_steps (turns evaluation on)") var evalSteps: Int?
    @Option(name: .long, help: "seed") var seed: Int?
    @Option(name: .long, help: "Any recipe key: KEY=VALUE or KEY.FIELD=VALUE (VALUE parsed as YAML). Repeatable.") var set: [String] = []
    @Flag(name: .long, help: "Continue from the newest checkpoint in output_dir.") var resume = false
    @Option(name: .long, help: "Continue from this checkpoint directory.") var resumeFrom: String?
    @Option(name: .long, help: "Stop after this many steps (the schedule still spans max_steps); resume later.") var stopAt: Int?
    @Option(name: .long, help: "Train only the CDMoE router and expert tables for the first N steps (after `doge upcycle`).") var expertsOnlySteps: Int = 0

    func validate() throws {
        for item in set where !item.contains("=") { throw ValidationError("--set expects KEY=VALUE (or KEY.FIELD=VALUE), found \(item)") }
        if let stopAt, stopAt < 1 { throw ValidationError("--stop-at must be a positive step, not \(stopAt)") }
    }

    func run() throws {
        do { try train() } catch let error as TrainingError {
            throw RunError(error.description + bundledRecipeHint(error))
        }
    }

    /// The bundled recipe's data is not in the repository: say how to build it.
    private func bundledRecipeHint(_ error: TrainingError) -> String {
        guard case .data(let detail) = error, detail.contains("no such file"),
              let config, URL(fileURLWithPath: config).standardizedFileURL.path.hasSuffix("Models/doge-tiny/recipe.yaml") else { return "" }
        return ". The bundled recipe's corpus is built by scripts/corpus/build_corpus.sh corpus (run from the repository root; "
            + "scripts/doge-tiny/retrain.sh builds it and retrains everything)"
    }

    func train() throws {
        let err = { (s: String) in FileHandle.standardError.write(Data(s.utf8)) }
        var values: [String: Any] = try config.map { try TrainingOptions.load(recipe: URL(fileURLWithPath: $0)) } ?? [:]
        if let model { values["model_name_or_path"] = model; values.removeValue(forKey: "model_init_kwargs") }
        if let tokenizer { values["tokenizer_name_or_path"] = tokenizer }
        if !dataset.isEmpty {
            values["datasets_and_ratios"] = dataset.map { item -> [String: Any] in
                if let eq = item.lastIndex(of: "="), let r = Double(item[item.index(after: eq)...]) { return [String(item[..<eq]): r] }
                return [item: 1.0]
            }
        }
        if !evalDataset.isEmpty { values["eval_dataset"] = evalDataset }
        let flags: [(String, Any?)] = [("output_dir", outputDir), ("max_steps", maxSteps), ("learning_rate", learningRate),
                                       ("lr_scheduler_type", lrSchedulerType), ("warmup_steps", warmupSteps),
                                       ("per_device_train_batch_size", batchSize),
                                       ("gradient_accumulation_steps", gradientAccumulationSteps), ("max_length", maxLength),
                                       ("save_steps", saveSteps), ("logging_steps", loggingSteps), ("eval_steps", evalSteps),
                                       ("seed", seed)]
        for (key, value) in flags { if let value { values[key] = value } }
        if evalSteps != nil { values["eval_strategy"] = "steps" }
        if values["max_length"] != nil { values.removeValue(forKey: "max_seq_length") }
        for item in set {
            let eq = item.firstIndex(of: "=")!
            let value: Any
            do { value = try RecipeYAML.load(String(item[item.index(after: eq)...])) ?? NSNull() } catch {
                throw RunError("--set \(item): the value is not valid YAML: \(error)")
            }
            try TrainingOptions.set(&values, key: String(item[..<eq]), to: value)
        }
        var options = try TrainingOptions.from(values)
        // A Hub name (OWNER/NAME) in model_name_or_path: its cached snapshot.
        if let path = options.modelPath, !FileManager.default.fileExists(atPath: path), HubCache.isRepoName(path) {
            options.modelPath = try ModelSource.directory(for: path, revision: revision).path
        }
        // Keys that only do not apply here: one note per reason.
        var byReason: [String: [String]] = [:]
        for (key, reason) in options.ignored { byReason[reason, default: []].append(key) }
        for (reason, keys) in byReason.sorted(by: { $0.value.sorted()[0] < $1.value.sorted()[0] }) {
            err("note: ignored \(keys.sorted().joined(separator: ", ")) (\(reason))\n")
        }
        var checkpoint = resumeFrom.map { URL(fileURLWithPath: $0) }
        if resume && checkpoint == nil {
            guard let latest = TrainingCheckpoint.checkpoints(in: URL(fileURLWithPath: options.outputDirectory)).last else {
                throw RunError("--resume: no checkpoint-N folder in \(options.outputDirectory) (output_dir); start without --resume")
            }
            checkpoint = latest.1
        }
        let model = try TrainingSetup.model(options)
        let tokenizerDirectory = TrainingSetup.tokenizerDirectory(options)
        let corpus = try TrainingSetup.corpus(options, tokenizerDirectory: tokenizerDirectory, vocabSize: model.config.vocabSize, progress: err)
        let trainer = try Trainer(options: options, model: model, corpus: corpus, tokenizerDirectory: tokenizerDirectory,
                                  resumeFrom: checkpoint)
        if let checkpoint, trainer.step >= trainer.totalSteps {
            err("this run is already finished: \(checkpoint.path) is step \(trainer.step) of \(trainer.totalSteps); "
                + "raise max_steps (--max-steps N) to train further\n")
            print(checkpoint.path)
            return
        }
        trainer.report = err
        trainer.liveProgress = isatty(STDERR_FILENO) != 0
        if expertsOnlySteps > 0 {
            guard model.config.isMoE else { throw ValidationError("--experts-only-steps needs a CDMoE model (is_moe true)") }
            let n = expertsOnlySteps
            trainer.trainable = { name, step in step >= n || Upcycle.isExpertParameter(name) }
        }
        let interrupt = InterruptFlag.install(notice: "\nstopping after this step: saving a checkpoint (Ctrl-C again quits now, unsaved)\n")
        trainer.shouldStop = { interrupt.isSet }
        let params = model.namedParameters().values.reduce(0) { $0 + $1.count }
        err("training \(params) parameters for \(trainer.totalSteps) steps (from step \(trainer.step)); "
            + "\(corpus.blocksPerEpoch) blocks of \(options.maxLength) tokens per epoch, \(corpus.evalBlocks.count) held out\n")
        try trainer.run(stopAt: stopAt)
        if trainer.lastCheckpoint.map({ $0.lastPathComponent != "checkpoint-\(trainer.step)" }) ?? true {
            let url = try trainer.saveCheckpoint()
            err("saved \(url.path)\n")
        }
        print(URL(fileURLWithPath: options.outputDirectory).appendingPathComponent("checkpoint-\(trainer.step)").path)
        if trainer.stoppedEarly {
            err("stopped at step \(trainer.step) of \(trainer.totalSteps); continue exactly where it stopped with the same command and --resume\n")
            throw ExitCode(130)
        }
    }
}

extension BenchCommand {
    /// The `train` workload of scripts/bench/torch_baseline.py: AdamW (lr 1e-3, betas 0.9/0.95,
    /// weight decay 0.01) on batch 4 × 256 random tokens, loss = causal-LM loss; median of 5 timed
    /// steps after one warm-up -> train_tok_s; peak resident memory (VmHWM) -> peak_rss_mb.
    func benchTrain(model: DogeForCausalLM, rng: inout SeededGenerator, into result: inout [String: Any]) throws {
        let vocab = model.config.vocabSize
        let ids = (0..<4).map { _ in (0..<256).map { _ in Int(rng.next() % UInt64(vocab)) } }
        let grads = model.zeroGradients()
        var optimizer = AdamW(beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.01)
        let counted = DogeForCausalLM.countedTokens(labels: ids)
        func step() throws {
            grads.zeroAll()
            _ = try model.accumulateGradients(ids: ids, labels: ids, lossScale: 1 / Float(counted), into: grads)
            // torch's benchmark applies decay to every parameter (one group); so does this.
            optimizer.update(model, gradients: grads.namedParameters(), learningRate: 1e-3, decay: { _ in true })
        }
        try step()
        let times = try (0..<5).map { _ in try seconds { try step() } }
        result["train_tok_s"] = (Double(4 * 256) / median(times) * 10).rounded() / 10
        result["peak_rss_mb"] = peakResidentMegabytes()
    }
}

/// VmHWM of /proc/self/status in MB (nil where unavailable).
func peakResidentMegabytes() -> Double? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
    return (kb / 1024 * 10).rounded() / 10
}
