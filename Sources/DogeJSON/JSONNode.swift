/// A parsed JSON document, kept as written.
///
/// - Objects are an ordered list of members, not a dictionary: key order survives, duplicate keys
///   are all kept (each caller applies its own rule), and keys are compared by their exact
///   scalars. Swift `String` equality is canonical equivalence, so a `[String: …]` would merge NFC
///   and NFD "é", which are different tokens in a tokenizer vocabulary.
/// - Numbers keep int vs float: `1` is `.int`, while `1.0`, `1e3` and integers too big for `Int`
///   are `.double`. `-0` is `.int(0)`.
public enum JSONNode: Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONNode])
    case object([(key: String, value: JSONNode)])
}

extension JSONNode: Equatable {
    /// Structural equality with strings and keys compared scalar by scalar (NFC "é" ≠ NFD "é"),
    /// members in order; `.int(1)` ≠ `.double(1)`.
    public static func == (a: JSONNode, b: JSONNode) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.double(x), .double(y)): return x == y
        case let (.string(x), .string(y)): return x.utf8.elementsEqual(y.utf8)
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count
                && zip(x, y).allSatisfy { $0.key.utf8.elementsEqual($1.key.utf8) && $0.value == $1.value }
        default: return false
        }
    }
}

/// What the parser accepts beyond RFC 8259.
public struct JSONParseOptions: Sendable {
    /// Accept `NaN`, `Infinity` and `-Infinity`, which Python's `json.dumps` writes for
    /// non-finite floats (checkpoint configs can hold them).
    public var allowNonFiniteNumbers: Bool

    public init(allowNonFiniteNumbers: Bool = false) {
        self.allowNonFiniteNumbers = allowNonFiniteNumbers
    }
}

/// Why and where a document failed to parse.
public struct JSONParseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The byte offset into the input (a leading byte order mark counts).
    public var offset: Int
    /// 1-based line; lines end at "\n".
    public var line: Int
    /// 1-based column in Unicode scalars, so it matches an editor for non-ASCII text.
    public var column: Int
    /// What was wrong, e.g. "expected ',' or '}'".
    public var reason: String

    public init(offset: Int, line: Int, column: Int, reason: String) {
        self.offset = offset
        self.line = line
        self.column = column
        self.reason = reason
    }

    public var description: String { "\(reason) at line \(line), column \(column) (byte \(offset))" }
}

extension JSONNode {
    /// The deepest a value may nest: the top-level value is at depth 1, so 512 nested arrays
    /// parse and 513 do not. Bounds the parser's recursion on hostile input.
    public static let maxDepth = 512

    /// Parses one JSON document from UTF-8 bytes (`Data`, `[UInt8]`, `String.UTF8View` …).
    ///
    /// Strict RFC 8259 apart from two things: a leading UTF-8 byte order mark is skipped, and
    /// `\u` escapes naming a lone surrogate decode to U+FFFD (Swift strings cannot hold one).
    /// Strings must be valid UTF-8 without raw control characters; nothing may follow the value
    /// but whitespace.
    public static func parse(_ bytes: some Sequence<UInt8>, options: JSONParseOptions = .init())
        throws(JSONParseError) -> JSONNode
    {
        // Scan contiguous storage in place; copy only sequences that have none.
        let result =
            bytes.withContiguousStorageIfAvailable { JSONScanner.parse($0, options) }
            ?? Array(bytes).withUnsafeBufferPointer { JSONScanner.parse($0, options) }
        return try result.get()
    }
}
