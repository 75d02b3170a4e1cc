import Foundation

/// A value seen by a template: JSON-like data plus the runtime-only objects
/// (macros, namespaces, loop state, functions) that templates create.
///
/// `Equatable` is structural (and key-order sensitive for objects, `int(1) != double(1.0)`);
/// the template language itself compares with Python semantics (see `pyEquals`).
public indirect enum JinjaValue: Sendable, Equatable {
    case undefined
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JinjaValue])
    case object(OrderedObject)
    /// Runtime-only values; never produced by JSON, never serialisable.
    case opaque(JinjaOpaque)

    /// Builds an object from key/value pairs, keeping their order (a later duplicate key overwrites the value).
    public static func object(_ pairs: [(String, JinjaValue)]) -> JinjaValue {
        .object(OrderedObject(pairs))
    }

    /// A function the template can call, e.g. a custom global passed in the context.
    public static func function(
        _ name: String,
        _ body: @escaping @Sendable (_ args: [JinjaValue], _ kwargs: [(String, JinjaValue)]) throws -> JinjaValue
    ) -> JinjaValue {
        .opaque(JinjaOpaque(.function(BuiltinFunction(name: name, body: { args, _ in
            try body(args.positional, args.keyword)
        }))))
    }
}

// MARK: - Literal conformances

extension JinjaValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JinjaValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JinjaValue)...) { self = .object(OrderedObject(elements)) }
}

// MARK: - Ordered object

/// An insertion-ordered dictionary. Keys are normally strings (JSON), but template
/// dict literals may use other hashable values (`{0: 1}`), so keys are `JinjaValue`s.
public struct OrderedObject: Sendable, Equatable {
    public private(set) var keys: [JinjaValue] = []
    public private(set) var values: [JinjaValue] = []
    private var index: [HashKey: Int] = [:]

    public init() {}

    public init(_ pairs: [(String, JinjaValue)]) {
        keys.reserveCapacity(pairs.count)
        values.reserveCapacity(pairs.count)
        for (k, v) in pairs { self[k] = v }
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    /// Key/value pairs in insertion order.
    public var entries: Zip2Sequence<[JinjaValue], [JinjaValue]> { zip(keys, values) }

    public subscript(key: String) -> JinjaValue? {
        get { index[.string(key)].map { values[$0] } }
        set { try? set(.string(key), newValue) }
    }

    /// Looks up any hashable key with Python semantics (`1`, `1.0` and `True` are the same key).
    func value(for key: JinjaValue) -> JinjaValue? {
        guard let h = HashKey(key) else { return nil }
        return index[h].map { values[$0] }
    }

    /// Inserts or replaces; fails for unhashable keys (lists, dicts).
    mutating func set(_ key: JinjaValue, _ value: JinjaValue?) throws {
        guard let h = HashKey(key) else {
            throw TemplateError(.type, "unhashable type: '\(key.typeName)'")
        }
        if let i = index[h] {
            if let value {
                values[i] = value
            } else {
                keys.remove(at: i)
                values.remove(at: i)
                index = [:]
                for (j, k) in keys.enumerated() { index[HashKey(k)!] = j }
            }
        } else if let value {
            index[h] = keys.count
            keys.append(key)
            values.append(value)
        }
    }

    public static func == (a: OrderedObject, b: OrderedObject) -> Bool {
        a.keys == b.keys && a.values == b.values
    }
}

/// Python-style dictionary key identity: `True == 1 == 1.0`.
enum HashKey: Hashable {
    case string(String)
    case int(Int)
    case double(Double)
    case null

    init?(_ v: JinjaValue) {
        switch v {
        case .string(let s): self = .string(s)
        case .int(let i): self = .int(i)
        case .bool(let b): self = .int(b ? 1 : 0)
        case .double(let d):
            if let i = Int(exactly: d) { self = .int(i) } else { self = .double(d) }
        case .null: self = .null
        case .opaque:
            guard let s = v.markupText else { return nil }
            self = .string(s)
        default: return nil
        }
    }
}

// MARK: - Runtime objects

/// Reference wrapper for runtime-only values. Namespaces are mutable, so this is a class;
/// it is only ever mutated by the single render call that created it, which is why the
/// `@unchecked Sendable` is sound.
public final class JinjaOpaque: @unchecked Sendable, Equatable {
    enum Kind {
        case namespace(Namespace)
        case function(BuiltinFunction)
        case macro(Macro)
        case loop(LoopState)
        /// markupsafe's `Markup`: text marked safe by `|safe`/`|escape`; `+` with it HTML-escapes plain strings.
        case markup(String)
        /// A one-shot Python generator/iterator (what `map`, `select`, `items`... return in jinja2):
        /// always truthy, has no length, and is used up by the first iteration.
        case iterator(IteratorState)
    }

