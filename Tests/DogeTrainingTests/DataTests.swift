import Foundation
import Testing
import DogeModel
@testable import DogeTraining

/// One token per UTF-8 byte, EOS = 256; counts how often it is called.
final class ByteTokenizer: TextTokenizing, @unchecked Sendable {
    var calls = 0
    func tokenIDs(_ text: String) -> [Int] { calls += 1; return text.utf8.map(Int.init) }
    var endOfTextID: Int? { 256 }
}

@Suite struct DataTests {
    static func temporaryDirectory() -> URL { FidelityTests.temporaryDirectory() }

    @Test func textDocumentsAreSeparatedByEOSAndCached() throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = dir.appendingPathComponent("corpus.txt")
        try "ab\ncd\n\n\nef\n".write(to: source, atomically: true, encoding: .utf8)
        let tok = ByteTokenizer()
        var reported = 0
        let file = try TokenFile.build(source: source, format: .text, textField: "text", tokenizer: tok, tokenizerKey: "bytes",
                                       cacheDirectory: dir.appendingPathComponent("cache")) { _, _, _ in reported += 1 }
        #expect(file.tokens(0, file.count) == [97, 98, 10, 99, 100, 256, 101, 102, 256])
        #expect(reported > 0)
        let again = try TokenFile.build(source: source, format: .text, textField: "text", tokenizer: tok, tokenizerKey: "bytes",
                                        cacheDirectory: dir.appendingPathComponent("cache"))
        #expect(tok.calls == 2)       // the second build read the cache
        #expect(again.count == file.count)
    }

    @Test func jsonlTextAndPretokenized() throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = dir.appendingPathComponent("a.jsonl"), ids = dir.appendingPathComponent("b.jsonl")
        try "{\"text\": \"hi\"}\n{\"text\": \"yo\", \"meta\": 1}\n".write(to: text, atomically: true, encoding: .utf8)
        try "{\"input_ids\": [5, 6, 7]}\n{\"input_ids\": [8, 256]}\n".write(to: ids, atomically: true, encoding: .utf8)
        #expect(try CorpusFormat.detect(text, textField: "text") == .jsonlText)
        #expect(try CorpusFormat.detect(ids, textField: "text") == .jsonlTokens)
        let cache = dir.appendingPathComponent("cache")
        let a = try TokenFile.build(source: text, format: .jsonlText, textField: "text", tokenizer: ByteTokenizer(), tokenizerKey: "b", cacheDirectory: cache)
        #expect(a.tokens(0, a.count) == [104, 105, 256, 121, 111, 256])
        let b = try TokenFile.build(source: ids, format: .jsonlTokens, textField: "text", tokenizer: ByteTokenizer(), tokenizerKey: "b", cacheDirectory: cache)
        #expect(b.tokens(0, b.count) == [5, 6, 7, 256, 8, 256])
        let bad = dir.appendingPathComponent("c.jsonl")
        try "{\"body\": 1}\n".write(to: bad, atomically: true, encoding: .utf8)
        #expect(throws: TrainingError.self) { try CorpusFormat.detect(bad, textField: "text") }
    }

    static func tokenFile(_ dir: URL, _ name: String, count: Int, offset: Int) throws -> TokenFile {
        let url = dir.appendingPathComponent(name + ".jsonl")
        try "{\"input_ids\": \((0..<count).map { offset + $0 })}\n".write(to: url, atomically: true, encoding: .utf8)
        return try TokenFile.build(source: url, format: .jsonlTokens, textField: "text", tokenizer: nil, tokenizerKey: "none",
                                   cacheDirectory: dir.appendingPathComponent("cache"))
    }

    @Test func packingShufflingEvalSplitAndMixture() throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = try Self.tokenFile(dir, "a", count: 100 * 8 + 3, offset: 0)
        let b = try Self.tokenFile(dir, "b", count: 40 * 8, offset: 10_000)
        let single = try PackedCorpus(sources: [a], ratios: [1], blockLength: 8, evalFraction: 0.1, seed: 1)
        #expect(single.trainBlocks == [90] && single.evalBlocks.count == 10 && single.blocksPerEpoch == 90)
        let order = single.order(epoch: 0)
        #expect(Set(order.map(\.block)) == Set(0..<90))
        #expect(order != single.order(epoch: 1))
        #expect(order == (try PackedCorpus(sources: [a], ratios: [1], blockLength: 8, evalFraction: 0.1, seed: 1)).order(epoch: 0))
        #expect(order != (try PackedCorpus(sources: [a], ratios: [1], blockLength: 8, evalFraction: 0.1, seed: 2)).order(epoch: 0))
        #expect(single.tokens(order[0]) == Array((order[0].block * 8)..<(order[0].block * 8 + 8)))
        // 0.75 : 0.25 of 80 blocks.
        let mixed = try PackedCorpus(sources: [a, b], ratios: [3, 1], blockLength: 8, totalSamples: 80, seed: 7)
        let counts = mixed.order(epoch: 0).reduce(into: [0, 0]) { $0[$1.source] += 1 }
        #expect(counts == [60, 20])
        var cursor = DataCursor()
        let first = cursor.next(100, from: mixed)
        #expect(first.count == 100 && cursor.epoch == 1 && cursor.index == 20)
        #expect(throws: TrainingError.self) { try PackedCorpus(sources: [a], ratios: [1], blockLength: 10_000, seed: 1) }
    }

    @Test func separateEvalDatasetReplacesTheSplit() throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = try Self.tokenFile(dir, "a", count: 100 * 8, offset: 0)
        let held = try Self.tokenFile(dir, "held", count: 5 * 8 + 2, offset: 50_000)
        let corpus = try PackedCorpus(sources: [a], ratios: [1], blockLength: 8, evalFraction: 0.1, evalSources: [held], seed: 1)
        #expect(corpus.trainBlocks == [100] && corpus.blocksPerEpoch == 100)
        #expect(corpus.evalBlocks == (0..<5).map { PackedCorpus.BlockRef(source: 1, block: $0) })
        #expect(corpus.tokens(corpus.evalBlocks[2]) == Array(50_016..<50_024))
        #expect(corpus.order(epoch: 0).allSatisfy { $0.source == 0 })
        let tiny = try Self.tokenFile(dir, "tiny", count: 3, offset: 0)
        #expect(throws: TrainingError.self) { try PackedCorpus(sources: [a], ratios: [1], blockLength: 8, evalSources: [tiny], seed: 1) }
    }
}

