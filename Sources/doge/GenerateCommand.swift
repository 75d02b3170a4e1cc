import ArgumentParser
import Foundation
import DogeGeneration
import DogeHub
import DogeModel

/// Options shared by `generate` and `chat`: which model and how to pick tokens. Numbers and stop
/// strings are read unconditionally, so `--temperature -1` reaches validation (and its message)
/// instead of being taken for an option.
struct SamplingOptions: ParsableArguments {
    @Option(name: .long, help: "Model directory (Hugging Face layout, with tokenizer.json) or Hub name OWNER/NAME from the Hugging Face cache. Default: $DOGE_MODEL, else the bundled model (generate: Models/doge-tiny; chat: Models/doge-tiny-instruct).")
    var model: String?

    @Option(name: .long, help: "Branch, tag or commit of a Hub name given to --model (default: main).")
    var revision: String?

    @Option(name: .long, parsing: .unconditional, help: "Most tokens to generate (default: the model's generation_config.json, else 256).")
    var maxNewTokens: Int?

    @Option(name: .long, parsing: .unconditional, help: "Fewest tokens to generate: end-of-text is not chosen before (default: generation_config.json, else 0).")
    var minNewTokens: Int?

    @Flag(name: .long, help: "Greedy decoding (always the most likely token).")
    var greedy = false

    @Option(name: .long, parsing: .unconditional, help: "Sampling temperature (> 0). Setting any sampling option turns sampling on.")
    var temperature: Float?

    @Option(name: .long, parsing: .unconditional, help: "Keep only the K most likely tokens (0 disables).")
    var topK: Int?

    @Option(name: .long, parsing: .unconditional, help: "Nucleus sampling: keep the most likely tokens covering probability P, in (0, 1].")
    var topP: Float?

    @Option(name: .long, parsing: .unconditional, help: "Drop tokens less likely than M × the most likely one, in [0, 1].")
    var minP: Float?

    @Option(name: .long, parsing: .unconditional, help: "Penalise tokens already in the text (> 0; 1 = off).")
    var repetitionPenalty: Float?

    @Option(name: .long, help: "Seed for sampling: the same seed gives the same text.")
    var seed: UInt64 = 0

    @Option(name: .long, parsing: .unconditionalSingleValue, help: "Stop when the text contains this string (repeatable).")
    var stop: [String] = []

    @Flag(name: .long, help: "Print prompt and generation speed (tokens/s) to stderr.")
    var verbose = false

    @OptionGroup var weights: WeightOptions

    private var wantsSampling: Bool { temperature != nil || topK != nil || topP != nil || minP != nil }

    func validate() throws {
        if greedy && wantsSampling { throw ValidationError("--greedy cannot be combined with --temperature, --top-k, --top-p or --min-p") }
        if let n = maxNewTokens, n < 0 { throw ValidationError("--max-new-tokens must be ≥ 0, not \(n)") }
        if let n = minNewTokens, n < 0 { throw ValidationError("--min-new-tokens must be ≥ 0, not \(n)") }
        if stop.contains("") { throw ValidationError("--stop needs a non-empty string") }
    }

    func generationConfig(defaults: GenerationConfig) throws -> GenerationConfig {
        var c = defaults
        if let n = maxNewTokens { c.maxNewTokens = n } else if c.maxNewTokens == GenerationConfig().maxNewTokens { c.maxNewTokens = 256 }
        if let n = minNewTokens { c.minNewTokens = n }
        if greedy { c.doSample = false }
        if wantsSampling { c.doSample = true }
        if let t = temperature { c.temperature = t }
        if let k = topK { c.topK = k }
        if let p = topP { c.topP = p }
        if let m = minP { c.minP = m }
        if let r = repetitionPenalty { c.repetitionPenalty = r }
        c.seed = seed
        c.stopStrings = stop
        try c.validate()
        return c
    }

    func loadGenerator(bundled: BundledModel = .base) throws -> TextGenerator {
        try TextGenerator(directory: ModelLocator.resolve(model, revision: revision, bundled: bundled), loading: weights.loading())
    }
}

