import ArgumentParser
import Foundation
import DogeGeneration
import DogeModel

/// Options shared by `generate` and `chat`: which model and how to pick tokens. Numbers and stop
/// strings are read unconditionally, so `--temperature -1` reaches validation (and its message)
/// instead of being taken for an option.
struct SamplingOptions: ParsableArguments {
    @Option(name: .long, help: "Model directory (Hugging Face layout, with tokenizer.json). Default: $DOGE_MODEL, else the bundled model.")
    var model: String?

    @Option(name: .long, parsing: .unconditional, help: "Most tokens to generate (default: the model's generation_config.json, else 256).")
    var maxNewTokens: Int?

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

    func generationConfig(defaults: GenerationConfig) throws -> GenerationConfig {
        var c = defaults
        if let n = maxNewTokens { c.maxNewTokens = n } else if c.maxNewTokens == GenerationConfig().maxNewTokens { c.maxNewTokens = 256 }
        let wantsSampling = temperature != nil || topK != nil || topP != nil || minP != nil
        if greedy && wantsSampling { throw ValidationError("--greedy cannot be combined with --temperature, --top-k, --top-p or --min-p") }
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

    func loadGenerator() throws -> TextGenerator {
        try TextGenerator(directory: ModelLocator.resolve(model), loading: weights.loading())
    }
}

/// Where the model comes from when --model is not given.
enum ModelLocator {
    static let bundledName = "Models/doge-tiny"

    static func resolve(_ explicit: String?) throws -> URL {
        if let explicit { return URL(fileURLWithPath: explicit) }
        if let env = ProcessInfo.processInfo.environment["DOGE_MODEL"], !env.isEmpty { return URL(fileURLWithPath: env) }
        // The bundled model lives in the repository; look upward from the binary and the working directory.
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var tokenizerOnly = false
        for start in [executable.deletingLastPathComponent(), URL(fileURLWithPath: FileManager.default.currentDirectoryPath)] {
            var dir = start
            for _ in 0..<8 {
                let candidate = dir.appendingPathComponent(bundledName)
                if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("config.json").path) { return candidate }
                if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("tokenizer.json").path) { tokenizerOnly = true }
                dir.deleteLastPathComponent()
            }
        }
        if tokenizerOnly {
            throw ValidationError("no --model given, and the bundled model (\(bundledName)) has its tokenizer but no trained weights yet; pass --model DIR or set DOGE_MODEL")
        }
        throw ValidationError("no --model given and the bundled model (\(bundledName)) was not found; pass --model DIR or set DOGE_MODEL")
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
              doge generate --model DIR "The capital of France is" --max-new-tokens 20 --greedy
              doge generate --ids "1,2,3" --temperature 0.8 --top-p 0.9 --seed 7 --json
            """
    )

    @Argument(help: "The prompt text.")
    var prompt: String?

    @Option(name: .long, help: "Prompt as comma-separated token ids instead of text.")
    var ids: String?

    @Flag(name: .long, help: "Print one JSON object (prompt and generated ids, text, finish reason) instead of streaming text.")
    var json = false

    @OptionGroup var options: SamplingOptions

    func run() throws {
        let input: Prompt
        switch (prompt, ids) {
        case let (text?, nil): input = .text(text)
        case let (nil, list?): input = .ids(try parseIds(list))
        case (nil, nil): throw ValidationError("give a prompt, or token ids with --ids")
        case (.some, .some): throw ValidationError("give either a prompt or --ids, not both")
        }
        let directory = try ModelLocator.resolve(options.model)
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

func reportSpeed(_ r: GenerationResult) {
    let prompt = Double(r.promptTokens) / max(r.promptSeconds, 1e-9)
    let decode = Double(max(r.tokenIds.count - 1, 0)) / max(r.generationSeconds, 1e-9)
    FileHandle.standardError.write(Data(String(format: "prompt: %d tokens, %.1f tok/s · generation: %d tokens, %.1f tok/s · %@\n",
                                               r.promptTokens, prompt, r.tokenIds.count, decode, r.finishReason.rawValue).utf8))
}
