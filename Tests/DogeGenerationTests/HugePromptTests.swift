import Foundation
import Testing
import DogeModel
import DogeTokenizers
@testable import DogeGeneration

/// A text prompt that cannot fit the model's context is refused before it is encoded, so a
/// 1 GB prompt costs nothing but its own bytes (RELIABILITY.md, "Allocation limits").
@Suite struct HugePromptTests {
    @Test func aPromptLongerThanAnyContextIsRefusedBeforeEncoding() throws {
        let dir = try TextGenerationTests.makeModelDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let generator = try TextGenerator(directory: dir)
        // 64 MB of text for a 2048-position model: encoding it would take ~1.3 GB and minutes
        // in a debug build; the check answers at once.
        let huge = String(repeating: "All work and no play makes Jack a dull boy. ", count: 64 << 20 / 44)
        let start = Date()
        #expect(throws: GenerationError.self) { _ = try generator.promptIds(.text(huge)) }
        #expect(Date().timeIntervalSince(start) < 30)
        // Short prompts still encode.
        #expect(try !generator.promptIds(.text("Hello")).isEmpty)
    }

    @Test func maxTokenBytesBoundsEveryToken() throws {
        let tokenizer = try Tokenizer(directory: TextGenerationTests.tokenizerDirectory)
        let bound = tokenizer.maxTokenBytes
        for id in 0..<tokenizer.vocabularySize {
            if let text = try? tokenizer.decode([id]) { #expect(text.utf8.count <= bound) }
        }
    }
}
