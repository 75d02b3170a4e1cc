import Foundation
import Testing

@testable import DogeJinja

@Suite struct ErrorTests {
    @Test func raiseExceptionCarriesTheExactMessage() throws {
        let e = try #require(renderError("{% if true %}\n  {{ raise_exception('Roles must alternate: user/assistant/...') }}{% endif %}"))
        #expect(e.kind == .raised)
        #expect(e.message == "Roles must alternate: user/assistant/...")
        #expect(e.line == 2)
    }

    @Test func raiseExceptionKeepsQuotesAndUnicode() throws {
        let e = try #require(renderError(#"{{ raise_exception("It's \"bad\" — 系统") }}"#))
        #expect(e.kind == .raised)
        #expect(e.message == #"It's "bad" — 系统"#)
    }

    @Test(arguments: [
        ("{% for %}", 1, 8),
        ("{% if x %}", 1, 11),
        ("{{ 1 + }}", 1, 8),
        ("{{ (1 }}", 1, 7),
        ("{% endif %}", 1, 4),
        ("{% foo %}", 1, 4),
        ("{{ x|nofilter }}", 1, 6),
        ("{{ x is notatest }}", 1, 9),
        ("a\n\n  {{ 1 +* 2 }}", 3, 9),
        ("{{ 'unterminated }}", 1, 4),
        ("{# never closed", 1, 1),
        ("{{ x", 1, 1),
        ("{% raw %}never", 1, 1),
        ("{{ ) }}", 1, 4),
        ("{{ [1, 2) }}", 1, 9),
        ("line1\n{% if true %}\n{% for x in y %}\n{% endif %}", 4, 4),
        ("{% macro m(a=1, b) %}{% endmacro %}", 1, 17),
    ])
    func syntaxErrorsReportLineAndColumn(_ source: String, _ line: Int, _ column: Int) throws {
        let e = try #require(renderError(source))
        #expect(e.kind == .syntax, "\(e)")
        #expect(e.line == line, "\(e)")
        #expect(e.column == column, "\(e)")
    }

    @Test func unknownFiltersAreCompileErrorsOutsideConditionals() throws {
        // jinja2 defers the check inside `if` blocks and `x if c else y`, failing only if reached.
        #expect(try render("{% if false %}{{ x|from_json }}{% endif %}ok") == "ok")
        #expect(renderError("{% for x in [1] %}{{ x|from_json }}{% endfor %}")?.kind == .syntax)
        #expect(renderError("{% if true %}{{ x|from_json }}{% endif %}")?.message == "No filter named 'from_json'.")
    }

    @Test func syntaxErrorDescriptionMentionsPosition() throws {
        let e = try #require(renderError("ok\n{{ 1 +* 2 }}"))
        #expect(e.description.contains("line 2, column 7"))
    }

    @Test(arguments: [
        "{{ a.b }}",  // attribute of an undefined variable (jinja2's default Undefined)
        "{{ n.b.c }}",  // None.b is undefined, then .c fails
        "{{ 'a' + missing }}",
        "{{ missing + 1 }}",
        "{{ missing() }}",
        "{{ d.zz() }}",
        "{{ missing < 1 }}",
        "{% if missing.x is defined %}y{% endif %}",
    ])
    func undefinedMisuseIsAnUndefinedError(_ source: String) throws {
        let e = try #require(renderError(source, RenderCase.context))
        #expect(e.kind == .undefined, "\(e)")
    }

    @Test func undefinedErrorMessagesNameTheVariable() throws {
        #expect(renderError("{{ a.b }}")?.message == "'a' is undefined")
        #expect(renderError("{{ 'x' + y }}")?.message == "'y' is undefined")
    }

    @Test(arguments: [
        "{{ 1 + 'a' }}", "{{ 'a' + 1 }}", "{{ [1] + 'a' }}", "{{ 1 / 0 }}", "{{ 1 // 0 }}", "{{ 'a' < 1 }}",
        "{% for x in 5 %}{% endfor %}", "{% for x in n %}{% endfor %}", "{{ 1 in 'abc' }}", "{{ 'a' in 5 }}",
        "{{ missing|tojson }}", "{{ l[1:2:0] }}", "{{ -'a' }}", "{{ none + 1 }}", "{{ ' '.join(['a', 1]) }}",
        "{% set d.x = 1 %}", "{{ 'ab' * 2.5 }}", "{{ [1, 'a']|sort }}", "{{ 1 is divisibleby 0 }}",
        "{% macro m(a, b) %}{% endmacro %}{{ m(1, 2, 3) }}", "{% macro m(a) %}{% endmacro %}{{ m(z=1) }}",
        "{% set a, b = [1, 2, 3] %}", "{{ 9223372036854775807 + 1 }}",
        "{{ l|map('string')|length }}", "{{ l|select|tojson }}", "{{ l|select|last }}",
    ])
    func typeErrors(_ source: String) throws {
        let e = try #require(renderError(source, RenderCase.context))
        #expect(e.kind == .type, "\(e)")
    }