    let kind: Kind

    init(_ kind: Kind) { self.kind = kind }

    public static func == (a: JinjaOpaque, b: JinjaOpaque) -> Bool { a === b }
}

final class IteratorState {
    let items: [JinjaValue]
    var position = 0

    init(_ items: [JinjaValue]) { self.items = items }

    /// Takes the remaining items (a generator can be iterated only once).
    func drain() -> [JinjaValue] {
        defer { position = items.count }
        return Array(items[position...])
    }

    func next() -> JinjaValue? {
        guard position < items.count else { return nil }
        defer { position += 1 }
        return items[position]
    }
}

/// Mutable attribute bag made by `namespace(...)`.
final class Namespace {
    var attributes = OrderedObject()

    /// transformers' TemplateNamespace refuses underscore-prefixed names (a sandbox-escape guard).
    static func checkName(_ name: String) throws {
        if name.hasPrefix("_") {
            throw TemplateError(
                .type,
                "Chat templates cannot store underscore-prefixed attributes on a namespace, but got '\(name)'. Please rename the attribute.")
        }
    }
}

/// Arguments of a call: positional then keyword, as written.
struct Arguments {
    var positional: [JinjaValue] = []
    var keyword: [(String, JinjaValue)] = []

    /// Binds arguments Python-style to parameter names; missing ones are `nil`.
    func bind(_ names: [String], function: String) throws -> [JinjaValue?] {
        if positional.count > names.count {
            throw TemplateError(.type, "\(function)() takes at most \(names.count) arguments (\(positional.count) given)")
        }
        var out = [JinjaValue?](repeating: nil, count: names.count)
        for (i, v) in positional.enumerated() { out[i] = v }
        for (k, v) in keyword {
            guard let i = names.firstIndex(of: k) else {
                throw TemplateError(.type, "\(function)() got an unexpected keyword argument '\(k)'")
            }
            if out[i] != nil {
                throw TemplateError(.type, "\(function)() got multiple values for argument '\(k)'")
            }
            out[i] = v
        }
        return out
    }
}

struct BuiltinFunction {
    let name: String
    let body: (Arguments, Interpreter) throws -> JinjaValue
}

// MARK: - Basic queries

extension JinjaValue {
    /// Member of an object by string key (nil for non-objects and missing keys).
    public subscript(key: String) -> JinjaValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// The text of a string value.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return markupText
    }

    /// Python truthiness; undefined is falsy.
    public var isTruthy: Bool {
        switch self {
        case .undefined, .null: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .array(let a): return !a.isEmpty
        case .object(let o): return !o.isEmpty
        case .opaque(let o):
            if case .markup(let s) = o.kind { return !s.isEmpty }
            return true
        }
    }

    static func markup(_ s: String) -> JinjaValue { .opaque(JinjaOpaque(.markup(s))) }

    /// The text of a `Markup` value.
    var markupText: String? {
        if case .opaque(let o) = self, case .markup(let s) = o.kind { return s }
        return nil
    }

    /// Markup behaves as a plain `str` everywhere except `+` and printing; this strips the mark.
    var plain: JinjaValue { markupText.map { .string($0) } ?? self }

    var isUndefined: Bool { if case .undefined = self { return true } else { return false } }

    /// Python type name, used in error messages.
    var typeName: String {
        switch self {
        case .undefined: return "Undefined"
        case .null: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .array: return "list"
        case .object: return "dict"
        case .opaque(let o):
            switch o.kind {
            case .namespace: return "Namespace"
            case .function, .macro: return "function"
            case .loop: return "LoopContext"
            case .markup: return "Markup"
            case .iterator: return "generator"
            }
        }
    }

    /// Numeric view (bools count as numbers, as in Python).
    var asDouble: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    var asInt: Int? {
        switch self {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }
}
