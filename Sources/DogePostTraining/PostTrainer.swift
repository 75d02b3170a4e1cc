import Foundation
import DogeKernels
import DogeModel
import DogeTraining

/// What one optimizer step of a post-training objective produced.
public struct StepOutcome: Sendable {
    /// The logged loss (TRL's `loss`).
    public var loss: Double
    /// TRL's metric names (rewards/chosen, completions/mean_length, …).
    public var metrics: [String: Double]
    /// Tokens that went through the model (not padding).
    public var tokens: Int
    public init(loss: Double, metrics: [String: Double] = [:], tokens: Int) {
        self.loss = loss; self.metrics = metrics; self.tokens = tokens
    }
}

/// An SFT, DPO or GRPO objective over a fixed list of samples (examples, bins, pairs or prompts).
public protocol PostTrainingTask: AnyObject {
    var sampleCount: Int { get }
    /// Samples per micro-batch (nil: per_device_train_batch_size). GRPO counts prompts.
    var microBatchSamples: Int? { get }
    /// Consecutive optimizer steps that reuse the same micro-batches (GRPO's num_iterations).
    var stepsPerBatch: Int { get }
    /// Evaluation over every sample (forward only): `loss` and metrics, without the eval_ prefix.
    func evaluate(model: DogeForCausalLM, batchSize: Int, backend: ComputeBackend) throws -> [String: Double]
    /// Accumulates into `gradients` (already zeroed) the gradient of the step's loss over the
    /// micro-batches (sample indices; one entry per gradient-accumulation micro-batch).
    func step(_ microBatches: [[Int]], model: DogeForCausalLM, gradients: DogeForCausalLM, step: Int,
              backend: ComputeBackend) throws -> StepOutcome
}

extension PostTrainingTask {
    public var microBatchSamples: Int? { nil }
    public var stepsPerBatch: Int { 1 }
    public func evaluate(model: DogeForCausalLM, batchSize: Int, backend: ComputeBackend) throws -> [String: Double] { [:] }
}

/// The optimizer loop of transformers' Trainer as TRL's trainers run it: AdamW with the Trainer's
/// decay groups, the schedule stepped after each update, clipping, the data shuffled per epoch
/// (SplitMix64 Fisher–Yates, as `doge train`), checkpoints with optimizer state, exact resume,
/// metrics.jsonl and loss.svg.
public final class PostTrainer {
    public let options: TrainingOptions
    public let task: PostTrainingTask
    public private(set) var model: DogeForCausalLM
    private let gradients: DogeForCausalLM
    public private(set) var optimizer: AdamW
    public let schedule: LearningRateSchedule
    public let totalSteps: Int
    public private(set) var step = 0
    public private(set) var cursor = DataCursor()
    public private(set) var tokensSeen = 0
    public let outputDirectory: URL
    public let tokenizerDirectory: URL?
    public private(set) var lastCheckpoint: URL?
    public var backend: ComputeBackend = .shared
    /// Held-out samples evaluated every eval_steps (eval_strategy steps).
    public var evalTask: PostTrainingTask?
    public var report: (String) -> Void = { _ in }
    public var liveProgress = false
    private var metrics: FileHandle?
    private var cachedEpoch = -1
    private var cachedOrder: [Int] = []
    private var lastMicroBatches: [[Int]] = []

    /// HF Trainer: ceil(samples / batch) micro-batches per epoch, // gradient_accumulation_steps.
    public static func stepsPerEpoch(samples: Int, _ o: TrainingOptions) -> Int {
        max(1, (samples + o.batchSize - 1) / o.batchSize / o.gradientAccumulationSteps)
    }


