import Foundation
import Testing
@testable import DogeTokenizers

/// tokenizer.json decides the size of the id → token table: absurd ids are errors, not
/// allocations (RELIABILITY.md, "Allocation limits").
@Suite struct TokenizerLimitTests {
    func expectInvalid(_ json: Data, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try Tokenizer(tokenizerJSONData: json)
            Issue.record("loaded", sourceLocation: sourceLocation)
        } catch let e as TokenizerError {
            #expect(!e.description.isEmpty, sourceLocation: sourceLocation)
        } catch {
            Issue.record("not a TokenizerError: \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func hugeVocabularyIdsAreRefused() {
        for id in ["9223372036854775807", "4294967296", "16777217"] {
            expectInvalid(tinyTokenizerJSON(model: #"{"type": "BPE", "vocab": {"a": "# + id + #"}, "merges": []}"#))
        }
    }

    @Test func hugeAddedTokenIdsAreRefused() {
        for id in ["9223372036854775807", "-1", "1e300", "4294967296"] {
            expectInvalid(Data(#"{"added_tokens": [{"id": \#(id), "content": "x"}], "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}"#.utf8))
        }
    }

    @Test func malformedTokenPairsAreErrorsNotTraps() {
        for pp in [#"{"type": "RobertaProcessing", "cls": [], "sep": ["</s>", 2]}"#, #"{"type": "BertProcessing", "cls": ["[CLS]"], "sep": ["[SEP]", 1]}"#] {
            expectInvalid(Data(#"{"post_processor": \#(pp), "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}"#.utf8))
        }
    }

    @Test func largestAllowedIdStillLoads() throws {
        let t = try Tokenizer(tokenizerJSONData: tinyTokenizerJSON(model: #"{"type": "BPE", "vocab": {"a": 0, "b": 16777216}, "merges": []}"#))
        #expect(t.vocabularySize == 16_777_217)
    }
}
