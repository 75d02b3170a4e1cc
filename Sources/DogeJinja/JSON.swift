import DogeJSON
import Foundation

// MARK: - Parsing

extension JinjaValue {
    /// Parses JSON keeping object key order and the int/float distinction (`1` → `.int`, `1.0` → `.double`).
    public init(jsonData: Data) throws {
        try self.init(jsonBytes: jsonData)
    }

    /// Convenience for JSON text.
    public init(jsonString: String) throws {
        try self.init(jsonBytes: jsonString.utf8)
    }

    private init(jsonBytes: some Sequence<UInt8>) throws {
        do throws(JSONParseError) {
            self.init(json: try JSONNode.parse(jsonBytes))
        } catch {
            throw TemplateError(.type, "invalid JSON at byte \(error.offset) (line \(error.line), column \(error.column)): \(error.reason)")
        }
    }

    /// Objects become dicts with Python's rule for a repeated key: the first position, the last value.
    init(json node: JSONNode) {
        switch node {
        case .null: self = .null
        case let .bool(value): self = .bool(value)
        case let .int(value): self = .int(value)
        case let .double(value): self = .double(value)
        case let .string(value): self = .string(value)
        case let .array(items): self = .array(items.map(JinjaValue.init(json:)))
        case let .object(members): self = .object(OrderedObject(members.map { ($0.key, JinjaValue(json: $0.value)) }))
        }
    }
}

// MARK: - Serialisation (Python json.dumps)

struct JSONOptions {
    var ensureASCII = false
    var indent: String? = nil
    var itemSeparator = ", "
    var keySeparator = ": "
    var sortKeys = false
    /// Output limit, checked at each line break (indentation is what can grow it past its input).
    var maxBytes = Int.max
}

extension JinjaValue {
    /// `json.dumps(self, ...)` with Python's formatting rules.
    func pythonJSON(_ options: JSONOptions) throws -> String {
        var out = ""
        try appendJSON(to: &out, options, level: 0)
        return out
    }

    private func appendJSON(to out: inout String, _ o: JSONOptions, level: Int) throws {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            if d.isNaN { out += "NaN" } else if d.isInfinite { out += d < 0 ? "-Infinity" : "Infinity" } else {
                out += pythonFloatRepr(d)
            }
        case .string(let s): appendJSONString(s, to: &out, ascii: o.ensureASCII)
        case .array(let a):
            if a.isEmpty { out += "[]"; return }
            out += "["
            for (i, v) in a.enumerated() {
                if i > 0 { out += o.itemSeparator }
                try newline(&out, o, level + 1)
                try v.appendJSON(to: &out, o, level: level + 1)
            }
            try newline(&out, o, level)
            out += "]"
        case .object(let obj):
            if obj.isEmpty { out += "{}"; return }
            var pairs: [(String, JinjaValue)] = try obj.entries.map { (try Self.jsonKey($0), $1) }
            if o.sortKeys { pairs.sort { $0.0.unicodeScalars.lexicographicallyPrecedes($1.0.unicodeScalars) } }
            out += "{"
            for (i, (k, v)) in pairs.enumerated() {
                if i > 0 { out += o.itemSeparator }
                try newline(&out, o, level + 1)
                appendJSONString(k, to: &out, ascii: o.ensureASCII)
                out += o.keySeparator
                try v.appendJSON(to: &out, o, level: level + 1)
            }
            try newline(&out, o, level)
            out += "}"
        case .opaque where markupText != nil:
            appendJSONString(markupText!, to: &out, ascii: o.ensureASCII)
        case .undefined, .opaque:
            throw TemplateError(.type, "Object of type \(typeName) is not JSON serializable")
        }
    }

    private func newline(_ out: inout String, _ o: JSONOptions, _ level: Int) throws {
        guard let indent = o.indent else { return }
        out += "\n"
        for _ in 0..<level { out += indent }
        if out.utf8.count > o.maxBytes {
            throw TemplateError(.limitExceeded, "tojson output would exceed the output limit of \(o.maxBytes) bytes")
        }
    }

    /// Python converts non-string keys: `True` → "true", `None` → "null", numbers via repr.
    private static func jsonKey(_ k: JinjaValue) throws -> String {
        switch k {
        case .string(let s): return s
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .int(let i): return String(i)
        case .double(let d): return pythonFloatRepr(d)
        default: throw TemplateError(.type, "keys must be str, int, float, bool or None, not \(k.typeName)")
        }
    }
}

private func appendJSONString(_ s: String, to out: inout String, ascii: Bool) {
    out += "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case "\u{08}": out += "\\b"
        case "\u{0C}": out += "\\f"
        default:
            if scalar.value < 0x20 {
                out += "\\u" + hex(scalar.value, width: 4)
            } else if ascii && scalar.value > 0x7E {
                if scalar.value >= 0x10000 {
                    let v = scalar.value - 0x10000
                    out += "\\u" + hex(0xD800 + (v >> 10), width: 4) + "\\u" + hex(0xDC00 + (v & 0x3FF), width: 4)
                } else {
                    out += "\\u" + hex(scalar.value, width: 4)
                }
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    out += "\""
}