    public init(options: TrainingOptions, task: PostTrainingTask, model: DogeForCausalLM, tokenizerDirectory: URL?,
                resumeFrom checkpoint: URL? = nil) throws {
        self.options = options
        self.task = task
        self.tokenizerDirectory = tokenizerDirectory
        outputDirectory = URL(fileURLWithPath: options.outputDirectory)
        guard task.sampleCount > 0 else { throw PostTrainingError.data("no training samples left after preparing the data") }
        let batch = task.microBatchSamples ?? options.batchSize
        let perEpoch = max(1, (task.sampleCount + batch - 1) / batch / options.gradientAccumulationSteps) * task.stepsPerBatch
        totalSteps = options.maxSteps > 0 ? options.maxSteps : Int((Double(perEpoch) * options.numTrainEpochs).rounded(.up))
        schedule = try options.schedule(totalSteps: totalSteps)
        let template = AdamW(beta1: options.adamBeta1, beta2: options.adamBeta2, epsilon: options.adamEpsilon,
                             weightDecay: options.weightDecay)
        if let checkpoint {
            let (m, o, state) = try TrainingCheckpoint.load(checkpoint, optimizer: template)
            guard m.config.vocabSize == model.config.vocabSize, m.config.hiddenSize == model.config.hiddenSize else {
                throw TrainingError.checkpoint("\(checkpoint.path) holds a different model than this recipe")
            }
            self.model = m; optimizer = o; step = state.globalStep; cursor = state.cursor
            tokensSeen = state.tokensSeen; lastCheckpoint = checkpoint
        } else {
            self.model = model; optimizer = template
        }
        gradients = self.model.zeroGradients()
    }

    public var learningRate: Double { options.learningRate * schedule.factor(step: step) }

    /// The shuffled sample indices of an epoch.
    func order(epoch: Int) -> [Int] {
        if epoch == cachedEpoch { return cachedOrder }
        var list = Array(0..<task.sampleCount)
        var rng = SeededGenerator(seed: UInt64(bitPattern: Int64(options.seed)) &+ 0x5DEECE66D &* UInt64(epoch + 1))
        if list.count > 1 {
            for k in stride(from: list.count - 1, to: 0, by: -1) { list.swapAt(k, Int(rng.next() % UInt64(k + 1))) }
        }
        cachedEpoch = epoch; cachedOrder = list
        return list
    }

    /// The next micro-batch: up to batch size samples, never crossing an epoch's end (the
    /// DataLoader's last batch of an epoch is short).
    func nextMicroBatch() -> [Int] {
        var o = order(epoch: cursor.epoch)
        if cursor.index >= o.count { cursor.epoch += 1; cursor.index = 0; o = order(epoch: cursor.epoch) }
        let end = min(cursor.index + (task.microBatchSamples ?? options.batchSize), o.count)
        defer { cursor.index = end }
        return Array(o[cursor.index..<end])
    }

