import Foundation

// DogeJinja renders Jinja2 templates the way Hugging Face transformers' `apply_chat_template` does
// (jinja2 3.1 in an immutable sandbox, trim_blocks + lstrip_blocks, loop controls, `{% generation %}`,
// `raise_exception`, `strftime_now`, transformers' `tojson`).
//
// Pipeline: `Lexer` (whitespace rules) → `Parser` (AST) → `Validator` (unknown filters/tests) once per
// `Template`; each `render` runs a fresh `Interpreter` over the immutable AST, so templates are
// parse-once, render-many and safe to share across threads.

/// Rendering options. Defaults are the environment Hugging Face transformers uses for chat templates.
public struct TemplateOptions: Sendable {
    /// Safety limits; exceeding one raises `TemplateError` of kind `.limitExceeded`.
    public struct Limits: Sendable {
        public var maxOutputBytes: Int
        /// Total loop iterations over one render (all loops together).
        public var maxLoopIterations: Int
        /// Nesting depth of macro calls (and of expression nesting when parsing).
        public var maxRecursionDepth: Int
        /// Nesting depth of lists/dicts/namespaces a template may build (deep values would
        /// overflow the stack when printed or freed).
        public var maxValueDepth: Int
        /// Wall-clock budget of one render, checked at every loop iteration and macro call.
        public var maxRenderSeconds: Double

        public init(
            maxOutputBytes: Int = 16 << 20, maxLoopIterations: Int = 1_000_000, maxRecursionDepth: Int = 64,
            maxValueDepth: Int = 512, maxRenderSeconds: Double = 10
        ) {
            self.maxOutputBytes = maxOutputBytes
            self.maxLoopIterations = maxLoopIterations
            self.maxRecursionDepth = maxRecursionDepth
            self.maxValueDepth = maxValueDepth
            self.maxRenderSeconds = maxRenderSeconds
        }
    }

    /// Remove the first newline after a block tag (`%}`).
    public var trimBlocks = true
    /// Strip spaces and tabs before a block tag that starts a line.
    public var lstripBlocks = true
    /// Keep a single trailing newline of the template source.
    public var keepTrailingNewline = false
    /// Frozen "now" for `strftime_now`, formatted as UTC wall-clock time; `nil` uses the current local time.
    public var now: Date? = nil
    public var limits = Limits()

    public init(
        trimBlocks: Bool = true, lstripBlocks: Bool = true, keepTrailingNewline: Bool = false,
        now: Date? = nil, limits: Limits = Limits()
    ) {
        self.trimBlocks = trimBlocks
        self.lstripBlocks = lstripBlocks
        self.keepTrailingNewline = keepTrailingNewline
        self.now = now
        self.limits = limits
    }
}

/// A parsed template: parse once, render many times (rendering is thread-safe).
public struct Template: Sendable {
    let body: [Node]
    public let options: TemplateOptions

    public init(_ source: String, options: TemplateOptions = .init()) throws {
        self.options = options
        var lexer = Lexer(source: source, options: options)
        let tokens = try lexer.tokenize()
        var parser = Parser(tokens: tokens, maxDepth: max(options.limits.maxRecursionDepth, 1) * 4)
        self.body = try parser.parseTemplate()
        try Validator().check(body)
    }

    /// Renders with the given variables (they shadow the built-in globals).
    public func render(_ context: [String: JinjaValue]) throws -> String {
        let interpreter = Interpreter(options: options)
        return try interpreter.render(body, context: context)
    }

    /// Renders with the keys of an object (e.g. a parsed JSON context) as variables.
    public func render(_ context: OrderedObject) throws -> String {
        var variables: [String: JinjaValue] = [:]
        for (k, v) in context.entries { variables[k.pythonString] = v }
        return try render(variables)
    }
}
