import ArgumentParser
import DogeEval
import Foundation
import DogeModel

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score a model on benchmarks exactly as lm-evaluation-harness does, or the perplexity of a text.",
        discussion: """
            Tasks are lm-eval task YAML files (doc_to_text, doc_to_choice, doc_to_target, … with Jinja \
            templates); the built-in ones are in the repository's Tasks/ folder: arc_easy, arc_challenge, \
            piqa, hellaswag, openbookqa, winogrande, mmlu (57 mmlu_<subject> tasks and groups), triviaqa, \
            lambada_openai, wikitext. No network: --data-dir DIR holds DIR/<task>/<split>.jsonl in the \
            Hugging Face dataset's columns (datasets' to_json). Few-shot examples are drawn as lm-eval \
            draws them (random.Random(1234)).

            --style lighteval scores as lighteval 0.8 with small-doge's settings, to reproduce a \
            SmallDoge model card (Tasks/lighteval/): choices with their own leading space, \
            acc_norm_nospace, the cloze MMLU ("The following are questions about …", answer texts as \
            choices) and lighteval's Winogrande (the option scored with the rest of the sentence), \
            lighteval's few-shot selection (balanced; random sampling with Random(42)) and its \
            document order (--limit takes the first N after lighteval's shuffle). Each task's \
            num_fewshot is small-doge's (arc, piqa, mmlu, triviaqa 5; hellaswag, winogrande, \
            openbookqa 0); --num-fewshot overrides. Groups: mmlu and arc (lighteval's plain averages).

              doge eval --model DIR --tasks arc_easy,piqa --data-dir data --num-fewshot 5
              doge eval --model DIR --style lighteval --data-dir data \\
                --tasks mmlu,triviaqa,arc,piqa,hellaswag,openbookqa,winogrande
              doge eval --model DIR --perplexity corpus.txt
            """
    )

    @Option(name: .long, help: "Model directory (Hugging Face layout). Default: $DOGE_MODEL, else the bundled model.")
    var model: String?
    @Option(name: .long, help: "Comma-separated tasks or groups (e.g. arc_easy,mmlu).") var tasks: String?
    @Option(name: .long, help: "Folder with <task>/<split>.jsonl files.") var dataDir: String?
    @Option(name: .long, help: "Few-shot examples per question (default: the task's num_fewshot, else 0).") var numFewshot: Int?
    @Option(name: .long, help: "Evaluate only the first N documents of each task.") var limit: Int?
    @Option(name: .long, help: "Documents per forward call (default 32).") var batchSize: Int = 32
    @Option(name: .long, help: "Write results (and samples) as JSON to this file.") var outputPath: String?
    @Flag(name: .long, help: "Add each document's requests, log-likelihoods and scores to the JSON output.") var logSamples = false
    @Option(name: .long, help: "Another folder of task YAML files (repeatable).") var includePath: [String] = []
    @Option(name: .long, help: "Bootstrap resamples for perplexity stderrs (lm-eval's default 100000; 0 skips).") var bootstrapIters: Int = 100_000
    @Option(name: .long, help: "Perplexity of this file (plain text, or JSON Lines with a text field) instead of tasks.") var perplexity: String?
    @Option(name: .long, help: "The JSON Lines field holding the text for --perplexity.") var textField: String = "text"
    @Flag(name: .long, help: "List the known tasks and groups.") var listTasks = false
    @Option(name: .long, help: "Whose task definitions and scoring: lm-eval (default) or lighteval (small-doge's model-card settings).")
    var style: String = "lm-eval"

    func validate() throws {
        if let n = numFewshot, n < 0 { throw ValidationError("--num-fewshot must be 0 or more") }
        if let n = limit, n < 1 { throw ValidationError("--limit must be 1 or more") }
        if batchSize < 1 { throw ValidationError("--batch-size must be 1 or more") }
        if bootstrapIters < 0 { throw ValidationError("--bootstrap-iters must be 0 or more") }
        if TaskStyle(rawValue: style) == nil { throw ValidationError("--style must be lm-eval or lighteval, not '\(style)'") }
        if !listTasks && perplexity == nil {
            if tasks == nil { throw ValidationError("give --tasks (e.g. --tasks arc_easy,piqa) or --perplexity FILE") }
            if dataDir == nil { throw ValidationError("give --data-dir DIR holding DIR/<task>/<split>.jsonl") }
        }
    }

    /// Usage mistakes (an unknown task) exit 64 with the usage; bad files and data exit 1 with
    /// one line naming the task, file, line and field (CLIFailure.swift).
    func run() throws {
        do { try runEval() } catch let e as EvalError where e.kind == .usage || e.kind == .unknownTask {
            throw ValidationError(e.message)
        }
    }

    private func library() throws -> TaskLibrary {
        var dirs: [URL] = []
        if let builtIn = TaskLibrary.builtInDirectory() { dirs.append(builtIn) }
        dirs += includePath.map { URL(fileURLWithPath: $0) }
        guard !dirs.isEmpty else { throw EvalError(.usage, "the built-in Tasks/ folder was not found (run from the repository, or set DOGE_TASKS); or give --include-path DIR") }
        return try TaskLibrary(directories: dirs, style: TaskStyle(rawValue: style) ?? .lmEval)
    }

    private func runEval() throws {
        if listTasks {
            let lib = try library()
            for name in lib.groups.keys.sorted() { print("\(name)\t(group: \(lib.groups[name]!.members.joined(separator: ", ")))") }
            for name in lib.tasks.keys.sorted() { let t = lib.tasks[name]!; print("\(name)\t\(t.outputType.rawValue)\t\(t.file.lastPathComponent)") }
            return
        }
        let loadStart = Date()
        let directory = try ModelLocator.resolve(model)
        // Resolve tasks before loading the model: a typo fails at once.
        let selection = try perplexity == nil ? library().select(tasks!.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }) : nil
        let lm = try EvalModel(directory: directory, batchSize: batchSize)
        let loadSeconds = Date().timeIntervalSince(loadStart)
        let bar = EvalProgressBar()
        if let file = perplexity {
            let docs = try EvalModel.perplexityDocuments(URL(fileURLWithPath: file), textField: textField)
            let r = try lm.perplexity(of: docs) { bar.update("perplexity", $0, $1, unit: "windows") }
            bar.finish()
            print(String(format: "documents %d · tokens %d · words %d · bytes %d", r.documents, r.tokens, r.words, r.bytes))
            print(String(format: "token_perplexity %.4f\nword_perplexity %.4f\nbyte_perplexity %.4f\nbits_per_byte %.4f\nloglikelihood %.4f",
                         r.tokenPerplexity, r.wordPerplexity, r.bytePerplexity, r.bitsPerByte, r.loglikelihood))
            FileHandle.standardError.write(Data(String(format: "%.1f s (%.0f tokens/s), model load %.1f s\n", r.seconds, Double(r.tokens) / r.seconds, loadSeconds).utf8))
            if let outputPath {
                let json = Report.JSON.object([
                    ("model", .string(directory.path)), ("file", .string(file)), ("documents", .int(r.documents)), ("tokens", .int(r.tokens)),
                    ("words", .int(r.words)), ("bytes", .int(r.bytes)), ("loglikelihood", .number(r.loglikelihood)),
                    ("token_perplexity", .number(r.tokenPerplexity)), ("word_perplexity", .number(r.wordPerplexity)),
                    ("byte_perplexity", .number(r.bytePerplexity)), ("bits_per_byte", .number(r.bitsPerByte)), ("seconds", .number(r.seconds)),
                ])
                try write(json.render() + "\n", to: outputPath)
            }
            return
        }
        let evaluator = Evaluator(model: lm, dataDir: URL(fileURLWithPath: dataDir!))
        var options = EvalOptions()
        options.numFewshot = numFewshot
        options.limit = limit
        options.logSamples = logSamples
        options.bootstrapIterations = bootstrapIters
        // Prepare every task first: bad data or templates fail before the model runs.
        for task in selection!.tasks { _ = try evaluator.prepare(task, options: options) }
        let start = Date()
        var results: [TaskResult] = []
        for task in selection!.tasks {
            results.append(try evaluator.run(task, options: options) { bar.update(task.name, $0, $1, unit: "docs") })
            bar.finish()
        }
        let total = Date().timeIntervalSince(start)
        let groups = Report.groups(selection!, results: results)
        print(Report.table(results, groups: groups), terminator: "")
        let documents = results.reduce(0) { $0 + $1.documents }
        FileHandle.standardError.write(Data(String(format: "%d documents in %.1f s (%.1f docs/s), model load %.1f s\n", documents, total, Double(documents) / total, loadSeconds).utf8))
        if let outputPath {
            let config: [(String, Report.JSON)] = [
                ("model", .string(directory.path)), ("tasks", .array(selection!.tasks.map { .string($0.name) })),
                ("data_dir", .string(dataDir!)), ("style", .string(style)), ("num_fewshot", numFewshot.map(Report.JSON.int) ?? .null),
                ("limit", limit.map(Report.JSON.int) ?? .null), ("batch_size", .int(batchSize)), ("fewshot_seed", .int(1234)),
                ("bootstrap_iters", .int(bootstrapIters)), ("max_length", .int(lm.maxLength)),
            ]
            let timings: [(String, Report.JSON)] = [("model_load_seconds", .number(loadSeconds)), ("total_seconds", .number(total)),
                                                    ("documents_per_second", .number(Double(documents) / total))]
            try write(Report.json(results, groups: groups, config: config, timings: timings, logSamples: logSamples).render() + "\n", to: outputPath)
        }
    }

    private func write(_ text: String, to path: String) throws {
        // A temporary file renamed into place (rename(2)): a results file is whole or untouched.
        do {
            try AtomicFile.write(Data(text.utf8), to: URL(fileURLWithPath: path))
        } catch {
            throw EvalError(.data, "cannot write \(path): \(CLIFailure.message(for: error))")
        }
        FileHandle.standardError.write(Data("wrote \(path)\n".utf8))
    }
}

/// A one-line progress bar with rate and ETA on stderr (redrawn in place on a terminal).
final class EvalProgressBar {
    private var started = Date()
    private var lastDraw = Date.distantPast
    private var label = ""
    private var drawn = false
    private let tty = isatty(2) != 0

    func update(_ label: String, _ done: Int, _ total: Int, unit: String) {
        if label != self.label { self.label = label; started = Date() }
        let now = Date()
        guard done == total || now.timeIntervalSince(lastDraw) > (tty ? 0.2 : 10) else { return }
        lastDraw = now
        let elapsed = now.timeIntervalSince(started)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let width = 24, filled = total > 0 ? width * done / total : 0
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
        let line = String(format: "%@ [%@] %d/%d %@  %.1f/s  ETA %d:%02d", label, bar, done, total, unit, rate, Int(eta) / 60, Int(eta) % 60)
        FileHandle.standardError.write(Data(((tty ? "\r\u{1B}[K" : "") + line + (tty ? "" : "\n")).utf8))
        drawn = true
    }

    func finish() {
        if drawn && tty { FileHandle.standardError.write(Data("\n".utf8)) }
        drawn = false
    }
}
