import Foundation
import XCTest
@testable import DogeEval

/// The fast path (a shared prefix per question, many questions per forward) against the plain
/// one (each request alone over its whole input, as lm-eval's batch size 1).
final class ScorerTests: XCTestCase {
    func testSharedBatchedEqualsOneByOne() throws {
        let lm = try LMEvalParityTests.model()
        let contexts = ["Question: Why is the sky blue?\nAnswer:", "The king said", "A", "Once upon a time, in a small house by the sea, there lived an old man who "]
        let choices = [[" light", " because of the air", " no"], [" nothing", " that the queen had gone away"], [" B", " C", " D", " E"], ["fish", "sang softly", "x"]]
        let groups = try zip(contexts, choices).map { ctx, cs in try cs.map { try lm.encodePair(context: ctx, continuation: $0) } }
        let fast = try lm.scorer.score(groups)
        let plain = LoglikelihoodScorer(model: lm.model, maxLength: lm.maxLength, batchSize: 1)
        plain.shareContext = false
        let slow = try plain.score(groups)
        for (a, b) in zip(fast.joined(), slow.joined()) {
            XCTAssertEqual(a.loglikelihood, b.loglikelihood, accuracy: 1e-5)
            XCTAssertEqual(a.isGreedy, b.isGreedy)
        }
        // Left truncation to the model's length keeps the last max_length + 1 tokens.
        let short = LoglikelihoodScorer(model: lm.model, maxLength: 8, batchSize: 4)
        let long = TokenRequest(context: Array(repeating: 5, count: 20) + [7, 8, 9], continuation: [10, 11])
        let cut = TokenRequest(context: [5, 5, 5, 5, 7, 8, 9], continuation: [10, 11])
        XCTAssertEqual(try short.score([[long]])[0][0].loglikelihood, try short.score([[cut]])[0][0].loglikelihood, accuracy: 1e-6)
    }

    /// Documents sharing a long head (MMLU's five examples) score from one forward over it.
    func testSharedHeadAcrossDocumentsEqualsOneByOne() throws {
        let lm = try LMEvalParityTests.model()
        let head = String(repeating: "The following are questions about the sea and the sky, with answers. ", count: 5)
        let questions = ["Why is the sea salty?", "What colour is the sky at noon?", "Where do rivers go?"]
        let groups = try questions.map { q in try [" A", " B", " because of the wind"].map { try lm.encodePair(context: head + q + "\nAnswer:", continuation: $0) } }
        let fast = LoglikelihoodScorer(model: lm.model, maxLength: lm.maxLength, batchSize: 2)   // two batches
        var prepared: [[TokenRequest]] = groups
        prepared.append(try [" yes", " no"].map { try lm.encodePair(context: "Unrelated: ", continuation: $0) })
        let shared = try fast.score(prepared)
        let plain = LoglikelihoodScorer(model: lm.model, maxLength: lm.maxLength, batchSize: 1)
        plain.shareContext = false
        let slow = try plain.score(prepared)
        for (a, b) in zip(shared.joined(), slow.joined()) {
            XCTAssertEqual(a.loglikelihood, b.loglikelihood, accuracy: 1e-5)
            XCTAssertEqual(a.isGreedy, b.isGreedy)
        }
        XCTAssertGreaterThanOrEqual(groups[0][0].context.count, LoglikelihoodScorer.minimumSharedHead + 20)
    }

    /// Runs of similar length: every row once, longest first, long and short rows apart (padding a
    /// 3-token row to 100 would cost more than another call), similar rows together.
    func testRunsOfSimilarLength() {
        let lengths = [5, 100, 3, 98, 4, 97]
        let runs = LoglikelihoodScorer.runsOfSimilarLength(lengths)
        XCTAssertEqual(runs.joined().sorted(), Array(lengths.indices))
        XCTAssertEqual(runs.map { $0.map { lengths[$0] } }, [[100, 98, 97], [5, 4, 3]])
        XCTAssertEqual(LoglikelihoodScorer.runsOfSimilarLength(Array(repeating: 40, count: 7)).count, 1)
        XCTAssertEqual(LoglikelihoodScorer.runsOfSimilarLength([]), [])
        // Tiny rows are not split off into calls too small to run efficiently.
        XCTAssertEqual(LoglikelihoodScorer.runsOfSimilarLength([6, 2, 1]).count, 1)
    }

    func testEncodePairMovesTrailingSpace() throws {
        let lm = try LMEvalParityTests.model()
        let r = try lm.encodePair(context: "The answer is ", continuation: "yes")
        XCTAssertEqual(r.context, lm.encode("The answer is"))
        XCTAssertEqual(r.context + r.continuation, lm.encode("The answer is yes"))
        let empty = try lm.encodePair(context: "", continuation: " hello")
        XCTAssertEqual(empty.context, [lm.prefixToken])
    }
}
