import Testing

@testable import DogeJinja

/// Each case's expected output was recorded from Python jinja2 3.1.6 (see `JinjaExpectations`).
@Suite struct Jinja2ParityTests {
    @Test(arguments: JinjaExpectations.whitespace) func whitespaceControl(_ c: RenderCase) throws { try c.check() }
    @Test(arguments: JinjaExpectations.expressions) func expressions(_ c: RenderCase) throws { try c.check() }
    @Test(arguments: JinjaExpectations.statements) func statements(_ c: RenderCase) throws { try c.check() }
    @Test(arguments: JinjaExpectations.filters) func filters(_ c: RenderCase) throws { try c.check() }
    @Test(arguments: JinjaExpectations.tests) func tests(_ c: RenderCase) throws { try c.check() }
    @Test(arguments: JinjaExpectations.methods) func methods(_ c: RenderCase) throws { try c.check() }
    @Test(arguments: JinjaExpectations.globals) func globals(_ c: RenderCase) throws { try c.check() }
    /// markupsafe's escaping `+`, and one-shot generators (always truthy, no length).
    @Test(arguments: JinjaExpectations.markupAndGenerators) func pythonObjects(_ c: RenderCase) throws { try c.check() }
}
