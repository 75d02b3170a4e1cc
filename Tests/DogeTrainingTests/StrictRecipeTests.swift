import Foundation
import Testing
import DogeModel
@testable import DogeTraining

/// Recipes are read as strictly as transformers' HfArgumentParser: typos are errors that name the
/// key and the closest real one; relative paths are read from the recipe's folder.
@Suite struct StrictRecipeTests {
    static var base: [String: Any] { ["model_name_or_path": "m", "datasets_and_ratios": [["d": 1.0]]] }

    static func problem(_ values: [String: Any]) -> (key: String, problem: String)? {
        do {
            _ = try TrainingOptions.from(values)
            return nil
        } catch let TrainingError.invalidOption(key, problem) {
            return (key, problem)
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test func misspeltTopLevelKeyIsAnErrorWithASuggestion() throws {
        var v = Self.base
        v["learnig_rate"] = 1e-3
        let p = try #require(Self.problem(v))
        #expect(p.key == "learnig_rate")
        #expect(p.problem.contains("did you mean learning_rate?"), "\(p.problem)")
        // Nothing close: no suggestion, still an error.
        v = Self.base
        v["zzzzqqqq"] = 1
        let q = try #require(Self.problem(v))
        #expect(q.key == "zzzzqqqq" && !q.problem.contains("did you mean"))
    }

    @Test func misspeltModelInitKwargIsAnError() throws {
        var v = Self.base
        v["model_init_kwargs"] = ["num_hiden_layers": 2, "hidden_size": 64]
        let p = try #require(Self.problem(v))
        #expect(p.key == "model_init_kwargs.num_hiden_layers")
        #expect(p.problem.contains("did you mean num_hidden_layers?"), "\(p.problem)")
        // Every field a config.json of transformers' DogeConfig has is accepted.
        let fields = DogeConfiguration().jsonObject().keys
        v["model_init_kwargs"] = Dictionary(uniqueKeysWithValues: fields.map { ($0, 1 as Any) })
        do { _ = try TrainingOptions.from(v) } catch let TrainingError.invalidOption(key, problem) {
            #expect(!problem.contains("unknown"), "\(key): \(problem)")
        }
    }

    @Test func keysThatDoNotApplyOnACPUAreNotes() throws {
        var v = Self.base
        v["bf16"] = true
        v["report_to"] = ["wandb"]
        v["dataloader_num_workers"] = 4
        let o = try TrainingOptions.from(v)
        #expect(Set(o.ignored.map(\.key)) == ["bf16", "report_to", "dataloader_num_workers"])
    }

    @Test func everyAppliedKeyIsReadNotRejected() {
        for key in TrainingOptions.appliedKeys.sorted() {
            var v = Self.base
            v[key] = NSNull()   // skipped by the reader, but the key itself must be known
            #expect(!(Self.problem(v)?.problem.contains("unknown") ?? false), "\(key)")
        }
    }

    @Test func setReachesNestedKeys() throws {
        var values: [String: Any] = ["model_init_kwargs": ["hidden_size": 64]]
        try TrainingOptions.set(&values, key: "model_init_kwargs.hidden_size", to: 256)
        try TrainingOptions.set(&values, key: "lr_scheduler_kwargs.num_decay_steps", to: 7)
        try TrainingOptions.set(&values, key: "learning_rate", to: 0.5)
        #expect((values["model_init_kwargs"] as? [String: Any])?["hidden_size"] as? Int == 256)
        #expect((values["lr_scheduler_kwargs"] as? [String: Any])?["num_decay_steps"] as? Int == 7)
        #expect(values["learning_rate"] as? Double == 0.5)
        #expect(throws: TrainingError.self) { try TrainingOptions.set(&values, key: "learning_rate.x", to: 1) }
        #expect(throws: TrainingError.self) { try TrainingOptions.set(&values, key: "a..b", to: 1) }
    }

    @Test func relativePathsAreReadFromTheRecipesFolder() throws {
        let dir = FidelityTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sub = dir.appendingPathComponent("recipes/mine")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        try """
            model_name_or_path: ../model
            tokenizer_name_or_path: /abs/tok
            datasets_and_ratios:
              - data/train.jsonl: 1.0
            eval_dataset: [eval.jsonl]
            output_dir: ../../runs/x
            """.write(to: sub.appendingPathComponent("r.yaml"), atomically: true, encoding: .utf8)
        let o = try TrainingOptions.from(try TrainingOptions.load(recipe: sub.appendingPathComponent("r.yaml")))
        let root = dir.standardizedFileURL.path
        #expect(o.modelPath == root + "/recipes/model")
        #expect(o.tokenizerPath == "/abs/tok")
        #expect(o.datasets.map(\.path) == [root + "/recipes/mine/data/train.jsonl"])
        #expect(o.evalDatasets == [root + "/recipes/mine/eval.jsonl"])
        #expect(o.outputDirectory == root + "/runs/x")
        // A missing recipe names the path it tried.
        let missing = sub.appendingPathComponent("nope.yaml")
        #expect(throws: TrainingError.invalidOption(key: missing.path, problem: "no such recipe file")) {
            try TrainingOptions.load(recipe: missing)
        }
    }
}

/// Data problems are found before any work and leave nothing behind.
@Suite struct DataErrorTests {
    @Test func missingFilesAreNamedBeforeAnythingIsTokenized() throws {
        let dir = FidelityTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("run")
        let o = try FidelityTests.options(output: out, extra: ["eval_dataset": dir.appendingPathComponent("missing-eval.jsonl").path])
        do {
            _ = try TrainingSetup.corpus(o, tokenizerDirectory: nil, vocabSize: 1000)
            Issue.record("a missing eval_dataset must stop the run")
        } catch let TrainingError.data(detail) {
            #expect(detail.contains("missing-eval.jsonl: no such file (eval_dataset)"), "\(detail)")
        }
        // The training data was not tokenized: no cache, no output folder.
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    @Test func aFailedTokenizationLeavesNoTemporaryFilesOrEmptyFolders() throws {
        let dir = FidelityTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = dir.appendingPathComponent("bad.jsonl")
        try "{\"text\": \"fine\"}\n{\"text\": \"also fine\"}\nnot json\n".write(to: source, atomically: true, encoding: .utf8)
        let cache = dir.appendingPathComponent("out/token_cache")
        #expect(throws: TrainingError.data("\(source.path):3: not a JSON object")) {
            try TokenFile.build(source: source, format: .jsonlText, textField: "text", tokenizer: ByteTokenizer(),
                                tokenizerKey: "b", cacheDirectory: cache)
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out").path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["bad.jsonl"])
    }

    @Test func aTokenizerLargerThanTheModelIsRejected() throws {
        let dir = FidelityTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let tokenizer = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Models/doge-tiny").standardizedFileURL
        let o = try FidelityTests.options(output: dir)
        do {
            _ = try TrainingSetup.corpus(o, tokenizerDirectory: tokenizer, vocabSize: 100)
            Issue.record("a 4,096-token tokenizer cannot feed a 100-token model")
        } catch let TrainingError.data(detail) {
            #expect(detail.hasPrefix(tokenizer.appendingPathComponent("tokenizer.json").path), "\(detail)")
            #expect(detail.contains("vocabulary is 100"))
        }
    }
}

/// Ctrl-C in `doge train` is `Trainer.shouldStop`: the run stops after the current step with a
/// checkpoint of it, and resuming from there gives the same weights as never stopping.
@Suite(.serialized) struct InterruptTests {
    @Test func stoppingMidRunSavesAndResumesExactly() throws {
        let a = FidelityTests.temporaryDirectory(), b = FidelityTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: a); try? FileManager.default.removeItem(at: b) }
        let extra: [String: Any] = ["max_steps": 8, "save_steps": 1000, "logging_steps": 2]
        let straight = try FidelityTests.trainer(FidelityTests.options(output: a, extra: extra))
        try straight.run()
        #expect(!straight.stoppedEarly)

