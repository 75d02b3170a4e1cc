import Foundation
import XCTest
@testable import DogeEval
import DogeJinja

/// CPython's random.Random reproduced bit for bit (fixture: scripts/eval/make_random_fixture.py).
final class PythonRandomTests: XCTestCase {
    struct Fixture: Decodable {
        struct Draw: Decodable { let n: Int; let k: Int; let sample: [Int] }
        struct Case: Decodable {
            let seed: UInt64
            let draws: [Draw]
            let getrandbits: [String]
            let bits: [Int]
            let random: [Double]
            let choices13x8: [Int]
            let randbelow: [Int]
            let randbelow_n: [Int]
            let shuffles: [[Int]]
        }
        let cases: [Case]
    }

    func testMatchesCPython() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/python_random.json")
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        XCTAssertEqual(fixture.cases.count, 5)
        for c in fixture.cases {
            var r = PythonRandom(seed: c.seed)
            for d in c.draws {
                XCTAssertEqual(r.sampleIndices(populationCount: d.n, k: d.k), d.sample, "seed \(c.seed) sample(range(\(d.n)), \(d.k))")
            }
            for (bits, expected) in zip(c.bits, c.getrandbits) {
                XCTAssertEqual(String(r.getrandbits(bits)), expected, "seed \(c.seed) getrandbits(\(bits))")
            }
            for expected in c.random { XCTAssertEqual(r.random(), expected, "seed \(c.seed) random()") }
            XCTAssertEqual(r.choiceIndices(populationCount: 13, k: 8), c.choices13x8)
            for (n, expected) in zip(c.randbelow_n, c.randbelow) { XCTAssertEqual(r.randbelow(n), expected) }
            for expected in c.shuffles {
                var x = Array(0..<expected.count)
                r.shuffle(&x)
                XCTAssertEqual(x, expected, "seed \(c.seed) shuffle(range(\(expected.count)))")
            }
        }
    }

    func testRollingWindowsMatchLMEval() {
        // lm_eval.utils.get_rolling_token_windows + make_disjoint_window, prefix 0, max length 4.
        let w = EvalModel.rollingWindows(tokens: Array(1...10), prefixToken: 0, maxLength: 4)
        XCTAssertEqual(w, [TokenRequest(context: [0], continuation: [1, 2, 3, 4]), TokenRequest(context: [4], continuation: [5, 6, 7, 8]),
                           TokenRequest(context: [6, 7, 8], continuation: [9, 10])])
        XCTAssertEqual(EvalModel.rollingWindows(tokens: [1, 2, 3], prefixToken: 0, maxLength: 4), [TokenRequest(context: [0], continuation: [1, 2, 3])])
    }

    func testPythonLiteralAndMetrics() throws {
        XCTAssertEqual(try PythonLiteral.parse(#"['a', "b's", 'c\n\u00e9', 3, -1.5, None, True]"#),
                       .array([.string("a"), .string("b's"), .string("c\né"), .int(3), .double(-1.5), .null, .bool(true)]))
        XCTAssertEqual(Metrics.wordCount(" a  b\u{a0}c\n"), 5)   // re.split(r"\s+") keeps the empty ends
        XCTAssertEqual(try PythonRegex.sub(pattern: #"\[.*?\]"#, replacement: "", in: "a [x] b [y]c"), "a  b c")
        XCTAssertEqual(try PythonRegex.sub(pattern: #"{\s*([^}]*?)\s*}"#, replacement: #"{\1}"#, in: "x {  y } z"), "x {y} z")
        XCTAssertEqual(Metrics.pooledStderr([0.1, 0.2], sizes: [10, 30]), 0.1532541748, accuracy: 1e-9)
    }
}

/// Template semantics lm-eval's tasks depend on: Python's list repr read back by literal_eval,
/// code-point string indices, str.capitalize.
final class TemplateSemanticsTests: XCTestCase {
    func testChoicesRoundTripAndCodePointSlices() throws {
        let tricky = ["it's", "say \"hi\"", "both ' and \"", "back\\slash", "tab\tnew\nline", "\u{1}ctl", "é👍🏽", ""]
        let config = try TaskConfig(pairs: [("task", .string("t")), ("test_split", .string("test")), ("output_type", .string("multiple_choice")),
                                            ("doc_to_text", .string("{{ s[:s.index('_')] }}|{{ s[s.index('_') + 1:].strip() }}|{{ c.capitalize() }}")),
                                            ("doc_to_target", .int(0)), ("doc_to_choice", .string("{{ xs }}"))],
                                    file: URL(fileURLWithPath: "/t.yaml"))
        let prompter = try TaskPrompter(config: config, features: ["s", "xs", "c"])
        let doc = Document(fields: OrderedObject([("xs", .array(tricky.map(JinjaValue.string))), ("s", .string("Zoë 👍🏽 and _ went .")),
                                                  ("c", .string("hELLO wORLD"))]),
                           file: URL(fileURLWithPath: "/d.jsonl"), line: 1)
        XCTAssertEqual(try prompter.choices(doc), tricky)
        XCTAssertEqual(try prompter.text(doc), .text("Zoë 👍🏽 and |went .|Hello world"))
    }
}
