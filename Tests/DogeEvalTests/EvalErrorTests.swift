import Foundation
import XCTest
@testable import DogeEval

/// Bad input gets one clear error naming the task, file, line and field (no model needed).
final class EvalErrorTests: XCTestCase {
    static let tasks = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Tasks")
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("doge-eval-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func write(_ path: String, _ text: String) throws {
        let url = dir.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    private func error(_ body: () throws -> Void) -> EvalError? {
        do { try body() } catch let e as EvalError { return e } catch { XCTFail("not an EvalError: \(error)") }
        return nil
    }

    private let arcRow = #"{"id": "x", "question": "Why?", "choices": {"text": ["a", "b"], "label": ["A", "B"]}, "answerKey": "B"}"#

    func testBuiltInTasksLoad() throws {
        let library = try TaskLibrary(directories: [Self.tasks])
        for name in ["arc_easy", "arc_challenge", "piqa", "hellaswag", "openbookqa", "winogrande", "triviaqa", "lambada_openai", "wikitext"] {
            XCTAssertNotNil(library.tasks[name], name)
        }
        let mmlu = try library.select(["mmlu"])
        XCTAssertEqual(mmlu.tasks.count, 57)
        XCTAssertEqual(mmlu.groups.map(\.group.name), ["mmlu", "mmlu_stem", "mmlu_other", "mmlu_social_sciences", "mmlu_humanities"])
        XCTAssertEqual(library.tasks["arc_challenge"]?.datasetName, "ARC-Challenge")
        XCTAssertEqual(library.tasks["mmlu_anatomy"]?.description, "The following are multiple choice questions (with answers) about anatomy.\n\n")
    }

    func testUnknownTask() throws {
        let library = try TaskLibrary(directories: [Self.tasks])
        let e = error { _ = try library.select(["arc_eassy"]) }
        XCTAssertEqual(e?.kind, .unknownTask)
        XCTAssertTrue(e?.message.contains("unknown task 'arc_eassy'") == true && e?.message.contains("arc_easy") == true, e?.message ?? "")
    }

    func testMissingDataFileAndSplit() throws {
        let library = try TaskLibrary(directories: [Self.tasks])
        var e = error { _ = try Evaluator.prepare(library.tasks["arc_easy"]!, dataDir: self.dir, options: EvalOptions()) }
        XCTAssertTrue(e?.message.contains("arc_easy/test.jsonl does not exist") == true, e?.message ?? "")
        try write("arc_easy/test.jsonl", arcRow + "\n")
        var options = EvalOptions()
        options.numFewshot = 2
        e = error { _ = try Evaluator.prepare(library.tasks["arc_easy"]!, dataDir: self.dir, options: options) }
        XCTAssertTrue(e?.message.contains("no train split") == true && e?.message.contains("few-shot") == true, e?.message ?? "")
    }

    func testRowWithoutColumnAndBadJSON() throws {
        let library = try TaskLibrary(directories: [Self.tasks])
        try write("arc_easy/test.jsonl", arcRow + "\n" + #"{"id": "y", "choices": {"text": ["a"], "label": ["A"]}, "answerKey": "A"}"# + "\n")
        var e = error { _ = try Evaluator.prepare(library.tasks["arc_easy"]!, dataDir: self.dir, options: EvalOptions()) }
        let m = e?.message ?? ""
        XCTAssertTrue(m.contains("arc_easy") && m.contains("test.jsonl line 2") && m.contains("doc_to_text") && m.contains("'question' is undefined"), m)
        try write("arc_easy/test.jsonl", arcRow + "\n\n" + "{\"id\": \n")
        e = error { _ = try Evaluator.prepare(library.tasks["arc_easy"]!, dataDir: self.dir, options: EvalOptions()) }
        XCTAssertTrue(e?.message.contains("test.jsonl line 3: not valid JSON") == true, e?.message ?? "")
    }

    func testTemplateErrorNamesFileAndField() throws {
        try write("tasks/mine.yaml", "task: mine\noutput_type: multiple_choice\ntest_split: test\ndoc_to_text: \"Q: {{ question\"\ndoc_to_target: 0\ndoc_to_choice: [\"a\", \"b\"]\n")
        try write("data/mine/test.jsonl", #"{"question": "q"}"# + "\n")
        let library = try TaskLibrary(directories: [dir.appendingPathComponent("tasks")])
        let e = error { _ = try Evaluator.prepare(library.tasks["mine"]!, dataDir: self.dir.appendingPathComponent("data"), options: EvalOptions()) }
        XCTAssertEqual(e?.kind, .template)
        XCTAssertTrue(e?.message.contains("mine.yaml: field 'doc_to_text': template error") == true, e?.message ?? "")
        try write("bad/py.yaml", "task: py\ntest_split: test\nprocess_docs: !function utils.process_docs\n")
        let e2 = error { _ = try TaskLibrary(directories: [dir.appendingPathComponent("bad")]) }
        XCTAssertTrue(e2?.message.contains("field 'process_docs'") == true && e2?.message.contains("Python") == true, e2?.message ?? "")
    }

    func testTooManyFewshotExamples() throws {
        let library = try TaskLibrary(directories: [Self.tasks])
        try write("arc_easy/test.jsonl", arcRow + "\n")
        try write("arc_easy/train.jsonl", arcRow + "\n" + arcRow + "\n")
        var options = EvalOptions()
        options.numFewshot = 5
        let e = error { _ = try Evaluator.prepare(library.tasks["arc_easy"]!, dataDir: self.dir, options: options) }
        XCTAssertEqual(e?.kind, .fewshot)
        XCTAssertTrue(e?.message.contains("need 5 documents") == true && e?.message.contains("train.jsonl has 2") == true, e?.message ?? "")
    }
}
