import ArgumentParser
import DogeTokenizers
import Foundation

/// `doge tokenizer ...`: tokenizer tools that are not plain encode/decode.
struct TokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Tokenizer tools (training).",
        subcommands: [TokenizerTrainCommand.self]
    )
}

struct TokenizerTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a byte-level BPE tokenizer on text files, as Hugging Face tokenizers' BpeTrainer does.",
        discussion: """
            Without --from, the tokenizer has SmallDoge's Doge-tokenizer shape (Llama 3 style): no \
            normalizer, the Llama-3 split regex then a byte-level mapping, <|begin_of_text|> added \
            before each text, byte-level decoding, ignore_merges, the 256 byte tokens, and the \
            special tokens <|begin_of_text|>, <|end_of_text|>, <|start_header_id|> and \
            <|end_header_id|> (ids 0-3) with a Doge chat template in tokenizer_config.json.

            With --from PATH (a model directory or tokenizer.json), the normalizer, pre-tokenizer, \
            post-processor, decoder, BPE options and special tokens of that tokenizer are kept and \
            only the vocabulary and merges are learned anew, like transformers' \
            train_new_from_iterator; its tokenizer_config.json, special_tokens_map.json and \
            chat_template.jinja are carried over.

            Inputs: files ending in .jsonl or .ndjson give one text per line (the "text" field of \
            each JSON object); any other file is read line by line, each line with its newline \
            being one text (as `tokenizers`' train(files) reads it). The result has the same \
            vocabulary and merges as Hugging Face tokenizers trained on the same texts with \
            BpeTrainer(vocab_size=N, special_tokens=..., initial_alphabet=ByteLevel.alphabet()). \
            Progress (stage, percent, rate, time left) is printed to standard error. The output \
            directory gets tokenizer.json, tokenizer_config.json and special_tokens_map.json, \
            each written atomically.

            Examples:
              doge tokenizer train --vocab-size 4096 --input corpus/train.jsonl --output my-tokenizer
              doge tokenizer train --from Models/doge-tiny --vocab-size 2048 --input a.txt b.txt --output retrained
            """
    )

    @Option(name: .long, help: ArgumentHelp("Vocabulary size, special tokens and the 256 byte tokens included.", valueName: "n"))
    var vocabSize: Int

    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("Training text files (.txt, .jsonl ...).", valueName: "files"))
    var input: [String]

    @Option(name: .long, help: ArgumentHelp("Directory to write the tokenizer into (created if missing).", valueName: "dir"))
    var output: String

    @Option(name: .long, help: ArgumentHelp("Retrain the pipeline of this tokenizer (directory or tokenizer.json).", valueName: "path"))
    var from: String?

    @Option(name: .long, help: ArgumentHelp("Never merge pairs seen fewer times than this.", valueName: "n"))
    var minFrequency = 0

    @Flag(name: .long, help: "Print no progress.")
    var quiet = false

    func validate() throws {
        if input.isEmpty { throw ValidationError("Give at least one --input file.") }
        if vocabSize < 1 { throw ValidationError("--vocab-size must be positive.") }
        if minFrequency < 0 { throw ValidationError("--min-frequency cannot be negative.") }
    }

    func run() throws {
        let job = TokenizerTrainingJob(vocabularySize: vocabSize, inputs: input, base: from, minFrequency: minFrequency)
        var meter = ProgressMeter(enabled: !quiet)
        let start = Date()
        let trained = try job.run { stage, done, total in meter.update(stage, done, total) }
        meter.finish()
        let directory = URL(fileURLWithPath: output)
        try trained.write(to: directory)
        let stats = trained.statistics
        let seconds = Date().timeIntervalSince(start)
        let summary = String(format: "trained %d tokens (%d merges) on %.2f MB, %d texts, %d distinct words in %.1f s → %@\n",
                             trained.result.vocabulary.count, trained.result.merges.count, Double(stats.bytes) / 1e6,
                             stats.sequences, stats.distinctWords, seconds, directory.path)
        FileHandle.standardError.write(Data(summary.utf8))
    }
}

/// One self-overwriting progress line on standard error: stage, percent, rate, time left.
private struct ProgressMeter {
    let enabled: Bool
    private var stage: TokenizerTrainingStage?
    private var stageStart = Date()
    private var lastPrint = Date.distantPast
    private var lastDone = -1

    init(enabled: Bool) { self.enabled = enabled }

    mutating func update(_ stage: TokenizerTrainingStage, _ done: Int, _ total: Int) {
        guard enabled else { return }
        if stage != self.stage {
            if self.stage != nil { render(final: true) }
            self.stage = stage
            stageStart = Date()
            lastDone = -1
        }
        current = (done, total)
        let now = Date()
        if now.timeIntervalSince(lastPrint) >= 0.2 || done == total {
            lastPrint = now
            render(final: false)
        }
    }

    private var current = (done: 0, total: 0)

    /// Redraws the line when the count moved; `final` ends it with a newline.
    private mutating func render(final: Bool) {
        guard let stage else { return }
        guard current.done != lastDone else {
            if final { FileHandle.standardError.write(Data("\n".utf8)) }
            return
        }
        lastDone = current.done
        let elapsed = max(Date().timeIntervalSince(stageStart), 1e-6)
        let fraction = current.total > 0 ? Double(current.done) / Double(current.total) : 1
        let rate = Double(current.done) / elapsed
        let rateText = stage == .reading ? String(format: "%.1f MB/s", rate / 1e6)
            : stage == .merging ? String(format: "%.0f merges/s", rate) : ""
        let remaining = rate > 0 ? Double(current.total - current.done) / rate : 0
        let line = String(format: "\r\u{1B}[K%@ %5.1f%%  %@  elapsed %.1fs  ETA %.1fs", stage.rawValue, 100 * fraction,
                          rateText, elapsed, final ? 0 : remaining)
        FileHandle.standardError.write(Data((line + (final ? "\n" : "")).utf8))
    }

    mutating func finish() {
        guard enabled, stage != nil else { return }
        render(final: true)
    }
}
