import Foundation
import Testing

@testable import DogeJinja

/// Hostile templates: each must stop with a typed `.limitExceeded` (or `.type`) error that says
/// where in the template it happened, quickly and without exhausting memory or the stack.
@Suite struct SandboxTests {
    /// Runs `source` and returns its error, failing the test if it rendered or took over 60 s
    /// (each takes well under a second in a release build; the bound leaves room for sanitizers
    /// and loaded machines while still catching anything exponential).
    private func hostile(_ source: String, _ context: [String: JinjaValue] = [:], options: TemplateOptions = .init())
        throws -> TemplateError
    {
        let start = Date()
        let e = try #require(renderError(source, context, options: options))
        #expect(Date().timeIntervalSince(start) < 60, "took \(Date().timeIntervalSince(start)) s")
        return e
    }

    @Test(arguments: [
        // (template, line, column of the offending expression or statement)
        ("{{ 'a' * 10**9 }}", 1, 4),
        ("x\n  {{ 'abc' * 9223372036854775807 }}", 2, 6),
        ("{{ [1, 2] * 4611686018427387904 }}", 1, 4),
        ("{{ ('x' * 1000000)|replace('x', 'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy') }}", 1, 20),
        ("{{ ('x' * 1000000).replace('', 'abcdefghijklmnopqrstuvwxyz') }}", 1, 27),
        ("{{ 'x'|center(1000000000) }}", 1, 8),
        ("{{ ('x' + '\\n' * 100000)|indent(1000) }}", 1, 26),
        ("{{ [[[1]]]|tojson(indent=100000000) }}", 1, 12),
        ("{{ '%1000000000d' % 5 }}", 1, 4),
        ("{{ '%.99999999999f' % 5 }}", 1, 4),
        ("{{ range(10)|batch(100000000, 0)|list }}", 1, 14),
    ])
    func growthIsRefusedBeforeAllocating(_ c: (String, Int, Int)) throws {
        let e = try hostile(c.0)
        #expect(e.kind == .limitExceeded, "\(e)")
        #expect(e.line == c.1 && e.column == c.2, "\(e.line ?? -1):\(e.column ?? -1) \(e.message)")
    }

    @Test func sharedBigStringCannotBePrintedAMillionTimes() throws {
        // 10 MB string, a list of 1000 references to it: cheap to hold, 10 GB to print.
        let setup = "{% set s = 'x' * 10000000 %}{% set l = [s] * 1000 %}"
        for use in ["{{ l }}", "{{ l|join(',') }}", "{{ l|tojson }}", "{{ l|string|length }}", "{{ ','.join(l) }}",
            "{{ l ~ '' }}", "{{ '%s' % [l] }}", "{{ raise_exception(l) }}", "{{ l|upper }}"]
        {
            let e = try hostile(setup + use)
            #expect(e.kind == .limitExceeded, "\(use): \(e)")
            #expect(e.line == 1 && e.column != nil, "\(use): \(e)")
        }
    }

    @Test func listDoublingStops() throws {
        let e = try hostile("{% set ns = namespace(l=[1]) %}{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}{% endfor %}")
        #expect(e.kind == .limitExceeded)
        #expect(e.line == 1)
    }

    @Test func mutualMacroRecursionStopsWithTheCallSite() throws {
        let source = """
            {% macro ping(n) %}{{ pong(n) }}{% endmacro %}
            {% macro pong(n) %}{{ ping(n) }}{% endmacro %}
            {{ ping(1) }}
            """
        let e = try hostile(source)
        #expect(e.kind == .limitExceeded)
        #expect(e.message.contains("recursion"))
        #expect(e.line != nil && e.column != nil)
    }

    @Test func callerRecursionStops() throws {
        let source = "{% macro m() %}{{ caller() }}{% endmacro %}{% macro r() %}{% call m() %}{{ r() }}{% endcall %}{% endmacro %}{{ r() }}"
        let e = try hostile(source)
        #expect(e.kind == .limitExceeded)
        #expect(e.line == 1 && e.column != nil)
    }

    @Test func exponentialMacroFanOutHitsTheDeadline() throws {
        // Depth 30, two calls per level: 2^30 calls, each bounded; only the clock stops it.
        var options = TemplateOptions()
        options.limits.maxRenderSeconds = 0.5
        let source = "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(30) }}"
        let e = try hostile(source, options: options)
        #expect(e.kind == .limitExceeded)
        #expect(e.message.contains("seconds"))
        #expect(e.line == 1 && e.column != nil)
    }

