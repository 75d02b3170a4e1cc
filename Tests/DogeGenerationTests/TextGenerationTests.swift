import Foundation
import Testing
import DogeModel
import DogeTokenizers
@testable import DogeGeneration

/// End to end through text: a small random model paired with a committed tokenizer fixture.
@Suite struct TextGenerationTests {
    static let tokenizerDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("DogeTokenizersTests/Fixtures/chat/chat_llama3")

    /// A model directory (random weights + the fixture tokenizer) written to a temporary folder.
    static func makeModelDirectory() throws -> URL {
        let tokenizer = try Tokenizer(directory: tokenizerDirectory)
        var config = DogeConfiguration()
        config.vocabSize = tokenizer.vocabularySize
        (config.hiddenSize, config.intermediateSize, config.numHiddenLayers) = (32, 64, 2)
        (config.numAttentionHeads, config.numKeyValueHeads, config.keepWindowSize) = (4, 2, 8)
        config.initializerRange = 0.5   // far from uniform, so greedy text has some shape
        let model = DogeForCausalLM(config: config, seed: 3)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("doge-textgen-\(UUID().uuidString)")
        try model.save(to: dir)
        for file in ["tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.copyItem(at: tokenizerDirectory.appendingPathComponent(file), to: dir.appendingPathComponent(file))
        }
        return dir
    }

    @Test func streamedTextIsTheDecodedTokens() throws {
        let dir = try Self.makeModelDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let generator = try TextGenerator(directory: dir)
        var chunks: [GenerationChunk] = []
        let result = try generator.generate(.text("Once upon a time"), config: .greedy(maxNewTokens: 40), onChunk: { chunks.append($0) })
        #expect(chunks.map(\.text).joined() == result.text)
        #expect(chunks.flatMap(\.tokenIds) == result.tokenIds.filter { !generator.defaults.eosTokenIds.contains($0) })
        let expected = try generator.tokenizer.decode(result.tokenIds, skipSpecialTokens: true)
        #expect(result.text == expected)
        #expect(result.promptTokens == generator.tokenizer.encode("Once upon a time").count)
    }

    @Test func stopStringsCutTheText() throws {
        let dir = try Self.makeModelDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let generator = try TextGenerator(directory: dir)
        let full = try generator.generate(.text("Hello"), config: .greedy(maxNewTokens: 40)).text
        try #require(full.count > 12, "the random model produced too little text: \(full.debugDescription)")
        let stop = String(Array(full)[6..<9])
        var config = GenerationConfig.greedy(maxNewTokens: 40)
        config.stopStrings = [stop]
        var streamed = ""
        let cut = try generator.generate(.text("Hello"), config: config, onChunk: { streamed += $0.text })
        #expect(cut.finishReason == .stopString)
        #expect(cut.text == String(full[..<full.range(of: stop)!.lowerBound]))
        #expect(streamed == cut.text)
    }

    @Test func streamCanBeCancelled() async throws {
        let dir = try Self.makeModelDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let generator = try TextGenerator(directory: dir)
        var received = 0
        for try await _ in generator.stream(.text("Hi"), config: .greedy(maxNewTokens: 10_000)) {
            received += 1
            if received == 3 { break }
        }
        #expect(received == 3)
        // The generator is free again (the cancelled run released it).
        let after = try generator.generate(.text("Hi"), config: .greedy(maxNewTokens: 2))
        #expect(after.tokenIds.count <= 2)
    }

    @Test func chatUsesTheTemplateAndNeedsOne() throws {
        let dir = try Self.makeModelDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let generator = try TextGenerator(directory: dir)
        let ids = try generator.promptIds(.chat([.user("Hi there")]))
        let rendered = try generator.tokenizer.applyChatTemplate(messages: [.object([("role", "user"), ("content", "Hi there")])],
                                                                 addGenerationPrompt: true)
        #expect(ids == generator.tokenizer.encode(rendered, addSpecialTokens: false))

        try FileManager.default.removeItem(at: dir.appendingPathComponent("tokenizer_config.json"))
        let plain = try TextGenerator(directory: dir)
        #expect(throws: GenerationError.self) { try plain.promptIds(.chat([.user("Hi")])) }
        #expect(throws: GenerationError.emptyPrompt) { try plain.promptIds(.ids([])) }
    }

    @Test func stopMatcherHoldsBackPossibleStarts() {
        var m = StopStringMatcher(["</s>"])
        #expect(m.feed("abc<") == ("abc", false))
        #expect(m.feed("/") == ("", false))
        #expect(m.feed("x") == ("</x", false))
        #expect(m.feed("def</s>ghi") == ("def", true))
        var n = StopStringMatcher(["END"])
        #expect(n.feed("the E") == ("the ", false))
        #expect(n.finish("N") == "EN")
    }
}