        let first = try FidelityTests.trainer(FidelityTests.options(output: b, extra: extra))
        first.shouldStop = { first.step >= 3 }   // "Ctrl-C" arrives during step 3
        try first.run()
        #expect(first.stoppedEarly && first.step == 3)
        let checkpoint = b.appendingPathComponent("checkpoint-3")
        #expect(first.lastCheckpoint?.standardizedFileURL.path == checkpoint.standardizedFileURL.path)
        #expect(FileManager.default.fileExists(atPath: b.appendingPathComponent("loss.svg").path))

        let resumed = try FidelityTests.trainer(FidelityTests.options(output: b, extra: extra), resume: checkpoint)
        #expect(resumed.step == 3)
        try resumed.run()
        #expect(resumed.step == 8 && !resumed.stoppedEarly)
        let x = straight.model.namedParameters(), y = resumed.model.namedParameters()
        for key in x.keys { #expect(x[key]!.data == y[key]!.data, "\(key) differs after an interrupted run resumed") }
        #expect(straight.optimizer.exponentialAverage == resumed.optimizer.exponentialAverage)
        // One metrics line per step, none twice.
        let metrics = try String(contentsOf: b.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        let steps = metrics.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["step"] as? Int
        }
        #expect(steps == Array(1...8))
        // The log history carries over the resume as transformers' does.
        #expect(resumed.logHistory.compactMap { $0["step"] as? Int } == [2, 4, 6, 8])
    }

