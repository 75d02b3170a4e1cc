import Foundation
import Testing

@testable import DogeJinja

@Suite struct ValueTests {
    @Test func jsonKeepsKeyOrderAndNumberKinds() throws {
        let v = try JinjaValue(jsonString: #"{"z": 1, "a": 1.0, "m": [true, null, "x", -2, 1e-05, 3E2], "é": {"k": 0}}"#)
        guard case .object(let o) = v else {
            Issue.record("not an object")
            return
        }
        #expect(o.keys == ["z", "a", "m", "é"])
        #expect(o["z"] == .int(1))
        #expect(o["a"] == .double(1.0))
        #expect(o["m"] == [true, nil, "x", -2, .double(1e-05), .double(300)])
        #expect(try render("{{ v|tojson }}", ["v": v]) == #"{"z": 1, "a": 1.0, "m": [true, null, "x", -2, 1e-05, 300.0], "é": {"k": 0}}"#)
    }

    @Test func jsonStringEscapes() throws {
        let v = try JinjaValue(jsonString: #""a\"b\\c\/d\n\t\u00e9\ud83d\ude00""#)
        #expect(v == .string("a\"b\\c/d\n\té😀"))
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "tru", "\"abc", "1 2", "{\"a\": 01x}"])
    func invalidJSONThrows(_ text: String) {
        #expect(throws: TemplateError.self) { try JinjaValue(jsonString: text) }
    }

    @Test func literalsAndPairsBuildValues() throws {
        let v: JinjaValue = ["role": "user", "n": 2, "f": 0.5, "ok": true, "none": nil, "list": [1, "a"]]
        let pairs = JinjaValue.object([("role", "user"), ("n", 2), ("f", 0.5), ("ok", true), ("none", nil), ("list", [1, "a"])])
        #expect(v == pairs)
        #expect(try render("{{ v }}", ["v": v]) == "{'role': 'user', 'n': 2, 'f': 0.5, 'ok': True, 'none': None, 'list': [1, 'a']}")
    }

    @Test(arguments: [
        (1.0, "1.0"), (0.1, "0.1"), (1e-05, "1e-05"), (1e16, "1e+16"), (1e15, "1000000000000000.0"), (-0.0, "-0.0"),
        (0.30000000000000004, "0.30000000000000004"), (1.5e-10, "1.5e-10"), (123456789012345678.0, "1.2345678901234568e+17"),
        (0.0001, "0.0001"), (1e100, "1e+100"), (2.5, "2.5"), (-3.0, "-3.0"), (Double.infinity, "inf"),
    ])
    func floatsPrintLikePythonRepr(_ value: Double, _ expected: String) {
        #expect(pythonFloatRepr(value) == expected)
    }

    @Test func pythonStrOfContainers() throws {
        let v: JinjaValue = ["it's", "a\"b", "both'\"", "\n", "é", "\u{200B}", 1.0, nil, false]
        #expect(v.pythonString == #"["it's", 'a"b', 'both\'"', '\n', 'é', '\u200b', 1.0, None, False]"#)
    }

    @Test func customFunctionsCanBePassedInTheContext() throws {
        let shout = JinjaValue.function("shout") { args, _ in .string(args.first?.pythonString.uppercased() ?? "") }
        #expect(try render("{{ shout('hi') }}", ["shout": shout]) == "HI")
    }

    @Test func renderTakesAParsedJSONContext() throws {
        let context = try JinjaValue(jsonString: #"{"messages": [{"role": "user", "content": "hi"}], "add_generation_prompt": true}"#)
        guard case .object(let o) = context else {
            Issue.record("not an object")
            return
        }
        #expect(context["messages"]?.stringValue == nil)
        #expect(context["add_generation_prompt"] == .bool(true))
        let template = try Template("{{ messages[0].content }}{% if add_generation_prompt %}!{% endif %}")
        #expect(try template.render(o) == "hi!")
    }

    @Test func contextShadowsGlobals() throws {
        #expect(try render("{{ range }}", ["range": "mine"]) == "mine")
    }

    @Test func templatesAreReusableAndThreadSafe() async throws {
        let template = try Template("{% for m in messages %}{{ m.role }}:{{ m.content }}|{% endfor %}")
        let context: [String: JinjaValue] = ["messages": [["role": "user", "content": "hi"]]]
        try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<8 { group.addTask { try template.render(context) } }
            for try await out in group { #expect(out == "user:hi|") }
        }
    }
}

@Suite struct GlobalsTests {
    static let frozen = Date(timeIntervalSince1970: 1_721_952_000)  // 2024-07-26T00:00:00Z, a Friday

    @Test(arguments: [
        ("%d %b %Y", "26 Jul 2024"), ("%d %B %Y", "26 July 2024"), ("%Y-%m-%d", "2024-07-26"),
        ("%A %a %j %H:%M:%S %p %y %%", "Friday Fri 208 00:00:00 AM 24 %"), ("%-d/%-m", "26/7"),
    ])
    func strftimeNowUsesTheFrozenTime(_ format: String, _ expected: String) throws {
        let options = TemplateOptions(now: Self.frozen)
        #expect(try render("{{ strftime_now('\(format)') }}", options: options) == expected)
    }

    @Test func strftimeNowDefaultsToTheClock() throws {
        let year = Calendar.current.component(.year, from: Date())
        #expect(try render("{{ strftime_now('%Y') }}") == String(year))
    }

    @Test func generationBlockRendersItsBody() throws {
        #expect(try render("{% generation %}gen {{ 1 }}{% endgeneration %}!") == "gen 1!")
    }

    @Test func environmentDefaultsCanBeChanged() throws {
        let options = TemplateOptions(trimBlocks: false, lstripBlocks: false, keepTrailingNewline: true)
        #expect(try render("  {% if true %}\nx\n{% endif %}\n", options: options) == "  \nx\n\n")
        #expect(try render("  {% if true %}\nx\n{% endif %}\n") == "x\n")
    }
}