    public func trainStep() throws -> (StepOutcome, lr: Double, gradNorm: Double, seconds: Double) {
        let start = DispatchTime.now().uptimeNanoseconds
        // A step that reuses the previous batch (num_iterations) consumes no new samples.
        let micro = step % task.stepsPerBatch == 0 || lastMicroBatches.isEmpty
            ? (0..<options.gradientAccumulationSteps).map { _ in nextMicroBatch() } : lastMicroBatches
        lastMicroBatches = micro
        gradients.zeroAll()
        let outcome = try task.step(micro, model: model, gradients: gradients, step: step, backend: backend)
        guard outcome.loss.isFinite else {
            throw TrainingError.divergence(step: step + 1, loss: outcome.loss, lastCheckpoint: lastCheckpoint?.path)
        }
        var grads = gradients.namedParameters()
        let norm = clipGradientNorm(&grads, maxNorm: options.maxGradNorm)
        let lr = learningRate
        optimizer.update(model, gradients: grads, learningRate: lr)
        step += 1
        tokensSeen += outcome.tokens
        return (outcome, lr, norm, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    public var state: TrainerState {
        TrainerState.make(globalStep: step, maxSteps: totalSteps, cursor: cursor, rngState: 0, learningRate: learningRate,
                     lastLoss: nil, schedule: options.schedulerType, tokensSeen: tokensSeen)
    }

    @discardableResult
    public func saveCheckpoint() throws -> URL {
        let url = try TrainingCheckpoint.save(model: model, optimizer: optimizer, state: state, tokenizerDirectory: tokenizerDirectory,
                                              outputDirectory: outputDirectory, keepLast: options.saveTotalLimit)
        lastCheckpoint = url
        return url
    }

    /// Trains to `stopAt` (default: the run's total), writing one metrics.jsonl object per step.
    /// `stop` is polled between steps (Ctrl-C): the loop then saves a checkpoint and returns.
    public func run(stopAt: Int? = nil, stop: () -> Bool = { false }) throws {
        let target = min(stopAt ?? totalSteps, totalSteps)
        try FileManager.default.createDirectory(at: outputDirectory, withIntermediateDirectories: true)
        let metricsURL = outputDirectory.appendingPathComponent("metrics.jsonl")
        if !FileManager.default.fileExists(atPath: metricsURL.path) { _ = FileManager.default.createFile(atPath: metricsURL.path, contents: nil) }
        metrics = try FileHandle(forWritingTo: metricsURL)
        try metrics?.seekToEnd()
        defer { try? metrics?.close(); metrics = nil }
        let runStart = Date(), firstStep = step
        var windowLoss = 0.0, windowSteps = 0, windowTokens = 0, windowSeconds = 0.0
        while step < target && !stop() {
            let (r, lr, norm, seconds) = try trainStep()
            windowLoss += r.loss; windowSteps += 1; windowTokens += r.tokens; windowSeconds += seconds
            var entry: [String: Any] = ["step": step, "loss": r.loss, "learning_rate": lr, "grad_norm": norm,
                                        "tokens": tokensSeen, "num_tokens": tokensSeen, "seconds": seconds, "epoch": Double(cursor.epoch) + Double(cursor.index) / Double(task.sampleCount)]
            for (k, v) in r.metrics { entry[k] = v.isFinite ? v : nil }
            write(entry)
            let perStep = Date().timeIntervalSince(runStart) / Double(step - firstStep)
            let line = String(format: "%@ step %d/%d | loss %.4f | lr %.3e | %.0f tok/s | ETA %@",
                              bar(Double(step) / Double(max(totalSteps, 1))), step, totalSteps, windowLoss / Double(windowSteps),
                              lr, Double(windowTokens) / max(windowSeconds, 1e-9), duration(perStep * Double(target - step)))
            if step % options.loggingSteps == 0 || step == target {
                report((liveProgress ? "\r" : "") + line + "\n")
                windowLoss = 0; windowSteps = 0; windowTokens = 0; windowSeconds = 0
            } else if liveProgress {
                report("\r" + line)
            }
            if options.evalStrategy == "steps", let evalTask, step % (options.evalSteps ?? options.loggingSteps) == 0 {
                let e = try evalTask.evaluate(model: model, batchSize: options.evalBatchSize, backend: backend)
                var entry: [String: Any] = ["step": step]
                for (k, v) in e where v.isFinite { entry["eval_" + k] = v }
                write(entry)
                if let l = e["loss"] { report(String(format: "step %d | eval_loss %.4f\n", step, l)) }
            }
            if options.saveStrategy == "steps", step % options.saveSteps == 0 {
                report("saved \(try saveCheckpoint().path)\n")
            }
        }
        try? PlotSVG.write(metrics: metricsURL, to: outputDirectory.appendingPathComponent("loss.svg"))
    }

    private func write(_ entry: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: entry, options: [.sortedKeys]) else { return }
        metrics?.write(data + Data("\n".utf8))
    }

    private func bar(_ fraction: Double, width: Int = 20) -> String {
        let f = min(max(fraction.isFinite ? fraction : 0, 0), 1)
        let filled = Int((f * Double(width)).rounded(.down))
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]" + String(format: " %3.0f%%", f * 100)
    }

    private func duration(_ s: Double) -> String {
        guard s.isFinite else { return "?" }
        let t = Int(s.rounded())
        return t >= 3600 ? "\(t / 3600)h\(t % 3600 / 60)m" : t >= 60 ? "\(t / 60)m\(t % 60)s" : "\(t)s"
    }
}