    @Test func aCrashedRunsExtraMetricsAreDroppedOnResume() throws {
        let dir = FidelityTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("metrics.jsonl")
        try "{\"step\":1}\n{\"step\":2}\n{\"step\":2,\"eval_loss\":1}\n{\"step\":3}\n".write(to: url, atomically: true, encoding: .utf8)
        try Trainer.truncateMetrics(url, after: 2)
        #expect(try String(contentsOf: url, encoding: .utf8) == "{\"step\":1}\n{\"step\":2}\n{\"step\":2,\"eval_loss\":1}\n")
    }

    /// trainer_state.json has exactly the fields of transformers' TrainerState (5.x), so
    /// `TrainerState.load_from_json` reads it; doge's own resume state is in doge_state.json.
    @Test func trainerStateIsTransformersFormat() throws {
        let out = FidelityTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let trainer = try FidelityTests.trainer(FidelityTests.options(output: out, extra: ["max_steps": 4, "save_steps": 4, "logging_steps": 2]))
        try trainer.run()
        let dir = out.appendingPathComponent("checkpoint-4")
        let state = try Fixtures.json(dir.appendingPathComponent("trainer_state.json"))
        let fields: Set<String> = [
            "best_global_step", "best_metric", "best_model_checkpoint", "epoch", "eval_steps", "global_step",
            "is_hyper_param_search", "is_local_process_zero", "is_world_process_zero", "log_history", "logging_steps",
            "max_steps", "num_input_tokens_seen", "num_train_epochs", "save_steps", "stateful_callbacks", "total_flos",
            "train_batch_size", "trial_name", "trial_params",
        ]
        #expect(Set(state.keys) == fields)
        #expect(state["global_step"] as? Int == 4 && state["max_steps"] as? Int == 4 && state["logging_steps"] as? Int == 2)
        let history = try #require(state["log_history"] as? [[String: Any]])
        #expect(history.map { $0["step"] as? Int } == [2, 4])
        for entry in history {
            #expect(Set(entry.keys) == ["loss", "grad_norm", "learning_rate", "epoch", "step"])
        }
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(TrainingCheckpoint.stateFile).path))
        // A checkpoint resumes from doge_state.json; one written before it (state in trainer_state.json) too.
        let resumed = try FidelityTests.trainer(FidelityTests.options(output: out, extra: ["max_steps": 4]), resume: dir)
        #expect(resumed.step == 4)
        try FileManager.default.removeItem(at: dir.appendingPathComponent("trainer_state.json"))
        try FileManager.default.moveItem(at: dir.appendingPathComponent(TrainingCheckpoint.stateFile),
                                         to: dir.appendingPathComponent("trainer_state.json"))
        #expect(try FidelityTests.trainer(FidelityTests.options(output: out, extra: ["max_steps": 4]), resume: dir).step == 4)
    }
}
