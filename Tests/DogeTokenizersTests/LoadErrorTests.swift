import Foundation
import Testing
@testable import DogeTokenizers

/// A file that is not a tokenizer fails at load and the error names the file.
@Suite struct LoadErrorTests {
    static func directory(tokenizerJSON: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("doge-tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try tokenizerJSON.write(to: dir.appendingPathComponent("tokenizer.json"), atomically: true, encoding: .utf8)
        return dir
    }

    @Test func anEmptyObjectIsNotATokenizer() throws {
        let dir = try Self.directory(tokenizerJSON: "{}")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("tokenizer.json").path
        #expect {
            try Tokenizer(directory: dir)
        } throws: { error in
            guard case let .file(file, inner)? = error as? TokenizerError, case .invalidField(path: "model", _) = inner else { return false }
            return file == path && (error as! TokenizerError).description.hasPrefix(path + ": invalid tokenizer field `model`")
        }
    }

    @Test func aModelWithoutTokensIsNotATokenizer() throws {
        let dir = try Self.directory(tokenizerJSON: #"{"model": {"type": "BPE", "vocab": {}, "merges": []}}"#)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect {
            try Tokenizer(directory: dir)
        } throws: { error in
            guard case let .file(_, inner)? = error as? TokenizerError, case .invalidField(path: "model.vocab", _) = inner else { return false }
            return true
        }
    }

    @Test func errorsInsideTheFileNameIt() throws {
        let dir = try Self.directory(tokenizerJSON: #"{"model": {"type": "Unigram"}}"#)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: TokenizerError.file(path: dir.appendingPathComponent("tokenizer.json").path,
                                            .unsupportedType(path: "model.type", type: "Unigram"))) {
            try Tokenizer(directory: dir)
        }
    }
}
