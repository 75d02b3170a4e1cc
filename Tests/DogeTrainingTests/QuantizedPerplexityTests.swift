import Foundation
import Testing
import DogeKernels
import DogeModel
import DogeTokenizers
import DogeTraining

/// Perplexity of the bundled model (Models/doge-tiny, BF16) on its held-out split, as held in
/// memory: BF16 (the reference), q8_0 and q4_0. Slow and needs the corpus, so it runs only with
///   DOGE_PERPLEXITY_CORPUS=DIR swift test --filter QuantizedPerplexity
/// where DIR/eval.jsonl comes from scripts/corpus/build_corpus.sh DIR. Same measure as the
/// trainer's eval_loss (recipe: blocks of max_length 256, exp(mean cross entropy)).
@Suite struct QuantizedPerplexityTests {
    static let corpus = ProcessInfo.processInfo.environment["DOGE_PERPLEXITY_CORPUS"]

    @Test(.enabled(if: corpus != nil)) func quantizedPerplexityStaysNearBF16() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let modelDir = repo.appendingPathComponent("Models/doge-tiny")
        let eval = URL(fileURLWithPath: Self.corpus!).appendingPathComponent("eval.jsonl")
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("doge-ppl-cache")
        let tokenizer = try Tokenizer(directory: modelDir)
        let file = try TokenFile.build(source: eval, format: CorpusFormat.detect(eval, textField: "text"), textField: "text",
                                       tokenizer: tokenizer, tokenizerKey: "doge-tiny", cacheDirectory: cache)
        let packed = try PackedCorpus(sources: [file], ratios: [1], blockLength: 256, evalSources: [file], seed: 233)
        var options = TrainingOptions()
        options.maxLength = 256
        options.evalBatchSize = 16
        options.maxSteps = 1
        options.outputDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("doge-ppl-out").path
        var perplexity: [String: Double] = [:]
        for (name, loading) in [("bf16", WeightLoading.inference), ("q8_0", WeightLoading(quantize: .q8_0)),
                                ("q4_0", WeightLoading(quantize: .q4_0))] {
            let model = try DogeForCausalLM(directory: modelDir, loading: loading)
            let trainer = try Trainer(options: options, model: model, corpus: packed, tokenizerDirectory: nil)
            perplexity[name] = exp(try trainer.evaluate()!)
            print(String(format: "doge-tiny eval perplexity %@: %.4f (%d blocks of 256 tokens)", name, perplexity[name]!, packed.evalBlocks.count))
        }
        let base = perplexity["bf16"]!
        #expect(perplexity["q8_0"]! <= base * 1.005, "q8_0 \(perplexity["q8_0"]!) vs bf16 \(base)")
        #expect(perplexity["q4_0"]! <= base * 1.05, "q4_0 \(perplexity["q4_0"]!) vs bf16 \(base)")
    }
}
