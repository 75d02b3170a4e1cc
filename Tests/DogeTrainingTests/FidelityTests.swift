import Foundation
import Testing
import DogeModel
@testable import DogeTraining

/// `doge train`'s loop (TrainingSetup + Trainer, what the command runs) against 50 PyTorch
/// AdamW steps from the same initial checkpoint and batches
/// (scripts/training_fixtures/make_fidelity_fixture.py).
@Suite(.serialized) struct FidelityTests {
    static let dir = Fixtures.url("fidelity")

    static func options(output: URL, extra: [String: Any] = [:]) throws -> TrainingOptions {
        var values = try TrainingOptions.load(recipe: dir.appendingPathComponent("recipe.yaml"))
        values["model_name_or_path"] = dir.appendingPathComponent("init").path
        values["datasets_and_ratios"] = [[dir.appendingPathComponent("data.jsonl").path: 1.0]]
        values["output_dir"] = output.path
        if extra["max_steps"] != nil {
            values["warmup_steps"] = 2
            values["lr_scheduler_kwargs"] = ["warmup_type": "linear", "decay_type": "cosine", "num_decay_steps": 2, "min_lr_ratio": 0.1]
        }
        for (k, v) in extra { values[k] = v }
        return try TrainingOptions.from(values)
    }

    static func trainer(_ o: TrainingOptions, resume: URL? = nil) throws -> Trainer {
        let model = try TrainingSetup.model(o)
        let corpus = try TrainingSetup.corpus(o, tokenizerDirectory: nil, vocabSize: model.config.vocabSize)
        return try Trainer(options: o, model: model, corpus: corpus, tokenizerDirectory: nil, resumeFrom: resume)
    }

    static func temporaryDirectory() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("doge-train-test-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func fiftyStepsMatchPyTorch() throws {
        let reference = try Fixtures.json(Self.dir.appendingPathComponent("losses.json"))
        let losses = reference["loss"] as! [Double], rates = reference["learning_rate"] as! [Double]
        let norms = reference["grad_norm"] as! [Double]
        let out = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let trainer = try Self.trainer(Self.options(output: out))
        #expect(trainer.totalSteps == losses.count)
        var worst = 0.0
        for i in 0..<losses.count {
            let r = try trainer.trainStep()
            let rel = abs(r.loss - losses[i]) / abs(losses[i])
            worst = max(worst, rel)
            #expect(rel < 1e-3, "step \(i + 1): loss \(r.loss) vs PyTorch \(losses[i])")
            #expect(abs(r.learningRate - rates[i]) <= 1e-12 + 1e-9 * rates[i], "step \(i + 1): lr \(r.learningRate) vs \(rates[i])")
            #expect(abs(r.gradNorm - norms[i]) / norms[i] < 1e-3, "step \(i + 1): grad norm \(r.gradNorm) vs \(norms[i])")
        }
        #expect(losses.last! < losses.first! - 0.5)
        print("fidelity: 50 steps, worst relative loss difference \(worst)")
    }

    /// N steps, checkpoint, resume for M steps == N + M steps straight, bit for bit.
    @Test func resumeIsBitIdentical() throws {
        let a = Self.temporaryDirectory(), b = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: a); try? FileManager.default.removeItem(at: b) }
        let extra: [String: Any] = ["max_steps": 12, "save_steps": 1000, "save_total_limit": 1]
        let straight = try Self.trainer(Self.options(output: a, extra: extra))
        try straight.run(stopAt: 12)
        let first = try Self.trainer(Self.options(output: b, extra: extra))
        try first.run(stopAt: 7)
        let checkpoint = try first.saveCheckpoint()
        let resumed = try Self.trainer(Self.options(output: b, extra: extra), resume: checkpoint)
        #expect(resumed.step == 7)
        try resumed.run()
        #expect(resumed.step == 12)
        let x = straight.model.namedParameters(), y = resumed.model.namedParameters()
        #expect(x.keys.sorted() == y.keys.sorted())
        for key in x.keys { #expect(x[key]!.data == y[key]!.data, "\(key) differs after resume") }
        #expect(straight.optimizer.exponentialAverageSquared == resumed.optimizer.exponentialAverageSquared)
        #expect(resumed.cursor == straight.cursor)
    }

    @Test func checkpointsAreHFLayoutAndPruned() throws {
        let out = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let trainer = try Self.trainer(Self.options(output: out, extra: ["max_steps": 6, "save_steps": 2, "save_total_limit": 2]))
        try trainer.run()
        let kept = TrainingCheckpoint.checkpoints(in: out).map(\.0)
        #expect(kept == [4, 6])
        let dir = out.appendingPathComponent("checkpoint-6")
        for file in ["config.json", "model.safetensors", "optimizer.safetensors", "trainer_state.json"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(file).path), "\(file) missing")
        }
        let reloaded = try DogeForCausalLM(directory: dir)
        for (k, v) in trainer.model.namedParameters() { #expect(reloaded.namedParameters()[k]!.data == v.data) }
        let config = try String(contentsOf: dir.appendingPathComponent("config.json"), encoding: .utf8)
        // transformers 5 rejects "attention_dropout": 0 (an int) for float fields.
        #expect(config.range(of: "\"attention_dropout\"\\s*:\\s*0\\.0", options: .regularExpression) != nil)
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("loss.svg").path))
        let metrics = try String(contentsOf: out.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        #expect(metrics.split(separator: "\n").count == 6)
        // No temporary directories left behind.
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path)
        #expect(!names.contains { $0.contains(".tmp") })
    }

    @Test func divergenceNamesStepAndCheckpoint() throws {
        let out = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let trainer = try Self.trainer(Self.options(output: out, extra: ["max_steps": 10, "save_steps": 2, "learning_rate": 1e6,
                                                                          "max_grad_norm": 0]))
        do {
            try trainer.run()
            Issue.record("a learning rate of 1e6 should diverge")
        } catch let TrainingError.divergence(step, _, last) {
            #expect(step > 1)
            #expect(last != nil || step <= 2)
            let message = TrainingError.divergence(step: step, loss: .nan, lastCheckpoint: last).description
            #expect(message.contains("step \(step)"))
        }
    }
}
