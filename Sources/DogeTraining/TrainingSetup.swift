import Foundation
import DogeModel
import DogeTokenizers

/// Turns options into the model, tokenizer and data of a run (what `doge train` does before the loop).
public enum TrainingSetup {
    /// A new model from model_init_kwargs (seeded, transformers' init) or the checkpoint at model_name_or_path.
    public static func model(_ o: TrainingOptions) throws -> DogeForCausalLM {
        if let kwargs = o.modelInit {
            var json = kwargs
            // Read but not applicable on CPU: the caller lists them as ignored.
            json.removeValue(forKey: "torch_dtype"); json.removeValue(forKey: "attn_implementation")
            let config: DogeConfiguration
            do { config = try DogeConfiguration(json: json, file: "model_init_kwargs") } catch {
                throw TrainingError.invalidOption(key: "model_init_kwargs", problem: "\(error)")
            }
            do { try config.checkFitsInMemory(bytesPerParameter: 16, what: "training a new model") } catch {
                throw TrainingError.invalidOption(key: "model_init_kwargs", problem: "\(error)")
            }
            return DogeForCausalLM(config: config, layout: .native, seed: UInt64(bitPattern: Int64(o.seed)))
        }
        let path = o.modelPath!
        guard FileManager.default.fileExists(atPath: path + "/config.json") else {
            throw TrainingError.invalidOption(key: "model_name_or_path", problem: "\(path) is not a local checkpoint directory (no config.json there); for a Hugging Face repository, download it first (huggingface-cli download REPO --local-dir DIR) and give DIR, or give model_init_kwargs for a new model")
        }
        do { return try DogeForCausalLM(directory: URL(fileURLWithPath: path), loading: .float32) } catch {
            throw TrainingError.invalidOption(key: "model_name_or_path", problem: "\(error)")
        }
    }

    /// Where tokenizer.json is: tokenizer_name_or_path, else model_name_or_path (small-doge's
    /// pre-training recipes name the tokenizer repository there).
    public static func tokenizerDirectory(_ o: TrainingOptions) -> URL? {
        for candidate in [o.tokenizerPath, o.modelPath].compactMap({ $0 }) {
            if FileManager.default.fileExists(atPath: candidate + "/tokenizer.json") { return URL(fileURLWithPath: candidate) }
        }
        return nil
    }

    /// Tokenizes (once, cached) and packs the datasets.
    public static func corpus(_ o: TrainingOptions, tokenizerDirectory: URL?, vocabSize: Int,
                              progress: @escaping (String) -> Void = { _ in }) throws -> PackedCorpus {
        // Every file is looked for before anything is tokenized, held-out files included.
        for (key, paths) in [("datasets_and_ratios", o.datasets.map(\.path)), ("eval_dataset", o.evalDatasets)] {
            for path in paths where !FileManager.default.fileExists(atPath: path) {
                throw TrainingError.data("\(path): no such file (\(key)); relative paths in a recipe are read from the recipe's folder")
            }
        }
        if let path = o.tokenizerPath, !FileManager.default.fileExists(atPath: path + "/tokenizer.json") {
            throw TrainingError.invalidOption(key: "tokenizer_name_or_path", problem: "\(path)/tokenizer.json: no such file")
        }
        var tokenizer: Tokenizer?
        var tokenizerKey = "none"
        if let dir = tokenizerDirectory {
            do { tokenizer = try Tokenizer(directory: dir) } catch {
                throw TrainingError.data("\(dir.path): cannot load the tokenizer: \(error)")
            }
            if tokenizer!.vocabularySize > vocabSize {
                throw TrainingError.data("\(dir.appendingPathComponent("tokenizer.json").path): the tokenizer has ids up to \(tokenizer!.vocabularySize - 1) but the model's vocabulary is \(vocabSize); use the model's own tokenizer or set vocab_size")
            }
            let data = (try? Data(contentsOf: dir.appendingPathComponent("tokenizer.json"))) ?? Data()
            tokenizerKey = stableHash(String(decoding: data.prefix(1 << 20), as: UTF8.self) + "\(data.count)")
        } else if let text = try (o.datasets.map(\.path) + o.evalDatasets).first(where: {
            try CorpusFormat.detect(URL(fileURLWithPath: $0), textField: o.textField) != .jsonlTokens
        }) {
            let tried = [o.tokenizerPath, o.modelPath].compactMap { $0 }.map { $0 + "/tokenizer.json" }
            throw TrainingError.data("\(text) is text and needs a tokenizer, but there is no "
                + (tried.isEmpty ? "tokenizer_name_or_path" : tried.joined(separator: " or ")))
        }
        let cache = URL(fileURLWithPath: o.cacheDirectory ?? (o.outputDirectory + "/token_cache"))
        func tokenize(_ path: String) throws -> TokenFile {
            let url = URL(fileURLWithPath: path)
            let format = try CorpusFormat.detect(url, textField: o.textField)
            let name = url.lastPathComponent
            let file = try TokenFile.build(source: url, format: format, textField: o.textField, tokenizer: tokenizer,
                                           tokenizerKey: tokenizerKey, cacheDirectory: cache) { read, total, tokens in
                let pct = total > 0 ? 100 * Double(read) / Double(total) : 100
                progress(String(format: "\rtokenizing %@: %.1f%% of %.1f MB, %d tokens", name, pct, Double(total) / 1e6, tokens))
            }
            progress("\n")
            let maxID = file.tokens(0, min(file.count, 1 << 22)).max() ?? 0
            if maxID >= vocabSize {
                throw TrainingError.data("\(path): token id \(maxID) is outside the model's vocabulary of \(vocabSize)")
            }
            return file
        }
        let files = try o.datasets.map { try tokenize($0.path) }
        let evalFiles = try o.evalDatasets.map(tokenize)
        let evalFraction = o.evalFraction ?? (o.evalStrategy == "steps" ? 0.01 : 0)
        return try PackedCorpus(sources: files, ratios: o.datasets.map(\.ratio), blockLength: o.maxLength,
                                evalFraction: evalFraction, evalSources: evalFiles, totalSamples: o.totalSampleSize,
                                seed: UInt64(bitPattern: Int64(o.seed)))
    }
}
