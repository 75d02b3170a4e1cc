import DogeJinja
import Foundation

public struct EvalOptions: Sendable {
    /// Overrides each task's `num_fewshot` (lm-eval's default: 0).
    public var numFewshot: Int?
    /// The first N documents of each task.
    public var limit: Int?
    public var logSamples = false
    /// Bootstrap resamples for the perplexity stderr (lm-eval's `--bootstrap_iters`).
    public var bootstrapIterations = 100_000
    public init() {}
}

/// One metric of one task: value and standard error (nil where lm-eval prints N/A).
public struct MetricResult: Sendable {
    public var name: String
    public var value: Double
    public var stderr: Double?
    public var higherIsBetter: Bool
}

/// What one document produced, for `--log-samples`.
public struct SampleLog: Sendable {
    public var docId: Int
    public var target: String
    public var arguments: [[String]]
    public var loglikelihoods: [Double]
    public var isGreedy: [Bool]
    public var response: String?
    public var metrics: [(String, Double)]
}

public struct TaskResult: Sendable {
    public var name: String
    public var alias: String?
    public var version: String
    public var numFewshot: Int
    public var filter: String
    public var documents: Int
    public var metrics: [MetricResult]
    public var samples: [SampleLog]
    public var seconds: Double
}

/// Runs tasks against a model: documents → requests → scores → lm-eval's metrics.
public final class Evaluator: @unchecked Sendable {
    public let lm: EvalModel
    public let dataDir: URL

    public init(model: EvalModel, dataDir: URL) {
        lm = model
        self.dataDir = dataDir
    }

    /// Loads and prepares a task's documents and requests (no model work); errors name the task,
    /// file, line and field.
    public func prepare(_ task: TaskConfig, options: EvalOptions) throws -> [DocRequests] {
        try Self.prepare(task, dataDir: dataDir, options: options)
    }

    public static func prepare(_ task: TaskConfig, dataDir: URL, options: EvalOptions) throws -> [DocRequests] {
        guard let split = task.evalSplit else { throw EvalError(.taskFile, "\(task.file.path): no split to evaluate") }
        let raw = try TaskData.load(dataDir: dataDir, task: task.name, split: split, purpose: "documents evaluated")
        let features = Set(raw[0].fields.keys.map(\.pythonString))
        let prompter = try TaskPrompter(config: task, features: features)
        let processed = try raw.map { try prompter.process($0) }
        // lm-eval's features are the processed dataset's columns (hellaswag's `choices`).
        prompter.features = Set(processed[0].fields.keys.map(\.pythonString))
        // lighteval evaluates in the order of `random.Random(42).shuffle` and samples few-shot
        // examples with that generator afterwards; lm-eval keeps the file order and uses Random(1234).
        var order = Array(processed.indices)
        var rnd = PythonRandom(seed: 1234)
        if task.style == .lighteval {
            rnd = PythonRandom(seed: 42)
            rnd.shuffle(&order)
        }
        if let limit = options.limit { order = Array(order.prefix(limit)) }
        let docs = order.map { processed[$0] }
        let shots = options.numFewshot ?? task.numFewshot ?? 0
        var pool: [Document]?
        var poolName = ""
        if shots > 0 && task.outputType != .loglikelihoodRolling {
            guard let fewshotSplit = task.fewshotSplit ?? task.trainingSplit ?? task.validationSplit ?? task.testSplit else {
                throw EvalError(.fewshot, "\(task.name): no split to draw few-shot examples from")
            }
            let rawPool = fewshotSplit == split ? raw : try TaskData.load(dataDir: dataDir, task: task.name, split: fewshotSplit, purpose: "few-shot examples")
            pool = try rawPool.map { try prompter.process($0) }
            poolName = TaskData.file(dataDir: dataDir, task: task.name, split: fewshotSplit)?.path ?? fewshotSplit
        }
        var builder = try RequestBuilder(config: task, prompter: prompter, firstDoc: docs[0], numFewshot: shots,
                                         fewshotPool: pool, poolName: poolName, rnd: rnd)
        return try zip(order, docs).map { try builder.build(docId: $0.0, doc: $0.1) }
    }