    @Test func runtimeErrorsCarryTheExpressionPosition() throws {
        let e = try #require(renderError("line one\n  {{ 1 + 'a' }}"))
        #expect(e.line == 2)
        #expect(e.column == 6)
    }

    @Test func namespacesRefuseUnderscoreNames() throws {
        // transformers' TemplateNamespace guard.
        #expect(renderError("{% set ns = namespace(_x=1) %}") != nil)
        #expect(renderError("{% set ns = namespace() %}{% set ns._x = 1 %}") != nil)
        #expect(try render("{% set ns = namespace(x_=1) %}{{ ns.x_ }}") == "1")
    }

    @Test func mutatingMethodsDoNotExist() throws {
        // transformers renders in jinja2's immutable sandbox: list.append / dict.update are refused.
        #expect(renderError("{{ l.append(4) }}", RenderCase.context) != nil)
        #expect(renderError("{{ d.update({'z': 1}) }}", RenderCase.context) != nil)
    }
}

@Suite struct LimitTests {
    @Test func runawayLoopStops() throws {
        var options = TemplateOptions()
        options.limits.maxLoopIterations = 10_000
        let e = try #require(renderError(
            "{% for a in range(1000) %}{% for b in range(1000) %}x{% endfor %}{% endfor %}", options: options))
        #expect(e.kind == .limitExceeded)
        #expect(e.line == 1)
    }

    @Test func rangeIsBoundedLikeTheSandbox() throws {
        #expect(renderError("{{ range(1000000)|length }}")?.kind == .limitExceeded)
        #expect(try render("{{ range(100000)|length }}") == "100000")
    }

    @Test func infiniteMacroRecursionStops() throws {
        let e = try #require(renderError("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"))
        #expect(e.kind == .limitExceeded)
    }

    @Test func deepButBoundedRecursionWorks() throws {
        let out = try render("{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% else %}done{% endif %}{% endmacro %}{{ f(50) }}")
        #expect(out == "done")
    }

    @Test func hugeOutputStops() throws {
        var options = TemplateOptions()
        options.limits.maxOutputBytes = 1 << 16
        let e = try #require(renderError("{% for i in range(100000) %}{{ 'abcdefgh' }}{% endfor %}", options: options))
        #expect(e.kind == .limitExceeded)
    }

    @Test func stringDoublingStops() throws {
        var options = TemplateOptions()
        options.limits.maxOutputBytes = 1 << 20
        let source = "{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}"
        #expect(renderError(source, options: options)?.kind == .limitExceeded)
        #expect(renderError("{{ 'x' * 100000000000 }}", options: options)?.kind == .limitExceeded)
    }

    @Test func deeplyNestedExpressionIsAnErrorNotACrash() throws {
        let source = "{{ " + String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000) + " }}"
        let e = try #require(renderError(source))
        #expect(e.kind == .limitExceeded || e.kind == .syntax)
    }

    @Test func deeplyNestedBlocksAreAnErrorNotACrash() throws {
        let source = String(repeating: "{% if true %}", count: 5000) + "x" + String(repeating: "{% endif %}", count: 5000)
        #expect(renderError(source)?.kind == .limitExceeded)
    }

    @Test func deeplyNestedValuesAreAnErrorNotACrash() throws {
        let lists = "{% set ns = namespace(x=[]) %}{% for i in range(100000) %}{% set ns.x = [ns.x] %}{% endfor %}"
        #expect(renderError(lists)?.kind == .limitExceeded)
        let chain = "{% set ns = namespace(x=none) %}{% for i in range(100000) %}{% set ns.x = namespace(p=ns.x) %}{% endfor %}"
        #expect(renderError(chain)?.kind == .limitExceeded)
    }

    @Test func selfContainingNamespacePrintsLikePython() throws {
        let source = "{% set ns = namespace(x=none) %}{% set ns.s = ns %}{% set ns.t = ns %}{{ ns }}"
        #expect(try render(source) == "<Namespace {'x': None, 's': <Namespace {...}>, 't': <Namespace {...}>}>")
    }

    @Test func deeplyNestedJSONIsAnErrorNotACrash() {
        let json = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: TemplateError.self) { try JinjaValue(jsonString: json) }
    }
}