@Suite struct RecipeTests {
    @Test func smallDogeRecipesParse() throws {
        for name in ["pretrain_wsd", "sft_cosine_min_lr"] {
            var values = try TrainingOptions.load(recipe: Fixtures.url("recipes/\(name).yaml"))
            values["datasets_and_ratios"] = [["data.jsonl": 1.0]]
            let o = try TrainingOptions.from(values)
            let ignored = Set(o.ignored.map(\.key))
            #expect(ignored.contains("bf16") && ignored.contains("push_to_hub") && ignored.contains("report_to"))
            if name == "pretrain_wsd" {
                #expect(o.modelInit?["hidden_size"] == .int(256))
                #expect(o.schedulerType == "warmup_stable_decay" && o.warmupSteps == 2000 && o.maxSteps == 32000)
                #expect(o.gradientAccumulationSteps == 128 && o.adamBeta2 == 0.95 && o.learningRate == 8e-3)
                let s = try o.schedule(totalSteps: o.maxSteps)
                #expect(s == .warmupStableDecay(warmup: 2000, stable: 23600, decay: 6400, warmupType: .linear, decayType: .linear,
                                                minLRRatio: 0, cycles: 0.5))
            } else {
                #expect(o.modelPath == "SmallDoge/Doge-20M-Instruct" && o.maxLength == 2048 && o.numTrainEpochs == 2)
                #expect(try o.schedule(totalSteps: 100) == .cosineWithMinLR(warmup: 10, total: 100, cycles: 0.5, minLRRate: 0.1))
            }
        }
    }

    @Test func bundledModelRecipeParses() throws {
        // The recipe that trains Models/doge-tiny (scripts/doge-tiny/retrain.sh).
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL
        let recipe = root.appendingPathComponent("Models/doge-tiny/recipe.yaml")
        let o = try TrainingOptions.from(try TrainingOptions.load(recipe: recipe))
        // Paths are read from the recipe's folder, so they are the same from any working directory.
        #expect(o.evalDatasets == [root.path + "/corpus/eval.jsonl"] && o.datasets.map(\.path) == [root.path + "/corpus/train.jsonl"])
        #expect(o.modelInit?["vocab_size"] == .int(4096) && o.tokenizerPath == root.path + "/Models/doge-tiny" && o.evalStrategy == "steps")
        #expect(o.outputDirectory == root.path + "/runs/doge-tiny")
        _ = try o.schedule(totalSteps: o.maxSteps)
        // YAML 1.1 reads an unquoted `no` as false; strategies accept it.
        let unquoted = try TrainingOptions.from(["model_name_or_path": "m", "datasets_and_ratios": [["d": 1.0]],
                                                 "save_strategy": false, "eval_strategy": false])
        #expect(unquoted.saveStrategy == "no" && unquoted.evalStrategy == "no")
    }

    @Test func nonsenseValuesStopBeforeTheRun() {
        let base: [String: Any] = ["model_name_or_path": "m", "datasets_and_ratios": [["d": 1.0]]]
        for (key, value) in [("learning_rate", -1.0 as Any), ("per_device_train_batch_size", 0), ("adam_beta2", 1.5),
                             ("max_steps", 0), ("warmup_ratio", 2.0), ("lr_scheduler_type", "exotic"), ("save_total_limit", 0),
                             ("max_length", "long"), ("optim", "sgd")] {
            var v = base
            v[key] = value
            #expect(throws: TrainingError.self, "\(key) = \(value)") { try TrainingOptions.from(v) }
        }
        var v = base
        v["lr_scheduler_type"] = "warmup_stable_decay"
        v["lr_scheduler_kwargs"] = ["num_decay_steps": 50]
        v["max_steps"] = 40
        #expect(throws: TrainingError.self) { try TrainingOptions.from(v) }
        #expect(throws: TrainingError.self) { try TrainingOptions.from(["model_name_or_path": "m"]) }
    }
}