    public func run(_ task: TaskConfig, options: EvalOptions, progress: (Int, Int) -> Void = { _, _ in }) throws -> TaskResult {
        let start = Date()
        let requests = try prepare(task, options: options)
        let shots = options.numFewshot ?? task.numFewshot ?? 0
        var result = TaskResult(name: task.name, alias: task.alias, version: task.version, numFewshot: shots,
                                filter: task.filterName, documents: requests.count, metrics: [], samples: [], seconds: 0)
        progress(0, requests.count)
        switch task.outputType {
        case .multipleChoice, .loglikelihood:
            let groups = try requests.map { r in
                try r.pairs.map { pair in
                    do { return try lm.encodePair(context: pair.context, continuation: pair.continuation, style: task.style) } catch let e as EvalError {
                        throw EvalError(.data, "\(task.name): \(r.doc.location): \(e.message)")
                    }
                }
            }
            let scores = try lm.scorer.score(groups) { progress($0, requests.count) }
            if task.outputType == .multipleChoice {
                score(multipleChoice: task, requests, scores, into: &result, options: options)
            } else {
                score(loglikelihood: task, requests, scores, into: &result, options: options)
            }
        case .loglikelihoodRolling:
            let windows = requests.map { lm.rollingWindows($0.rollingText ?? "") }
            let flat = windows.flatMap { $0.map { [$0] } }
            let scores = try lm.scorer.score(flat) { _ in }
            var offset = 0
            var lls: [Double] = []
            for w in windows {
                var ll = 0.0
                for s in scores[offset..<(offset + w.count)] { ll += s[0].loglikelihood }
                offset += w.count
                lls.append(ll)
            }
            progress(requests.count, requests.count)
            score(rolling: task, requests, lls, into: &result, options: options)
        case .generateUntil:
            var responses: [String] = []
            for (i, r) in requests.enumerated() {
                let spec = task.generation!
                responses.append(try lm.generate(r.generationContext ?? "", until: spec.until, maxGenToks: spec.maxGenToks,
                                                 exactMaxNewTokens: task.style == .lighteval))
                progress(i + 1, requests.count)
            }
            try score(generation: task, requests, responses, into: &result, options: options)
        }
        result.seconds = Date().timeIntervalSince(start)
        return result
    }

    // MARK: Metrics per output type

    private func aggregate(_ name: String, _ values: [Double], spec: MetricSpec, options: EvalOptions) -> MetricResult {
        switch spec.aggregation {
        case "perplexity":
            let se = values.count > 1 && options.bootstrapIterations > 0
                ? Metrics.bootstrapStderr(values, iterations: options.bootstrapIterations, statistic: Metrics.perplexity) : nil
            return MetricResult(name: name, value: Metrics.perplexity(values), stderr: se, higherIsBetter: spec.higherIsBetter)
        default:
            return MetricResult(name: name, value: Metrics.mean(values), stderr: values.count > 1 ? Metrics.meanStderr(values) : nil,
                                higherIsBetter: spec.higherIsBetter)
        }
    }

    private func score(multipleChoice task: TaskConfig, _ requests: [DocRequests], _ scores: [[Scored]],
                       into result: inout TaskResult, options: EvalOptions) {
        var perMetric: [String: [Double]] = [:]
        for (r, s) in zip(requests, scores) {
            let lls = s.map(\.loglikelihood)
            func argmax(_ xs: [Double]) -> Int { xs.indices.reduce(0) { xs[$1] > xs[$0] ? $1 : $0 } }
            let pred = argmax(lls)
            let predNorm = argmax(zip(lls, r.choices).map { $0 / Double($1.unicodeScalars.count) })
            let predBytes = argmax(zip(lls, r.choices).map { $0 / Double($1.utf8.count) })
            // lighteval's LogProbCharNorm(ignore_first_space=True): a leading space is not counted.
            let predNoSpace = argmax(zip(lls, r.choices).map { $0 / Double($1.unicodeScalars.count - ($1.hasPrefix(" ") ? 1 : 0)) })
            let golds: [Int]
            switch r.gold { case .index(let g): golds = [g]; case .indices(let g): golds = g; case .texts: golds = [] }
            var values: [(String, Double)] = []
            for m in task.metrics {
                let v: Double
                switch m.name {
                case "acc": v = golds.contains(pred) ? 1 : 0
                case "acc_norm": v = golds.contains(predNorm) ? 1 : 0
                case "acc_bytes": v = golds.contains(predBytes) ? 1 : 0
                case "acc_norm_nospace": v = golds.contains(predNoSpace) ? 1 : 0
                default: v = golds.contains { $0 >= 0 && $0 < s.count && s[$0].isGreedy } ? 1 : 0   // exact_match
                }
                perMetric[m.name, default: []].append(v)
                values.append((m.name, v))
            }
            if options.logSamples {
                let target: String
                switch r.gold { case .index(let g): target = String(g); case .indices(let g): target = "\(g)"; case .texts(let t): target = "\(t)" }
                result.samples.append(SampleLog(docId: r.docId, target: target, arguments: r.pairs.map { [$0.context, $0.continuation] },
                                                loglikelihoods: lls, isGreedy: s.map(\.isGreedy), response: nil, metrics: values))
            }
        }
        result.metrics = task.metrics.map { aggregate($0.name, perMetric[$0.name] ?? [], spec: $0, options: options) }
    }