/// The models that ship in the repository: the base model continues text (`doge generate`), the
/// instruct model answers through its chat template (`doge chat`, `doge serve`).
enum BundledModel: String {
    case base = "Models/doge-tiny"
    case instruct = "Models/doge-tiny-instruct"
}

/// Where the model comes from when --model is not given: $DOGE_MODEL, else a bundled model —
/// in an installed tree (`<prefix>/bin/doge` finds `<prefix>/share/doge/Models/doge-tiny`) or a
/// repository checkout (looking upward from the binary, then from the working directory).
enum ModelLocator {
    /// The running binary, symlinks resolved (argv[0] is only a name when doge is found on $PATH).
    static var executable: URL {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return URL(fileURLWithPath: path)
        }
        return (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])).resolvingSymlinksInPath()
    }

    /// `--model` (a directory, or a Hub name found in the Hugging Face cache at `revision`), else
    /// $DOGE_MODEL (the same), else the bundled model `bundled`; when that is the instruct model
    /// and only the base model is found (an install that copied just doge-tiny), the base model,
    /// with a note on stderr.
    static func resolve(_ explicit: String?, revision: String? = nil, bundled: BundledModel = .base) throws -> URL {
        if let explicit {
            if revision != nil, FileManager.default.fileExists(atPath: (explicit as NSString).expandingTildeInPath) {
                throw ValidationError("--revision applies to Hub names OWNER/NAME, but --model \(explicit) is a local directory")
            }
            return try ModelSource.directory(for: explicit, revision: revision)
        }
        if let env = ProcessInfo.processInfo.environment["DOGE_MODEL"], !env.isEmpty {
            return try ModelSource.directory(for: env, revision: revision)
        }
        if revision != nil { throw ValidationError("--revision needs --model OWNER/NAME (a Hub name)") }
        if bundled == .instruct {
            if let found = try? locate(.instruct) { return found }
            let base = try locate(.base)
            FileHandle.standardError.write(Data("note: the bundled instruct model (\(BundledModel.instruct.rawValue)) was not found; using the base model \(base.path), which continues text rather than following instructions\n".utf8))
            return base
        }
        return try locate(bundled)
    }

    /// The bundled model's directory: in `<prefix>/share/doge`, else above the binary or the
    /// working directory.
    static func locate(_ bundled: BundledModel) throws -> URL {
        let bundledName = bundled.rawValue
        let binDirectory = executable.deletingLastPathComponent()
        var candidates = [binDirectory.appendingPathComponent("../share/doge").appendingPathComponent(bundledName).standardizedFileURL]
        for start in [binDirectory, URL(fileURLWithPath: FileManager.default.currentDirectoryPath)] {
            var dir = start
            for _ in 0..<8 {
                candidates.append(dir.appendingPathComponent(bundledName))
                dir.deleteLastPathComponent()
            }
        }
        var tokenizerOnly = false
        for candidate in candidates {
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("config.json").path) { return candidate }
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("tokenizer.json").path) { tokenizerOnly = true }
        }
        if tokenizerOnly {
            throw RunError("no --model given, and the bundled model (\(bundledName)) has its tokenizer but no trained weights yet; pass --model DIR or set DOGE_MODEL")
        }
        throw RunError("no --model given and the bundled model was not found (looked in \(candidates[0].path) and for \(bundledName) above \(binDirectory.path) and the working directory); pass --model DIR or set DOGE_MODEL")
    }
}

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Continue a prompt, streaming the text to stdout.",
        discussion: """
            Greedy by default (or as the model's generation_config.json says); any sampling option \
            turns sampling on, with transformers' semantics and order (repetition penalty, \
            temperature, top-k, top-p, min-p).

              doge generate "Once upon a time"
              doge generate "The king said" --max-new-tokens 20 --min-new-tokens 10 --greedy
              doge generate --ids "0,1663,318,808,262,659" --temperature 0.8 --top-p 0.9 --seed 7 --json
              doge generate --file prompt.txt --stop "."
              echo "It was a dark night" | doge generate -
            """
    )

    @Argument(help: "The prompt text; - reads it from standard input.")
    var prompt: String?

    @Option(name: .long, help: "Prompt as comma-separated token ids instead of text.")
    var ids: String?

    @Option(name: .long, help: ArgumentHelp("Read the prompt text from this file (exactly, trailing newline included).", valueName: "path"))
    var file: String?

    @Flag(name: .long, help: "Print one JSON object (prompt and generated ids, text, finish reason) instead of streaming text.")
    var json = false

    @OptionGroup var options: SamplingOptions

    func validate() throws {
        switch [prompt != nil, ids != nil, file != nil].filter({ $0 }).count {
        case 0: throw ValidationError("give a prompt (or - for standard input), --file PATH, or token ids with --ids")
        case 1: break
        default: throw ValidationError("give only one of a prompt, --file and --ids")
        }
        if let ids { _ = try parseIds(ids) }
    }

    func run() throws {
        let input: Prompt
        if let ids {
            input = .ids(try parseIds(ids))
        } else if let file {
            guard let data = FileManager.default.contents(atPath: file) else { throw RunError("\(file): no such file (--file)") }
            input = .text(String(decoding: data, as: UTF8.self))
        } else if prompt == "-" {
            input = .text(String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self))
        } else {
            input = .text(prompt!)
        }
        let directory = try ModelLocator.resolve(options.model, revision: options.revision)
        if case .ids(let promptIds) = input, !FileManager.default.fileExists(atPath: directory.appendingPathComponent("tokenizer.json").path) {
            try generateIdsOnly(directory: directory, prompt: promptIds)
            return
        }
        let generator = try TextGenerator(directory: directory, loading: options.weights.loading())
        let config = try options.generationConfig(defaults: generator.defaults)
        let interrupt = InterruptFlag.install()
        let out = FileHandle.standardOutput
        let result = try generator.generate(input, config: config, isCancelled: { interrupt.isSet }) { chunk in
            if !json { out.write(Data(chunk.text.utf8)) }
        }
        if json {
            let object: [String: Any] = [
                "prompt_ids": try generator.promptIds(input), "generated_ids": result.tokenIds,
                "text": result.text, "finish_reason": result.finishReason.rawValue,
            ]
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        } else {
            out.write(Data("\n".utf8))
        }
        if options.verbose { reportSpeed(result) }
    }

    /// A checkpoint without tokenizer files can still continue token ids.
    private func generateIdsOnly(directory: URL, prompt: [Int]) throws {
        let model = try DogeForCausalLM(directory: directory, loading: options.weights.loading())
        let config = try options.generationConfig(defaults: GenerationConfig.defaults(forModelAt: directory, config: model.config))
        let interrupt = InterruptFlag.install()
        var stopped = false
        let generated = try TokenGenerator(model: model).generate(prompts: [prompt], config: config) { step in
            if !json { print(step.tokens[0], terminator: " ") }
            stopped = interrupt.isSet
            return !stopped
        }[0]
        if json {
            let object: [String: Any] = ["prompt_ids": prompt, "generated_ids": generated,
                                         "finish_reason": stopped ? "cancelled" : generated.count < config.maxNewTokens ? "stop" : "length"]
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print("")
        }
    }
}

/// `--verbose`: prompt and generation speed. A rate is only shown where something was timed
/// (the first token is part of the prompt's time; the rate of the rest needs two tokens or more).
func reportSpeed(_ r: GenerationResult) {
    func rate(_ tokens: Int, _ seconds: Double) -> String {
        tokens > 0 && seconds > 0 ? String(format: ", %.1f tok/s", Double(tokens) / seconds) : ""
    }
    let generated = r.generatedTokens
    let line = "prompt: \(r.promptTokens) tokens\(rate(generated > 0 ? r.promptTokens : 0, r.promptSeconds))"
        + " · generation: \(generated) token\(generated == 1 ? "" : "s")\(rate(generated - 1, r.generationSeconds))"
        + " · \(r.finishReason.rawValue)\n"
    FileHandle.standardError.write(Data(line.utf8))
}
