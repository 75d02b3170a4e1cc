import Foundation
import DogeKernels
import DogeModel

/// One optimizer step's figures.
public struct StepRecord: Sendable {
    public var step: Int
    public var loss: Double
    public var auxLoss: Double?
    public var learningRate: Double
    public var gradNorm: Double
    public var tokens: Int
    public var seconds: Double
}

/// The pre-training loop of the Hugging Face Trainer: gradient accumulation normalised by the
/// counted tokens of the whole accumulated batch, gradient clipping, AdamW, a LambdaLR schedule,
/// checkpoints every save_steps, evaluation every eval_steps, metrics as JSON lines.
public final class Trainer {
    public let options: TrainingOptions
    public private(set) var model: DogeForCausalLM
    private let gradients: DogeForCausalLM
    public private(set) var optimizer: AdamW
    public let schedule: LearningRateSchedule
    public let totalSteps: Int
    public let corpus: PackedCorpus
    public private(set) var cursor: DataCursor
    public private(set) var step: Int
    public private(set) var tokensSeen = 0
    private var rng: SeededGenerator
    public let outputDirectory: URL
    public let tokenizerDirectory: URL?
    public private(set) var lastCheckpoint: URL?
    public var backend: ComputeBackend = .shared
    /// Receives progress lines (the CLI sends them to stderr).
    public var report: (String) -> Void = { _ in }
    /// Rewrite one live line ("\r") between logging steps (a terminal); off, only logging steps print.
    public var liveProgress = false
    /// Which parameters step k (0-based) updates (nil: all). Frozen parameters get no gradient, so
    /// they count neither in the clipping norm nor in AdamW, as with requires_grad=False.
    public var trainable: ((_ name: String, _ step: Int) -> Bool)?
    /// Asked after every step (the CLI: "was Ctrl-C pressed?"); true ends `run` after saving a
    /// checkpoint of that step and the loss plot, so that resuming continues exactly.
    public var shouldStop: () -> Bool = { false }
    /// Whether the last `run` ended because `shouldStop` said so.
    public private(set) var stoppedEarly = false
    /// transformers' log_history: logging-step averages and evaluations (kept across resumes).
    public private(set) var logHistory: [[String: Any]] = []
    private var metrics: FileHandle?

    /// Steps of one epoch: micro-batches of full blocks, grouped by gradient_accumulation_steps.
    public static func stepsPerEpoch(_ corpus: PackedCorpus, _ o: TrainingOptions) -> Int {
        max(1, corpus.blocksPerEpoch / o.batchSize / o.gradientAccumulationSteps)
    }

    public init(options: TrainingOptions, model: DogeForCausalLM, corpus: PackedCorpus, tokenizerDirectory: URL?,
                resumeFrom checkpoint: URL? = nil) throws {
        self.options = options
        self.corpus = corpus
        self.tokenizerDirectory = tokenizerDirectory
        outputDirectory = URL(fileURLWithPath: options.outputDirectory)
        totalSteps = options.maxSteps > 0 ? options.maxSteps
            : Int((Double(Self.stepsPerEpoch(corpus, options)) * options.numTrainEpochs).rounded(.up))
        schedule = try options.schedule(totalSteps: totalSteps)
        let template = AdamW(beta1: options.adamBeta1, beta2: options.adamBeta2, epsilon: options.adamEpsilon,
                             weightDecay: options.weightDecay)
        if let checkpoint {
            let (m, o, state) = try TrainingCheckpoint.load(checkpoint, optimizer: template)
            guard m.config.vocabSize == model.config.vocabSize, m.config.hiddenSize == model.config.hiddenSize else {
                throw TrainingError.checkpoint("\(checkpoint.path) holds a different model than this recipe")
            }
            self.model = m
            optimizer = o
            step = state.globalStep
            cursor = state.cursor
            rng = SeededGenerator(seed: 0)
            rng = SeededGenerator(restoring: state.rngState)
            tokensSeen = state.tokensSeen
            lastCheckpoint = checkpoint
            logHistory = HFTrainerState.logHistory(in: checkpoint).filter { ($0["step"] as? Int ?? 0) <= state.globalStep }
        } else {
            self.model = model
            optimizer = template
            step = 0
            cursor = DataCursor()
            rng = SeededGenerator(seed: UInt64(bitPattern: Int64(options.seed)))
        }
        gradients = self.model.zeroGradients()
    }

    public var learningRate: Double { options.learningRate * schedule.factor(step: step) }

