import Testing

@testable import DogeJinja

/// A template and the exact output jinja2 produces for it with `RenderCase.context`.
struct RenderCase: Sendable, CustomTestStringConvertible {
    let template: String
    let expected: String

    init(_ template: String, _ expected: String) {
        self.template = template
        self.expected = expected
    }

    var testDescription: String { template.debugDescription }

    /// Shared variables, read through the order-preserving JSON parser (ints stay ints: `2.0` stays a float).
    static let context: [String: JinjaValue] = {
        let json = #"{"d": {"a": 1, "b": [1, 2.0, null, true, "x'y"], "c": {"z": "é\n"}}, "s": "  Hello World  ", "n": null, "l": [3, 1, 2], "words": ["b", "A", "c", "a"], "msgs": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}, {"role": "user", "content": "bye"}], "e": ""}"#
        guard case .object(let o) = try! JinjaValue(jsonString: json) else { return [:] }
        var out: [String: JinjaValue] = [:]
        for (k, v) in o.entries { out[k.pythonString] = v }
        return out
    }()

    func check() throws {
        let output = try Template(template).render(Self.context)
        #expect(output == expected)
    }
}

/// Renders `source` with the default (transformers) options.
func render(_ source: String, _ context: [String: JinjaValue] = [:], options: TemplateOptions = .init()) throws -> String {
    try Template(source, options: options).render(context)
}

/// The error a template throws (parse or render), or nil.
func renderError(_ source: String, _ context: [String: JinjaValue] = [:], options: TemplateOptions = .init()) -> TemplateError? {
    do {
        _ = try render(source, context, options: options)
        return nil
    } catch let e as TemplateError {
        return e
    } catch {
        Issue.record("unexpected error type \(error)")
        return nil
    }
}
