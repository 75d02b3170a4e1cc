import Foundation
import Testing

@testable import DogeJinja

/// Renders every case of every real chat template in `Fixtures/chat-templates` (vendored from the
/// public set described in its README.md) and requires byte equality.
struct ChatTemplateFixtureTests {
    /// `Tests/DogeJinjaTests/Fixtures/chat-templates`, beside this file.
    static let fixturesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/chat-templates")

    static let templateNames: [String] = {
        let dir = fixturesDirectory
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return [] }
        return names.filter {
            FileManager.default.fileExists(atPath: dir.appendingPathComponent($0).appendingPathComponent("cases.json").path)
        }.sorted()
    }()

    /// The parameterized test below runs nothing if the fixtures are missing; this one fails then.
    @Test func fixturesArePresent() throws {
        #expect(Self.templateNames.count == 11, "expected 11 templates in \(Self.fixturesDirectory.path)")
        var cases = 0
        for name in Self.templateNames {
            let url = Self.fixturesDirectory.appendingPathComponent(name).appendingPathComponent("cases.json")
            guard case .array(let list) = try JinjaValue(jsonData: Data(contentsOf: url)) else {
                Issue.record("\(url.path) is not a list")
                continue
            }
            cases += list.count
        }
        #expect(cases == 83, "expected 83 cases in \(Self.fixturesDirectory.path)")
    }

    @Test(arguments: templateNames)
    func rendersAllCases(_ name: String) throws {
        let dir = Self.fixturesDirectory.appendingPathComponent(name)
        let sourceData = try Data(contentsOf: dir.appendingPathComponent("template.jinja"))
        let source = String(decoding: sourceData, as: UTF8.self)
        let cases = try JinjaValue(jsonData: Data(contentsOf: dir.appendingPathComponent("cases.json")))
        guard case .array(let list) = cases else {
            Issue.record("cases.json is not a list")
            return
        }
        #expect(!list.isEmpty)
        for caseValue in list {
            guard case .object(let c) = caseValue, case .string(let caseName)? = c["name"],
                case .object(let contextObject)? = c["context"]
            else {
                Issue.record("malformed case in \(name)")
                continue
            }
            var options = TemplateOptions()
            if case .string(let frozen)? = c["frozen_now"] {
                guard let date = Self.parseNaiveDate(frozen) else {
                    Issue.record("\(name)/\(caseName): frozen_now \(frozen) is not yyyy-MM-ddTHH:mm:ss")
                    continue
                }
                options.now = date
            }
            let template = try Template(source, options: options)
            var context: [String: JinjaValue] = [:]
            for (k, v) in contextObject.entries { context[k.pythonString] = v }

            if case .string(let expected)? = c["expected"] {
                do {
                    let output = try template.render(context)
                    #expect(output == expected, "\(name)/\(caseName)")
                    if output != expected { Self.reportDiff(output, expected, "\(name)/\(caseName)") }
                } catch {
                    Issue.record("\(name)/\(caseName) threw \(error)")
                }
            } else if case .string(let message)? = c["error"] {
                do {
                    let output = try template.render(context)
                    Issue.record("\(name)/\(caseName) should fail but rendered \(output.debugDescription)")
                } catch let error as TemplateError {
                    if c["error_type"] == .string("TemplateError") {
                        #expect(error.kind == .raised, "\(name)/\(caseName)")
                        #expect(error.message == message, "\(name)/\(caseName)")
                    }
                }
            } else {
                Issue.record("case \(name)/\(caseName) has neither expected nor error")
            }
        }
    }

    /// "2024-07-26T00:00:00" as a UTC instant.
    static func parseNaiveDate(_ s: String) -> Date? {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        return f.date(from: s)
    }

    static func reportDiff(_ got: String, _ want: String, _ label: String) {
        let g = Array(got.unicodeScalars), w = Array(want.unicodeScalars)
        var i = 0
        while i < min(g.count, w.count), g[i] == w[i] { i += 1 }
        let lo = max(0, i - 40)
        func snippet(_ a: [Unicode.Scalar]) -> String {
            String(String.UnicodeScalarView(a[lo..<min(a.count, i + 60)])).debugDescription
        }
        Issue.record("\(label): first difference at scalar \(i)\n got: \(snippet(g))\nwant: \(snippet(w))")
    }
}
