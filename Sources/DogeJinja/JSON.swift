import Foundation

// MARK: - Parsing

extension JinjaValue {
    /// Parses JSON keeping object key order and the int/float distinction (`1` → `.int`, `1.0` → `.double`).
    public init(jsonData: Data) throws {
        var parser = JSONParser(bytes: [UInt8](jsonData))
        self = try parser.parseDocument()
    }

    /// Convenience for JSON text.
    public init(jsonString: String) throws {
        try self.init(jsonData: Data(jsonString.utf8))
    }
}

private struct JSONParser {
    let bytes: [UInt8]
    var pos = 0
    var depth = 0
    static let maxDepth = 512

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func parseDocument() throws -> JinjaValue {
        // Skip a UTF-8 byte order mark.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { pos = 3 }
        let v = try parseValue()
        skipSpace()
        guard pos == bytes.count else { throw fail("trailing characters") }
        return v
    }

    func fail(_ msg: String) -> TemplateError {
        TemplateError(.type, "invalid JSON at byte \(pos): \(msg)")
    }

    mutating func skipSpace() {
        while pos < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[pos]) { pos += 1 }
    }

    mutating func parseValue() throws -> JinjaValue {
        skipSpace()
        guard pos < bytes.count else { throw fail("unexpected end") }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return try nested { try $0.parseObject() }
        case UInt8(ascii: "["): return try nested { try $0.parseArray() }
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return try parseNumber()
        }
    }

    mutating func nested(_ body: (inout JSONParser) throws -> JinjaValue) throws -> JinjaValue {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw fail("nesting too deep") }
        return try body(&self)
    }

    mutating func literal(_ word: String) throws {
        let w = Array(word.utf8)
        guard pos + w.count <= bytes.count, Array(bytes[pos..<pos + w.count]) == w else { throw fail("bad literal") }
        pos += w.count
    }

    mutating func parseObject() throws -> JinjaValue {
        pos += 1
        var obj = OrderedObject()
        skipSpace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(obj) }
        while true {
            skipSpace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { throw fail("expected key") }
            let key = try parseString()
            skipSpace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            pos += 1
            obj[key] = try parseValue()
            skipSpace()
            guard pos < bytes.count else { throw fail("unterminated object") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(obj) }
            throw fail("expected ',' or '}'")
        }
    }

    mutating func parseArray() throws -> JinjaValue {
        pos += 1
        var arr: [JinjaValue] = []
        skipSpace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(arr) }
        while true {
            arr.append(try parseValue())
            skipSpace()
            guard pos < bytes.count else { throw fail("unterminated array") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(arr) }
            throw fail("expected ',' or ']'")
        }
    }

    mutating func parseString() throws -> String {
        pos += 1
        var out = [UInt8]()
        while pos < bytes.count {
            let b = bytes[pos]
            if b == UInt8(ascii: "\"") {
                pos += 1
                return String(decoding: out, as: UTF8.self)
            }
            if b == UInt8(ascii: "\\") {
                pos += 1
                guard pos < bytes.count else { break }
                let e = bytes[pos]
                pos += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800..<0xDC00).contains(code), pos + 1 < bytes.count,
                        bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u")
                    {
                        let save = pos
                        pos += 2
                        let low = try hex4()
                        if (0xDC00..<0xE000).contains(low) {
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            pos = save
                        }
                    }
                    let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                default: throw fail("bad escape")
                }
                continue
            }
            out.append(b)
            pos += 1
        }
        throw fail("unterminated string")
    }

    mutating func hex4() throws -> UInt32 {
        guard pos + 4 <= bytes.count,
            let v = UInt32(String(decoding: bytes[pos..<pos + 4], as: UTF8.self), radix: 16)
        else { throw fail("bad \\u escape") }
        pos += 4
        return v
    }

    mutating func parseNumber() throws -> JinjaValue {
        let start = pos
        var isFloat = false
        while pos < bytes.count {
            let b = bytes[pos]
            if b == UInt8(ascii: ".") || b == UInt8(ascii: "e") || b == UInt8(ascii: "E") {
                isFloat = true
            } else if !(b == UInt8(ascii: "-") || b == UInt8(ascii: "+") || (0x30...0x39).contains(b)) {
                break
            }
            pos += 1
        }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self)
        if !isFloat, let i = Int(text) { return .int(i) }
        guard !text.isEmpty, let d = Double(text) else { throw fail("unexpected character") }
        return .double(d)
    }
}

// MARK: - Serialisation (Python json.dumps)

struct JSONOptions {
    var ensureASCII = false
    var indent: String? = nil
    var itemSeparator = ", "
    var keySeparator = ": "
    var sortKeys = false
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
                newline(&out, o, level + 1)
                try v.appendJSON(to: &out, o, level: level + 1)
            }
            newline(&out, o, level)
            out += "]"
        case .object(let obj):
            if obj.isEmpty { out += "{}"; return }
            var pairs: [(String, JinjaValue)] = try obj.entries.map { (try Self.jsonKey($0), $1) }
            if o.sortKeys { pairs.sort { $0.0.unicodeScalars.lexicographicallyPrecedes($1.0.unicodeScalars) } }
            out += "{"
            for (i, (k, v)) in pairs.enumerated() {
                if i > 0 { out += o.itemSeparator }
                newline(&out, o, level + 1)
                appendJSONString(k, to: &out, ascii: o.ensureASCII)
                out += o.keySeparator
                try v.appendJSON(to: &out, o, level: level + 1)
            }
            newline(&out, o, level)
            out += "}"
        case .opaque where markupText != nil:
            appendJSONString(markupText!, to: &out, ascii: o.ensureASCII)
        case .undefined, .opaque:
            throw TemplateError(.type, "Object of type \(typeName) is not JSON serializable")
        }
    }

    private func newline(_ out: inout String, _ o: JSONOptions, _ level: Int) {
        guard let indent = o.indent else { return }
        out += "\n"
        for _ in 0..<level { out += indent }
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