    @Test func quadraticLoopHitsTheIterationLimit() throws {
        var options = TemplateOptions()
        options.limits.maxLoopIterations = 50_000
        let e = try hostile("{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}", options: options)
        #expect(e.kind == .limitExceeded)
        #expect(e.line == 1 && e.column == 32)
    }

    @Test(arguments: [
        "{{ " + String(repeating: "a.", count: 20000) + "a }}",
        "{{ " + String(repeating: "1 + ", count: 20000) + "1 }}",
        "{{ " + String(repeating: "x|trim|", count: 20000) + "trim }}",
        "{{ " + String(repeating: "[", count: 20000) + String(repeating: "]", count: 20000) + " }}",
        "{{ " + String(repeating: "not ", count: 20000) + "x }}",
        "{{ " + String(repeating: "- ", count: 20000) + "1 }}",
        "{{ " + String(repeating: "f(", count: 20000) + String(repeating: ")", count: 20000) + " }}",
        "{{ " + String(repeating: "a[", count: 20000) + "0" + String(repeating: "]", count: 20000) + " }}",
        "{% if " + String(repeating: "a and ", count: 20000) + "b %}{% endif %}",
        "\n{% for x in " + String(repeating: "a - ", count: 20000) + "b %}{% endfor %}",
        String(repeating: "{% for x in y %}", count: 5000) + String(repeating: "{% endfor %}", count: 5000),
        String(repeating: "{% macro m() %}", count: 5000) + String(repeating: "{% endmacro %}", count: 5000),
    ])
    func deepSyntaxIsAnErrorNotAStackOverflow(_ source: String) throws {
        let e = try hostile(source)
        #expect(e.kind == .limitExceeded, "\(e)")
        #expect(e.line != nil && e.column != nil)
    }

    @Test func integerEdgeCasesAreErrorsNotTraps() throws {
        #expect(try render("{{ (-1) ** 3 }} {{ (-1) ** 1000000000000 }} {{ 2 ** 62 }} {{ 0 ** 0 }}") == "-1 1 4611686018427387904 1")
        for source in ["{{ 2 ** 64 }}", "{{ -(-9223372036854775807 - 1) }}", "{{ (-9223372036854775807 - 1)|abs }}",
            "{{ '%d' % 1e300 }}", "{{ '%c' % 10**12 }}"]
        {
            let e = try hostile(source)
            #expect(e.kind == .type, "\(source): \(e)")
        }
        #expect(try render("{{ 1e300|int }} {{ range(-4611686018427387904, 4611686018427387904, 4611686018427387904)|list }}")
            == "0 [-4611686018427387904, 0]")
        #expect(renderError("{{ range(-9223372036854775807, 9223372036854775807)|length }}")?.kind == .limitExceeded)
    }

    @Test func ordinaryTemplatesStillRender() throws {
        #expect(try render("{{ 'ab' * 3 }}|{{ [1] * 3 }}|{{ 'a b'|replace(' ', '--') }}|{{ 'x'|center(5) }}|{{ [1,[2]]|tojson(indent=2) }}")
            == "ababab|[1, 1, 1]|a--b|  x  |[\n  1,\n  [\n    2\n  ]\n]")
        #expect(try render("{{ '%5d|%-4s|%.2f' % (42, 'ab', 3.14159) }}") == "   42|ab  |3.14")
    }
}

/// A macro's closure is the scope that holds it and a namespace can hold itself: reference
/// cycles that leaked every such render until the fuzzer's leak check found them.
@Suite struct RenderCycleTests {
    final class Watch: @unchecked Sendable {
        weak var namespace: Namespace?
        weak var macroOwner: JinjaOpaque?
    }

    @Test func macrosAndSelfHoldingNamespacesAreFreedAfterRender() throws {
        let watch = Watch()
        let keep = JinjaValue.function("keep") { args, _ in
            for case .opaque(let o) in args {
                switch o.kind {
                case .namespace(let ns): watch.namespace = ns
                case .macro: watch.macroOwner = o
                default: break
                }
            }
            return .string("")
        }
        let source = """
            {% macro m(x) %}{{ x }}{% endmacro %}{% set ns = namespace(a=1) %}{% set ns.me = ns %}{% set ns.f = m %}\
            {{ keep(ns, m) }}{{ m(ns.a) }}
            """
        #expect(try render(source, ["keep": keep]) == "1")
        #expect(watch.namespace == nil, "the namespace outlived the render")
        #expect(watch.macroOwner == nil, "the macro (and its scope) outlived the render")
    }
}
