import Foundation
import XCTest
@testable import DogeEval

/// doge eval against lm-evaluation-harness itself (fixtures: scripts/eval/make_lmeval_fixtures.py,
/// lm-eval's HF backend in float32 on Models/doge-tiny over the hand-written samples): the same
/// contexts and continuations byte for byte, per-choice log-likelihoods within 1e-4, the same
/// greedy flags, predictions, per-document scores and generated answers, 0-shot and 5-shot.
/// Debug builds check the first 3 documents of each task; DOGE_EVAL_PARITY_FULL=1 checks every
/// document and the aggregated metrics and stderrs.
final class LMEvalParityTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    nonisolated(unsafe) static var cachedModel: EvalModel?

    static func model() throws -> EvalModel {
        if let m = cachedModel { return m }
        let m = try EvalModel(directory: root.appendingPathComponent("Models/doge-tiny"))
        cachedModel = m
        return m
    }

    func testZeroShot() throws { try check(shots: 0) }
    func testFiveShot() throws { try check(shots: 5) }

    private func check(shots: Int) throws {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("lmeval_\(shots)shot.json"))
        let top = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let tasks = try XCTUnwrap(top["tasks"] as? [String: Any])
        let full = ProcessInfo.processInfo.environment["DOGE_EVAL_PARITY_FULL"] == "1"
        let library = try TaskLibrary(directories: [Self.root.appendingPathComponent("Tasks")])
        let evaluator = Evaluator(model: try Self.model(), dataDir: Self.fixtures.appendingPathComponent("data"))
        var checked = 0
        for name in tasks.keys.sorted() {
            let expected = tasks[name] as! [String: Any]
            let samples = (expected["samples"] as! [[String: Any]]).sorted { ($0["doc_id"] as! Int) < ($1["doc_id"] as! Int) }
            var options = EvalOptions()
            options.numFewshot = shots
            options.logSamples = true
            options.limit = full ? nil : 3
            options.bootstrapIterations = full ? 100_000 : 0
            let task = try XCTUnwrap(library.tasks[name], name)
            let result = try evaluator.run(task, options: options)
            XCTAssertEqual(result.samples.count, full ? samples.count : min(3, samples.count), name)
            for (ours, theirs) in zip(result.samples, samples) {
                let label = "\(name) \(shots)-shot doc \(ours.docId)"
                XCTAssertEqual(ours.docId, theirs["doc_id"] as? Int, label)
                XCTAssertEqual(ours.arguments, theirs["arguments"] as? [[String]], "\(label): requests")
                if let lls = theirs["loglikelihoods"] as? [Double] {
                    XCTAssertEqual(ours.loglikelihoods.count, lls.count, label)
                    for (a, b) in zip(ours.loglikelihoods, lls) { XCTAssertEqual(a, b, accuracy: 1e-4, "\(label): log-likelihood") }
                }
                if let greedy = theirs["is_greedy"] as? [Bool] { XCTAssertEqual(ours.isGreedy, greedy, "\(label): greedy") }
                if let response = theirs["response"] as? String { XCTAssertEqual(ours.response, response, "\(label): response") }
                for (metric, value) in ours.metrics {
                    guard let v = theirs[metric] as? Double else { continue }
                    if metric == "perplexity" { XCTAssertEqual(value, v, accuracy: 1e-4, "\(label): \(metric)") }
                    else { XCTAssertEqual(value, v, "\(label): \(metric)") }
                }
                checked += 1
            }
            guard full else { continue }
            let metrics = expected["metrics"] as! [String: Any]
            for m in result.metrics {
                let value = try XCTUnwrap(metrics[m.name] as? Double, "\(name) \(m.name)")
                let fromLogLikelihoods = m.name.contains("perplexity") || m.name == "bits_per_byte"
                XCTAssertEqual(m.value, value, accuracy: fromLogLikelihoods ? 1e-5 * max(1, abs(value)) : 1e-9, "\(name) \(m.name)")
                if let se = metrics[m.name + "_stderr"] as? Double {
                    XCTAssertEqual(try XCTUnwrap(m.stderr), se, accuracy: m.name == "perplexity" ? 1e-3 * se : 1e-9, "\(name) \(m.name)_stderr")
                } else {
                    XCTAssertNil(m.stderr, "\(name) \(m.name)_stderr is N/A in lm-eval")
                }
            }
        }
        XCTAssertGreaterThan(checked, 20)
    }
}
