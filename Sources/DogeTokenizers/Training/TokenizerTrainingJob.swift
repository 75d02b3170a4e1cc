import Foundation

/// The stages of training, for progress reports.
public enum TokenizerTrainingStage: String, Sendable {
    case reading = "pre-tokenizing"
    case counting = "counting pairs"
    case merging = "merging"
}

/// Trains a byte-level BPE tokenizer on text files: Doge's shape by default, or the pipeline
/// and special tokens of an existing tokenizer (`base`), like transformers'
/// `train_new_from_iterator`.
///
/// ```swift
/// let job = TokenizerTrainingJob(vocabularySize: 4096, inputs: ["corpus.jsonl"])
/// let trained = try job.run()
/// try trained.write(to: URL(fileURLWithPath: "out"))
/// ```
public struct TokenizerTrainingJob: Sendable {
    public var vocabularySize: Int
    public var inputs: [String]
    /// A tokenizer directory or tokenizer.json whose pipeline is retrained; nil for Doge's.
    public var base: String?
    public var minFrequency: Int

    /// Called with (stage, done, total): bytes while reading, merges while merging.
    public typealias ProgressHandler = (TokenizerTrainingStage, Int, Int) -> Void

    public init(vocabularySize: Int, inputs: [String], base: String? = nil, minFrequency: Int = 0) {
        self.vocabularySize = vocabularySize
        self.inputs = inputs
        self.base = base
        self.minFrequency = minFrequency
    }

    public func run(progress: ProgressHandler? = nil) throws -> TrainedTokenizer {
        let blueprint = try base.map { try TokenizerBlueprint(existing: URL(fileURLWithPath: $0)) } ?? .doge()
        let (normalizer, preTokenizer) = try blueprint.pipeline()
        var counter = WordCounter(normalizer: normalizer, preTokenizer: preTokenizer)

        let sources = inputs.map(TrainingInput.init(path:))
        let totalBytes = try sources.reduce(0) { $0 + (try $1.byteCount()) }
        var bytesRead = 0, sequences = 0, reported = 0
        progress?(.reading, 0, totalBytes)
        for source in sources {
            try source.forEachSequence { scalars, byteCount in
                counter.add(scalars)
                sequences += 1
                bytesRead += byteCount
                if bytesRead - reported >= 1 << 16 {
                    reported = bytesRead
                    progress?(.reading, bytesRead, totalBytes)
                }
            }
        }
        progress?(.reading, totalBytes, totalBytes)
        let (words, counts) = counter.words()
        guard !words.isEmpty else { throw TokenizerTrainingError.emptyCorpus }

        progress?(.counting, 0, 1)
        var trainer = BPETrainer(vocabularySize: vocabularySize, specialTokens: blueprint.specialTokens.map(\.content),
                                 initialAlphabet: blueprint.initialAlphabet, minFrequency: minFrequency)
        trainer.continuingSubwordPrefix = blueprint.modelString("continuing_subword_prefix")
        trainer.endOfWordSuffix = blueprint.modelString("end_of_word_suffix")
        var started = false
        let result = try trainer.train(words: words, counts: counts) { done, total in
            if !started {
                started = true
                progress?(.counting, 1, 1)
            }
            progress?(.merging, done, total)
        }
        return try TrainedTokenizer(blueprint: blueprint, result: result,
                                    statistics: .init(bytes: totalBytes, sequences: sequences, distinctWords: words.count))
    }
}

/// A trained tokenizer's files, ready to write or load.
public struct TrainedTokenizer: Sendable {
    public struct Statistics: Sendable {
        public var bytes: Int
        public var sequences: Int
        public var distinctWords: Int
    }

    /// File name → contents: tokenizer.json, tokenizer_config.json and any extras.
    public let files: [(name: String, data: Data)]
    public let result: BPETrainer.Result
    public let statistics: Statistics

    init(blueprint: TokenizerBlueprint, result: BPETrainer.Result, statistics: Statistics) throws {
        var files = [("tokenizer.json", JSONWriter.data(try blueprint.tokenizerJSON(result)))]
        if let config = blueprint.configJSON(result) { files.append(("tokenizer_config.json", JSONWriter.data(config))) }
        files += blueprint.extraFiles
        self.files = files
        self.result = result
        self.statistics = statistics
    }

    /// The trained tokenizer, loaded from the files in memory.
    public func tokenizer() throws -> Tokenizer {
        let json = files.first { $0.name == "tokenizer.json" }!.data
        var config = TokenizerConfig()
        if let data = files.first(where: { $0.name == "tokenizer_config.json" })?.data {
            config = try TokenizerConfig(data: data)
        }
        return try Tokenizer(tokenizerJSONData: json, config: config)
    }

    /// Writes every file into `directory` (created when missing), each through a temporary
    /// file renamed into place, so a crash never leaves a half-written tokenizer.
    public func write(to directory: URL) throws {
        let manager = FileManager.default
        do {
            try manager.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw TokenizerTrainingError.cannotWrite(path: directory.path, reason: error.localizedDescription)
        }
        for (name, data) in files {
            let target = directory.appendingPathComponent(name)
            let temporary = directory.appendingPathComponent(".\(name).\(ProcessInfo.processInfo.processIdentifier).tmp")
            do {
                try data.write(to: temporary)
                let fd = open(temporary.path, O_RDONLY)
                if fd >= 0 { fsync(fd); close(fd) }
                guard rename(temporary.path, target.path) == 0 else {
                    throw TokenizerTrainingError.cannotWrite(path: target.path, reason: String(cString: strerror(errno)))
                }
            } catch let error as TokenizerTrainingError {
                try? manager.removeItem(at: temporary)
                throw error
            } catch {
                try? manager.removeItem(at: temporary)
                throw TokenizerTrainingError.cannotWrite(path: target.path, reason: error.localizedDescription)
            }
        }
    }
}
