import XCTest
import Foundation
import DogeTokenizers
@testable import DogePostTraining

/// Bad data gets an error naming file, line and field (or is skipped and counted, where TRL skips).
final class BadInputTests: XCTestCase {
    static let initDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/init")
    var tokenizer: Tokenizer!
    var dir: URL!

    override func setUpWithError() throws {
        tokenizer = try Tokenizer(directory: Self.initDir)
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("doge-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func rows(_ lines: [String]) throws -> [DataRow] {
        let url = dir.appendingPathComponent("data.jsonl")
        try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        return try JSONLines.read(url.path)
    }

    func message<T>(_ body: () throws -> T) -> String {
        do { _ = try body(); return "no error" } catch { return "\(error)" }
    }

    func testMissingColumnNamesFileLineAndField() throws {
        let r = try rows([#"{"prompt": "hi", "completion": "there"}"#, #"{"prompt": "only a prompt"}"#])
        let text = message { try SFTData.examples(rows: r, tokenizer: tokenizer, options: SFTDataOptions(), packing: false) }
        XCTAssertTrue(text.contains("data.jsonl:2") && text.contains("\"completion\"") && text.contains("missing"), text)
        let r2 = try rows([#"{"title": "no usable field"}"#])
        let text2 = message { try SFTData.examples(rows: r2, tokenizer: tokenizer, options: SFTDataOptions(), packing: false) }
        XCTAssertTrue(text2.contains("data.jsonl:1") && text2.contains("\"text\""), text2)
    }

    func testInvalidJSONLine() throws {
        let text = message { try rows([#"{"text": "fine"}"#, #"{"text": "broken"#]) }
        XCTAssertTrue(text.contains("data.jsonl:2") && text.contains("not valid JSON"), text)
    }

    func testAssistantOnlyLossWithoutGenerationBlock() throws {
        let r = try rows([#"{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}"#])
        var o = SFTDataOptions()
        o.assistantOnlyLoss = true
        let text = message { try SFTData.examples(rows: r, tokenizer: tokenizer, options: o, packing: false) }
        XCTAssertTrue(text.contains("assistant_only_loss") && text.contains("{% generation %}"), text)
    }

    func testConversationWithoutAssistantTurnUnderAssistantOnlyLoss() throws {
        let marked = try Tokenizer(directory: Self.initDir.deletingLastPathComponent().appendingPathComponent("tokenizer_generation"))
        var o = SFTDataOptions()
        o.assistantOnlyLoss = true
        let ok = try rows([#"{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}"#])
        let (examples, _) = try SFTData.examples(rows: ok, tokenizer: marked, options: o, packing: false)
        // Only the assistant's content and its <|eot_id|> are targets.
        let targets = examples[0].labels.filter { $0 != -100 }
        XCTAssertEqual(targets, marked.encode("yo", addSpecialTokens: false) + [marked.eosTokenID!])
        let r = try rows([#"{"messages": [{"role": "user", "content": "hi"}]}"#])
        let text = message { try SFTData.examples(rows: r, tokenizer: marked, options: o, packing: false) }
        XCTAssertTrue(text.contains("data.jsonl:1") && text.contains("no assistant"), text)
    }

    func testChosenIdenticalToRejected() throws {
        let r = try rows([#"{"prompt": "q", "chosen": "same", "rejected": "same"}"#])
        let text = message { try DPOData.pairs(rows: r, tokenizer: tokenizer, maxLength: 64) }
        XCTAssertTrue(text.contains("data.jsonl:1") && text.contains("\"rejected\"") && text.contains("identical"), text)
    }

    /// TRL drops what it cannot train on; so does doge, and says how many.
    func testOverlongPromptsAreSkippedAndCounted() throws {
        let long = String(repeating: "the sky is blue and ", count: 20)
        let r = try rows([#"{"prompt": "\#(long)", "completion": "ok"}"#, #"{"prompt": "short", "completion": "fine"}"#])
        var o = SFTDataOptions()
        o.maxLength = 16
        let (examples, dropped) = try SFTData.examples(rows: r, tokenizer: tokenizer, options: o, packing: false)
        XCTAssertEqual(examples.count, 1)
        XCTAssertEqual(dropped, 1)
        let p = try rows([#"{"prompt": "\#(long)", "chosen": "a", "rejected": "b"}"#, #"{"prompt": "q", "chosen": "a", "rejected": "b"}"#])
        let (pairs, droppedPairs) = try DPOData.pairs(rows: p, tokenizer: tokenizer, maxLength: 16)
        XCTAssertEqual(pairs.count, 1)
        XCTAssertEqual(droppedPairs, 1)
    }

    func scored(_ texts: [String]) throws -> [ScoredCompletion] {
        let r = try rows([#"{"prompt": "q", "solution": "4"}"#])
        return texts.map { ScoredCompletion(row: r[0], text: $0, ids: []) }
    }

    func testRewardCommandFailures() throws {
        let batch = try scored(["4", "five"])
        let failing = message { try CommandReward(command: "echo boom >&2; exit 3").rewards(batch) }
        XCTAssertTrue(failing.contains("status 3") && failing.contains("boom"), failing)
        let notNumber = message { try CommandReward(command: "cat >/dev/null; echo 1; echo abc").rewards(batch) }
        XCTAssertTrue(notNumber.contains("line 2") && notNumber.contains("not a number"), notNumber)
        let silent = message { try CommandReward(command: "cat >/dev/null").rewards(batch) }
        XCTAssertTrue(silent.contains("printed 0 lines for 2"), silent)
        // A working command sees the row's columns and the completion.
        let ok = try CommandReward(command: #"python3 -c 'import sys,json; [print(1.0 if json.loads(l)["completion"]==json.loads(l)["solution"] else 0.0) for l in sys.stdin]'"#).rewards(batch)
        XCTAssertEqual(ok.compactMap { $0 }, [1, 0])
    }

    func testBuiltinRewards() throws {
        let batch = try scored(["4", " 4.0 ", "five", "a b c a b c"])
        XCTAssertEqual(try BuiltinReward.accuracy.rewards(batch).compactMap { $0 }, [1, 1, 0, 0])
        XCTAssertEqual(try BuiltinReward.repetitionPenalty.rewards(batch).compactMap { $0 }, [0, 0, 0, -0.25])
        let noSolution = try rows([#"{"prompt": "q"}"#])
        let text = message { try BuiltinReward.accuracy.rewards([ScoredCompletion(row: noSolution[0], text: "x", ids: [])]) }
        XCTAssertTrue(text.contains("\"solution\"") && text.contains("missing"), text)
    }
}