    private func score(loglikelihood task: TaskConfig, _ requests: [DocRequests], _ scores: [[Scored]],
                       into result: inout TaskResult, options: EvalOptions) {
        var perMetric: [String: [Double]] = [:]
        for (r, s) in zip(requests, scores) {
            var values: [(String, Double)] = []
            for m in task.metrics {
                let v = m.name == "perplexity" ? s[0].loglikelihood : (s[0].isGreedy ? 1 : 0)
                perMetric[m.name, default: []].append(v)
                values.append((m.name, v))
            }
            if options.logSamples {
                result.samples.append(SampleLog(docId: r.docId, target: r.pairs[0].continuation, arguments: r.pairs.map { [$0.context, $0.continuation] },
                                                loglikelihoods: [s[0].loglikelihood], isGreedy: [s[0].isGreedy], response: nil, metrics: values))
            }
        }
        result.metrics = task.metrics.map { aggregate($0.name, perMetric[$0.name] ?? [], spec: $0, options: options) }
    }

    private func score(rolling task: TaskConfig, _ requests: [DocRequests], _ lls: [Double],
                       into result: inout TaskResult, options: EvalOptions) {
        var words: [(Double, Int)] = [], bytes: [(Double, Int)] = []
        for (r, ll) in zip(requests, lls) {
            let text = r.countText ?? r.rollingText ?? ""
            words.append((ll, Metrics.wordCount(text)))
            bytes.append((ll, text.utf8.count))
            if options.logSamples {
                result.samples.append(SampleLog(docId: r.docId, target: r.rollingText ?? "", arguments: [[r.rollingText ?? ""]], loglikelihoods: [ll],
                                                isGreedy: [], response: nil, metrics: [("words", Double(Metrics.wordCount(text))), ("bytes", Double(text.utf8.count))]))
            }
        }
        result.metrics = task.metrics.map { m in
            let value: Double
            switch (m.name, m.aggregation) {
            case ("word_perplexity", _): value = Metrics.weightedPerplexity(words)
            case (_, "bits_per_byte"): value = Metrics.bitsPerByte(bytes)
            default: value = Metrics.weightedPerplexity(bytes)
            }
            return MetricResult(name: m.name, value: value, stderr: nil, higherIsBetter: m.higherIsBetter)
        }
    }

    private func score(generation task: TaskConfig, _ requests: [DocRequests], _ responses: [String],
                       into result: inout TaskResult, options: EvalOptions) throws {
        var perMetric: [String: [Double]] = [:]
        for (r, response) in zip(requests, responses) {
            var filtered = response
            for f in task.filters {
                switch f {
                case "remove_whitespace": filtered = String(String.UnicodeScalarView(filtered.unicodeScalars.drop(while: Metrics.isPythonSpace).reversed().drop(while: Metrics.isPythonSpace).reversed()))
                case "lowercase": filtered = filtered.lowercased()
                case "uppercase": filtered = filtered.uppercased()
                default: break
                }
            }
            guard case .texts(let golds) = r.gold else { continue }
            var values: [(String, Double)] = []
            for m in task.metrics {
                let hit = try golds.contains { m.name == "qem" ? Metrics.quasiExactMatch(filtered, $0, m) : try Metrics.exactMatch(filtered, $0, m) }
                perMetric[m.name, default: []].append(hit ? 1 : 0)
                values.append((m.name, hit ? 1 : 0))
            }
            if options.logSamples {
                result.samples.append(SampleLog(docId: r.docId, target: "\(golds)", arguments: [[r.generationContext ?? ""]], loglikelihoods: [],
                                                isGreedy: [], response: filtered, metrics: values))
            }
        }
        result.metrics = task.metrics.map { aggregate($0.name, perMetric[$0.name] ?? [], spec: $0, options: options) }
    }
}
