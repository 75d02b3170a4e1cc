import Foundation
import Testing
import DogeModel
import DogeTokenizers
@testable import DogeGeneration

/// min_new_tokens (transformers' MinNewTokensLengthLogitsProcessor) and what a stop string cuts.
@Suite struct GenerationOptionsTests {
    @Test func minNewTokensKeepsEndOfTextAwayUntilThen() throws {
        let dir = try TextGenerationTests.makeModelDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try DogeForCausalLM(directory: dir)
        let generator = TokenGenerator(model: model)
        let prompt = [1, 5, 9]
        // Make the first greedy token the end of text: without min_new_tokens generation stops at once.
        let free = try generator.generate(prompts: [prompt], config: .greedy(maxNewTokens: 8))[0]
        var config = GenerationConfig.greedy(maxNewTokens: 8)
        config.eosTokenIds = [free[0]]
        #expect(try generator.generate(prompts: [prompt], config: config)[0] == [free[0]])
        config.minNewTokens = 5
        var firstStep: [Float] = []
        let held = try generator.generate(prompts: [prompt], config: config) { step in
            if step.index == 0 { firstStep = step.logits[0] }
            return true
        }[0]
        #expect(held.count >= 5)
        #expect(!held.prefix(5).contains(free[0]))
        // The first token is the best one other than end of text (its logit set to -inf, as transformers does).
        var masked = firstStep
        masked[free[0]] = -.infinity
        #expect(held[0] == argmax(masked))
    }

    @Test func minNewTokensIsReadFromGenerationConfig() throws {
        let dir = try TextGenerationTests.makeModelDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try #"{"max_new_tokens": 30, "min_new_tokens": 12}"#.write(to: dir.appendingPathComponent("generation_config.json"),
                                                                   atomically: true, encoding: .utf8)
        let generator = try TextGenerator(directory: dir)
        #expect(generator.defaults.minNewTokens == 12 && generator.defaults.maxNewTokens == 30)
    }

    @Test func aTokenizerLargerThanTheModelFailsAtLoad() throws {
        let tokenizer = try Tokenizer(directory: TextGenerationTests.tokenizerDirectory)
        var config = DogeConfiguration()
        config.vocabSize = tokenizer.vocabularySize - 10
        (config.hiddenSize, config.intermediateSize, config.numHiddenLayers, config.numAttentionHeads, config.numKeyValueHeads) = (16, 32, 1, 2, 1)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("doge-vocab-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try DogeForCausalLM(config: config, seed: 1).save(to: dir)
        for file in ["tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.copyItem(at: TextGenerationTests.tokenizerDirectory.appendingPathComponent(file),
                                             to: dir.appendingPathComponent(file))
        }
        #expect {
            try TextGenerator(directory: dir)
        } throws: { error in
            guard case let .noTokenizer(detail)? = error as? GenerationError else { return false }
            return detail.hasPrefix(dir.appendingPathComponent("tokenizer.json").path) && detail.contains("\(config.vocabSize)")
        }
    }

    @Test func aStopStringCutsIdsAndTextAtTheSamePlace() throws {
        let dir = try TextGenerationTests.makeModelDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let generator = try TextGenerator(directory: dir)
        let full = try generator.generate(.text("Hello"), config: .greedy(maxNewTokens: 40))
        try #require(full.text.count > 12, "the random model produced too little text: \(full.text.debugDescription)")
        for start in [3, 6, 9] {
            let stop = String(Array(full.text)[start..<(start + 2)])
            var config = GenerationConfig.greedy(maxNewTokens: 40)
            config.stopStrings = [stop]
            let cut = try generator.generate(.text("Hello"), config: config)
            #expect(cut.finishReason == .stopString)
            #expect(cut.generatedTokens >= cut.tokenIds.count && cut.tokenIds == Array(full.tokenIds.prefix(cut.tokenIds.count)))
            // The ids stop before the token where the stop string begins: they decode to the text
            // (or, when the stop string begins inside a token, to the text before that token) ...
            let decoded = try generator.tokenizer.decode(cut.tokenIds, skipSpecialTokens: true)
            #expect(cut.text.hasPrefix(decoded), "\(decoded.debugDescription) vs \(cut.text.debugDescription)")
            // ... and one more token would reach into the stop string.
            let more = try generator.tokenizer.decode(Array(full.tokenIds.prefix(cut.tokenIds.count + 1)), skipSpecialTokens: true)
            #expect(!cut.text.hasPrefix(more), "\(more.debugDescription) vs \(cut.text.debugDescription)")
        }
    }
}
