import Foundation
import XCTest
@testable import DogeEval

/// `--style lighteval` against lighteval 0.8.1 itself with small-doge's task definitions
/// (fixtures: scripts/eval/make_lighteval_fixtures.py — lighteval's TransformersModel in float32
/// on Models/doge-tiny over the hand-written samples): the same documents in lighteval's shuffled
/// order, the same contexts and continuations, per-choice log-likelihoods within 1e-4, the same
/// greedy flags, generated answers and per-document scores, 0-shot and 5-shot. Debug builds check
/// the first 2 documents of each task; DOGE_EVAL_PARITY_FULL=1 checks every document and the means.
final class LightevalParityTests: XCTestCase {
    func testZeroShot() throws { try check(shots: 0) }
    func testFiveShot() throws { try check(shots: 5) }

    private func check(shots: Int) throws {
        let fixtures = LMEvalParityTests.fixtures
        let data = try Data(contentsOf: fixtures.appendingPathComponent("lighteval_\(shots)shot.json"))
        let top = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let tasks = try XCTUnwrap(top["tasks"] as? [String: Any])
        let full = ProcessInfo.processInfo.environment["DOGE_EVAL_PARITY_FULL"] == "1"
        let library = try TaskLibrary(directories: [LMEvalParityTests.root.appendingPathComponent("Tasks")], style: .lighteval)
        let evaluator = Evaluator(model: try LMEvalParityTests.model(), dataDir: fixtures.appendingPathComponent("data"))
        var checked = 0
        for name in tasks.keys.sorted() {
            let expected = tasks[name] as! [String: Any]
            let samples = (expected["samples"] as! [[String: Any]]).sorted { ($0["position"] as! Int) < ($1["position"] as! Int) }
            // lighteval names LogProbCharNorm(ignore_first_space=True) "acc_norm" too.
            let nospace = (expected["metric_kinds"] as! [String]).contains { $0.hasSuffix("(nospace)") }
            func ours(_ metric: String) -> String { metric == "acc_norm" && nospace ? "acc_norm_nospace" : metric }
            let task = try XCTUnwrap(library.tasks[name], name)
            XCTAssertEqual(task.style, .lighteval, name)
            var options = EvalOptions()
            options.numFewshot = shots
            options.logSamples = true
            options.limit = full ? nil : 2
            let result = try evaluator.run(task, options: options)
            XCTAssertEqual(result.samples.count, full ? samples.count : min(2, samples.count), name)
            for (mine, theirs) in zip(result.samples, samples) {
                let label = "\(name) \(shots)-shot doc \(mine.docId)"
                XCTAssertEqual(mine.docId, theirs["doc_id"] as? Int, "\(label): lighteval's document order")
                let context = try XCTUnwrap(theirs["context"] as? String)
                if let continuations = theirs["continuations"] as? [String] {
                    XCTAssertEqual(mine.arguments, continuations.map { [context, $0] }, "\(label): requests")
                    let lls = try XCTUnwrap(theirs["loglikelihoods"] as? [Double])
                    XCTAssertEqual(mine.loglikelihoods.count, lls.count, label)
                    for (a, b) in zip(mine.loglikelihoods, lls) { XCTAssertEqual(a, b, accuracy: 1e-4, "\(label): log-likelihood") }
                    XCTAssertEqual(mine.isGreedy, theirs["is_greedy"] as? [Bool], "\(label): greedy")
                } else {
                    XCTAssertEqual(mine.arguments, [[context]], "\(label): prompt")
                    XCTAssertEqual(mine.response, theirs["response"] as? String, "\(label): response")
                }
                let scores = try XCTUnwrap(theirs["scores"] as? [String: Double])
                XCTAssertEqual(Set(scores.keys.map(ours)), Set(mine.metrics.map(\.0)), "\(label): metrics")
                for (metric, value) in mine.metrics {
                    XCTAssertEqual(value, scores.first { ours($0.key) == metric }?.value, "\(label): \(metric)")
                }
                checked += 1
            }
            guard full else { continue }
            let means = expected["metrics"] as! [String: Double]
            for (metric, value) in means {
                let m = try XCTUnwrap(result.metrics.first { $0.name == ours(metric) }, "\(name) \(metric)")
                XCTAssertEqual(m.value, value, accuracy: 1e-9, "\(name) \(metric)")
            }
        }
        XCTAssertGreaterThanOrEqual(checked, 18)
    }

    /// A task file's style decides which few-shot selections it may name; errors say which.
    func testStyleAndSamplerErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("doge-lighteval-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func load(_ yaml: String) throws -> TaskLibrary {
            try yaml.write(to: dir.appendingPathComponent("t.yaml"), atomically: true, encoding: .utf8)
            return try TaskLibrary(directories: [dir], style: .lighteval)
        }
        let base = "task: t\noutput_type: multiple_choice\ntest_split: test\ndoc_to_text: q\ndoc_to_choice: c\ndoc_to_target: a\n"
        XCTAssertThrowsError(try load(base + "style: lighteval\nfewshot_config:\n  sampler: first_n\n")) {
            XCTAssertTrue("\($0)".contains("'first_n' is not one of balanced, sequential, random, random_sampling, random_sampling_from_train"), "\($0)")
        }
        XCTAssertThrowsError(try load(base + "style: helm\n")) { XCTAssertTrue("\($0)".contains("field 'style'"), "\($0)") }
        XCTAssertEqual(try load(base + "style: lighteval\n").tasks["t"]?.fewshotSampler, "balanced")
        // An lm-eval library does not see lighteval files; a lighteval one falls back to lm-eval's.
        try (base + "style: lighteval\n").write(to: dir.appendingPathComponent("t.yaml"), atomically: true, encoding: .utf8)
        XCTAssertNil(try TaskLibrary(directories: [dir]).tasks["t"])
        try base.write(to: dir.appendingPathComponent("t.yaml"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try TaskLibrary(directories: [dir], style: .lighteval).tasks["t"]?.style, .lmEval)
    }

    /// lighteval's qem (`ExactMatches(strip_strings=True, normalize_pred=harness_triviaqa_normalizer)`)
    /// and LogProbCharNorm(ignore_first_space=True), on cases the tiny model never produces.
    func testQuasiExactMatchAndNoSpaceNorm() throws {
        var spec = MetricSpec(name: "qem", aggregation: "mean", higherIsBetter: true)
        spec.ignoreCase = true
        spec.ignorePunctuation = true
        XCTAssertTrue(Metrics.quasiExactMatch("  The Sun.\n", "the sun", spec))
        XCTAssertTrue(Metrics.quasiExactMatch(" sugar", " sugar ", spec))       // both stripped
        XCTAssertFalse(Metrics.quasiExactMatch("", "", spec))                   // an empty answer scores 0
        XCTAssertFalse(Metrics.quasiExactMatch("rock-n-roll", "Rock n roll", spec))   // the gold is not normalised
        XCTAssertFalse(Metrics.quasiExactMatch("sugar cane", "sugar", spec))
    }
}
