import Testing
@testable import DogeTokenizers

@Suite("Streaming detokenizer")
struct StreamingTests {
    @Test("streamed pieces join to the full decode and never split a character",
          arguments: ["llama3", "gpt2", "llama2", "metaspace_first", "metaspace_always_fallback", "qwen"])
    func streaming(name: String) throws {
        let tokenizer = try Tokenizer(directory: Fixtures.url(name))
        let texts = ["Hello world, this is a test.", "日本語のテキスト 😀👨‍👩‍👧‍👦 café", "  leading spaces\n\tand tabs", "emoji 👍🏽 end"]
        for text in texts {
            let ids = tokenizer.encode(text, addSpecialTokens: false)
            var stream = StreamingDetokenizer(tokenizer: tokenizer)
            var pieces: [String] = []
            for id in ids { pieces.append(try stream.push(id)) }
            pieces.append(try stream.finish())
            #expect(pieces.joined() == (try tokenizer.decode(ids)), "\(name): \(text.debugDescription)")
            #expect(!pieces.contains { $0.contains("\u{FFFD}") }, "\(name): \(pieces)")
        }
    }

    @Test func waitsForCompleteCharacters() throws {
        let tokenizer = try Tokenizer(directory: Fixtures.url("llama3"))
        let ids = tokenizer.encode("😀", addSpecialTokens: false)
        #expect(ids.count > 1)  // the emoji's four bytes are separate byte-level tokens here
        var stream = StreamingDetokenizer(tokenizer: tokenizer)
        var out: [String] = []
        for id in ids { out.append(try stream.push(id)) }
        #expect(out.dropLast().allSatisfy { $0.isEmpty })
        #expect(out.last == "😀")
    }
}