    /// One optimizer step over gradient_accumulation_steps micro-batches.
    public func trainStep() throws -> StepRecord {
        let start = DispatchTime.now().uptimeNanoseconds
        let micro = (0..<options.gradientAccumulationSteps).map { _ in cursor.next(options.batchSize, from: corpus) }
        let counted = micro.reduce(0) { $0 + DogeForCausalLM.countedTokens(labels: $1) }
        gradients.zeroAll()
        let config = model.config
        let auxScale: Float = config.isMoE && config.outputRouterLogits ? Float(config.routerAuxLossCoef) : 0
        var lossSum = 0.0, auxSum = 0.0, hasAux = false
        for batch in micro {
            let r = try model.accumulateGradients(ids: batch, labels: batch, lossScale: 1 / Float(max(counted, 1)),
                                                  auxLossScale: auxScale, into: gradients, backend: backend)
            lossSum += r.lossSum
            if let a = r.auxLoss { auxSum += a; hasAux = true }
        }
        let loss = lossSum / Double(max(counted, 1)) + Double(auxScale) * auxSum
        guard loss.isFinite else {
            throw TrainingError.divergence(step: step + 1, loss: loss, lastCheckpoint: lastCheckpoint?.path)
        }
        var grads = gradients.namedParameters()
        if let trainable { let k = step; grads = grads.filter { trainable($0.key, k) } }
        let norm = clipGradientNorm(&grads, maxNorm: options.maxGradNorm)
        let lr = learningRate
        optimizer.update(model, gradients: grads, learningRate: lr)
        step += 1
        let tokens = micro.reduce(0) { $0 + $1.reduce(0) { $0 + $1.count } }
        tokensSeen += tokens
        return StepRecord(step: step, loss: loss, auxLoss: hasAux ? auxSum / Double(micro.count) : nil, learningRate: lr,
                          gradNorm: norm, tokens: tokens,
                          seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    /// Mean cross entropy over the held-out blocks (nil without an eval split).
    public func evaluate() throws -> Double? {
        guard !corpus.evalBlocks.isEmpty else { return nil }
        var sum = 0.0, count = 0
        let V = model.config.vocabSize
        for startIndex in stride(from: 0, to: corpus.evalBlocks.count, by: options.evalBatchSize) {
            let refs = corpus.evalBlocks[startIndex..<min(startIndex + options.evalBatchSize, corpus.evalBlocks.count)]
            let ids = refs.map { corpus.tokens($0) }
            let logits = try model.logits(ids: ids, backend: backend)
            let T = ids[0].count
            for (b, row) in ids.enumerated() {
                for t in 0..<(T - 1) {
                    let base = (b * T + t) * V
                    var m = -Float.infinity
                    for j in 0..<V { m = max(m, logits.data[base + j]) }
                    var s = 0.0
                    for j in 0..<V { s += exp(Double(logits.data[base + j] - m)) }
                    sum += log(s) + Double(m) - Double(logits.data[base + row[t + 1]])
                    count += 1
                }
            }
        }
        return sum / Double(max(count, 1))
    }

    public var state: TrainerState {
        TrainerState(globalStep: step, maxSteps: totalSteps, cursor: cursor, rngState: rng.state,
                     learningRate: learningRate, lastLoss: nil, schedule: options.schedulerType, tokensSeen: tokensSeen)
    }

    /// Fractional epochs done, as the Trainer counts them.
    public var epoch: Double { Double(step) / Double(Self.stepsPerEpoch(corpus, options)) }

    public var trainerState: HFTrainerState {
        HFTrainerState(globalStep: step, maxSteps: totalSteps, epoch: epoch,
                       numTrainEpochs: Int((Double(totalSteps) / Double(Self.stepsPerEpoch(corpus, options))).rounded(.up)),
                       loggingSteps: options.loggingSteps, evalSteps: options.evalSteps ?? options.loggingSteps,
                       saveSteps: options.saveSteps, trainBatchSize: options.batchSize, numInputTokensSeen: tokensSeen,
                       logHistory: logHistory, finished: step >= totalSteps)
    }

    @discardableResult
    public func saveCheckpoint() throws -> URL {
        let url = try TrainingCheckpoint.save(model: model, optimizer: optimizer, state: state, tokenizerDirectory: tokenizerDirectory,
                                              outputDirectory: outputDirectory, keepLast: options.saveTotalLimit,
                                              trainerState: trainerState)
        lastCheckpoint = url
        return url
    }

    /// Trains until `stopAt` steps (default: the run's total) or until `shouldStop`, logging,
    /// evaluating and saving as the options say. Writes metrics.jsonl and, at the end, loss.svg.
    public func run(stopAt: Int? = nil) throws {
        let target = min(stopAt ?? totalSteps, totalSteps)
        stoppedEarly = false
        try FileManager.default.createDirectory(at: outputDirectory, withIntermediateDirectories: true)
        let metricsURL = outputDirectory.appendingPathComponent("metrics.jsonl")
        if step > 0 { try Self.truncateMetrics(metricsURL, after: step) }
        if !FileManager.default.fileExists(atPath: metricsURL.path) { _ = FileManager.default.createFile(atPath: metricsURL.path, contents: nil) }
        metrics = try FileHandle(forWritingTo: metricsURL)
        try metrics?.seekToEnd()
        defer { try? metrics?.close(); metrics = nil }
        let runStart = Date()
        let firstStep = step
        var windowLoss = 0.0, windowSteps = 0, windowTokens = 0, windowSeconds = 0.0
        while step < target {
            let r: StepRecord
            do { r = try trainStep() } catch let e as TrainingError {
                write(["step": step + 1, "event": "diverged"])
                throw e
            }
            windowLoss += r.loss; windowSteps += 1; windowTokens += r.tokens; windowSeconds += r.seconds
            var entry: [String: Any] = ["step": r.step, "loss": r.loss, "learning_rate": r.learningRate, "grad_norm": r.gradNorm,
                                        "tokens": tokensSeen, "seconds": r.seconds]
            if let a = r.auxLoss { entry["aux_loss"] = a }
            write(entry)
            let elapsed = Date().timeIntervalSince(runStart)
            let perStep = elapsed / Double(step - firstStep)
            let eta = perStep * Double(target - step)
            let tokS = Double(windowTokens) / max(windowSeconds, 1e-9)
            let line = String(format: "%@ step %d/%d | loss %.4f | lr %.3e | %.0f tok/s | ETA %@",
                              progressBar(Double(step) / Double(max(totalSteps, 1))), step, totalSteps,
                              windowLoss / Double(windowSteps), r.learningRate, tokS, formatDuration(eta))
            if step % options.loggingSteps == 0 || step == target {
                report((liveProgress ? "\r" : "") + line + "\n")
                // As the Trainer logs: the mean loss since the last log, rounded to 4 places.
                logHistory.append(["loss": (windowLoss / Double(windowSteps) * 1e4).rounded() / 1e4, "grad_norm": r.gradNorm,
                                   "learning_rate": r.learningRate, "epoch": epoch, "step": step])
                windowLoss = 0; windowSteps = 0; windowTokens = 0; windowSeconds = 0
            } else if liveProgress {
                report("\r" + line)
            }
            if options.evalStrategy == "steps", step % (options.evalSteps ?? options.loggingSteps) == 0, let e = try evaluate() {
                write(["step": step, "eval_loss": e])
                logHistory.append(["eval_loss": e, "epoch": epoch, "step": step])
                report(String(format: "step %d | eval_loss %.4f\n", step, e))
            }
            if options.saveStrategy == "steps", step % options.saveSteps == 0 {
                let url = try saveCheckpoint()
                report("saved \(url.path)\n")
            }
            if step < target, shouldStop() {
                stoppedEarly = true
                if lastCheckpoint?.lastPathComponent != "checkpoint-\(step)" {
                    let url = try saveCheckpoint()
                    report("saved \(url.path)\n")
                }
                break
            }
        }
        try? PlotSVG.write(metrics: metricsURL, to: outputDirectory.appendingPathComponent("loss.svg"))
    }

    /// Keeps metrics.jsonl lines up to `step`: a resumed run drops what a crashed one logged
    /// after its last checkpoint, so no step appears twice.
    static func truncateMetrics(_ url: URL, after step: Int) throws {
        guard let data = FileManager.default.contents(atPath: url.path) else { return }
        let lines = data.split(separator: UInt8(ascii: "\n"))
        let kept = lines.filter { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                  let s = object["step"] as? Int else { return true }
            return s <= step
        }
        guard kept.count != lines.count else { return }
        var out = Data()
        for line in kept { out.append(contentsOf: line); out.append(UInt8(ascii: "\n")) }
        try out.write(to: url, options: .atomic)
    }

    private func write(_ entry: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: entry, options: [.sortedKeys]) else { return }
        metrics?.write(data + Data("\n".utf8))
    }
}

/// A fixed-width text bar, e.g. `[#######.............]  35%`.
func progressBar(_ fraction: Double, width: Int = 20) -> String {
    let f = min(max(fraction.isFinite ? fraction : 0, 0), 1)
    let filled = Int((f * Double(width)).rounded(.down))
    return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
        + String(format: " %3.0f%%", f * 100)
}

func formatDuration(_ s: Double) -> String {
    guard s.isFinite else { return "?" }
    let t = Int(s.rounded())
    return t >= 3600 ? "\(t / 3600)h\(t % 3600 / 60)m" : t >= 60 ? "\(t / 60)m\(t % 60)s" : "\(t)s"
}

extension SeededGenerator {
    /// A generator continuing from a saved `state`.
    init(restoring state: UInt64) { self.init(seed: state) }
}
