import Foundation
import Testing
@testable import DogeTokenizers

/// A tiny byte-level tokenizer.json with pieces swapped in by each test.
func tinyTokenizerJSON(preTokenizer: String = "null", normalizer: String = "null", decoder: String = "null",
                       model: String? = nil) -> Data {
    let model = model ?? #"{"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "<unk>": 3}, "merges": ["a b"], "unk_token": "<unk>"}"#
    return Data("""
        {"version": "1.0", "added_tokens": [{"id": 3, "content": "<unk>", "special": true}],
         "normalizer": \(normalizer), "pre_tokenizer": \(preTokenizer), "post_processor": null,
         "decoder": \(decoder), "model": \(model)}
        """.utf8)
}

@Suite("Bad input")
struct ErrorTests {
    @Test func malformedJSON() {
        #expect(throws: TokenizerError.malformedJSON(file: "tokenizer.json", offset: 10, reason: "unexpected end of input")) {
            try Tokenizer(tokenizerJSONData: Data(#"{"model": "#.utf8))
        }
        #expect {
            try Tokenizer(tokenizerJSONData: Data(#"{"model": {"vocab": {"a": 0,}}}"#.utf8))
        } throws: { error in
            guard case let .malformedJSON(_, offset, _)? = error as? TokenizerError else { return false }
            return offset == 28
        }
    }

    @Test func unknownPreTokenizerNamesPath() {
        let json = tinyTokenizerJSON(preTokenizer: #"{"type": "Sequence", "pretokenizers": [{"type": "Whitespace"}, {"type": "Fancy"}]}"#)
        #expect(throws: TokenizerError.unsupportedType(path: "pre_tokenizer.pretokenizers[1].type", type: "Fancy")) {
            try Tokenizer(tokenizerJSONData: json)
        }
        let error = TokenizerError.unsupportedType(path: "pre_tokenizer.pretokenizers[1].type", type: "Fancy")
        #expect(error.description == #"unsupported type "Fancy" at `pre_tokenizer.pretokenizers[1].type`"#)
    }

    @Test func unknownNormalizerDecoderAndModel() {
        #expect(throws: TokenizerError.unsupportedType(path: "normalizer.normalizers[0].type", type: "Precompiled")) {
            try Tokenizer(tokenizerJSONData: tinyTokenizerJSON(normalizer: #"{"type": "Sequence", "normalizers": [{"type": "Precompiled"}]}"#))
        }
        #expect(throws: TokenizerError.unsupportedType(path: "decoder.type", type: "WordPiece")) {
            try Tokenizer(tokenizerJSONData: tinyTokenizerJSON(decoder: #"{"type": "WordPiece"}"#))
        }
        #expect(throws: TokenizerError.unsupportedType(path: "model.type", type: "Unigram")) {
            try Tokenizer(tokenizerJSONData: tinyTokenizerJSON(model: #"{"type": "Unigram", "vocab": []}"#))
        }
        #expect(throws: TokenizerError.unsupportedType(path: "pre_tokenizer.behavior", type: "Sideways")) {
            try Tokenizer(tokenizerJSONData: tinyTokenizerJSON(preTokenizer: #"{"type": "Split", "pattern": {"String": " "}, "behavior": "Sideways"}"#))
        }
    }

    @Test func wrongFieldTypesNamePath() {
        #expect(throws: TokenizerError.invalidField(path: "model.merges[0]", reason: "expected \"a b\" or [\"a\", \"b\"], found a number")) {
            try Tokenizer(tokenizerJSONData: tinyTokenizerJSON(model: #"{"type": "BPE", "vocab": {"a": 0}, "merges": [7]}"#))
        }
        #expect(throws: TokenizerError.self) {
            try Tokenizer(tokenizerJSONData: tinyTokenizerJSON(model: #"{"type": "BPE", "vocab": {"a": 0}, "merges": [], "unk_token": "<unk>"}"#))
        }
    }

    @Test func badRegex() {
        let json = tinyTokenizerJSON(preTokenizer: #"{"type": "Split", "pattern": {"Regex": "(ab"}, "behavior": "Isolated", "invert": false}"#)
        #expect {
            try Tokenizer(tokenizerJSONData: json)
        } throws: { error in
            guard case .invalidRegex(pattern: "(ab", _)? = error as? TokenizerError else { return false }
            return true
        }
    }

    @Test func invalidUTF8NamesOffset() throws {
        let tokenizer = try Tokenizer(tokenizerJSONData: tinyTokenizerJSON())
        #expect(try tokenizer.encode(bytes: Array("abab".utf8)) == [2, 2])
        #expect(throws: TokenizerError.invalidUTF8(byteOffset: 3)) {
            try tokenizer.encode(bytes: [0x61, 0xC3, 0xA9, 0xFF, 0x62])
        }
        #expect(throws: TokenizerError.invalidUTF8(byteOffset: 0)) {
            try tokenizer.encode(bytes: [0xC3])  // truncated sequence
        }
    }

    @Test func decodeOutOfRange() throws {
        let tokenizer = try Tokenizer(tokenizerJSONData: tinyTokenizerJSON())
        #expect(try tokenizer.decode([2, 0]) == "ab a")
        #expect(throws: TokenizerError.idOutOfRange(id: 4, vocabularySize: 4)) { try tokenizer.decode([0, 4]) }
        #expect(throws: TokenizerError.idOutOfRange(id: -1, vocabularySize: 4)) { try tokenizer.decode([-1]) }
    }

    @Test func missingFile() {
        #expect(throws: TokenizerError.fileNotFound(path: "/nonexistent/tokenizer")) {
            try Tokenizer(directory: URL(fileURLWithPath: "/nonexistent/tokenizer"))
        }
    }
}
