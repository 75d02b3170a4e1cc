/// Where something is in the template source (1-based line and column, columns count characters).
public struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "line \(line), column \(column)" }
}

/// Any failure to parse or render a template.
public struct TemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// The template source is malformed (also unknown filters/tests, as jinja2 checks those at compile time).
        case syntax
        /// An undefined value was used in a way that needs a value (jinja2's `UndefinedError`).
        case undefined
        /// An operation got values of the wrong type (Python's `TypeError`/`ValueError` and friends).
        case type
        /// The template called `raise_exception(message)`; `message` is exactly the template's text.
        case raised
        /// A safety limit (output size, loop iterations, recursion depth, range size) was hit.
        case limitExceeded
    }

    public var kind: Kind
    /// The human message; for `.raised`, exactly the string the template passed.
    public var message: String
    /// Position in the template source, when known.
    public var location: SourceLocation?

    public init(_ kind: Kind, _ message: String, at location: SourceLocation? = nil) {
        self.kind = kind
        self.message = message
        self.location = location
    }

    public var line: Int? { location?.line }
    public var column: Int? { location?.column }

    public var description: String {
        let place = location.map { " at \($0)" } ?? ""
        return "TemplateError (\(kind.rawValue))\(place): \(message)"
    }

    /// Attaches a location unless a more precise one is already set.
    func located(_ loc: SourceLocation) -> TemplateError {
        guard location == nil else { return self }
        var e = self
        e.location = loc
        return e
    }
}
