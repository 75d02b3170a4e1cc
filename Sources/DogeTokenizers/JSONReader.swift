import Foundation

/// A parsed JSON value. Objects keep their key order, numbers keep int vs float, and strings
/// are kept exactly (Swift `String` keys in a `Dictionary` would merge canonically
/// equivalent spellings such as NFC and NFD "é", which are different tokens).
indirect enum JSONNode: Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONNode])
    case object([(key: String, value: JSONNode)])

    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .int, .double: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// A JSON value together with where it came from, so errors can name `model.merges[3]`.
struct JSONField {
    let node: JSONNode
    let path: String

    init(_ node: JSONNode, path: String) {
        self.node = node
        self.path = path
    }

    var isNull: Bool { if case .null = node { true } else { false } }

    /// The member `key`, or a `null` field when absent.
    subscript(key: String) -> JSONField {
        let childPath = path.isEmpty ? key : "\(path).\(key)"
        if case let .object(members) = node, let member = members.first(where: { $0.key == key }) {
            return JSONField(member.value, path: childPath)
        }
        return JSONField(.null, path: childPath)
    }

    func has(_ key: String) -> Bool {
        if case let .object(members) = node { return members.contains { $0.key == key } }
        return false
    }

    func fail(_ reason: String) -> TokenizerError {
        .invalidField(path: path.isEmpty ? "(root)" : path, reason: reason)
    }

    func string() throws -> String {
        guard case let .string(value) = node else { throw fail("expected a string, found \(node.typeName)") }
        return value
    }

    func optionalString() throws -> String? { isNull ? nil : try string() }

    func int() throws -> Int {
        switch node {
        case let .int(value): return value
        case let .double(value) where value == value.rounded(): return Int(value)
        default: throw fail("expected an integer, found \(node.typeName)")
        }
    }

    func optionalInt() throws -> Int? { isNull ? nil : try int() }

    func double() throws -> Double {
        switch node {
        case let .int(value): return Double(value)
        case let .double(value): return value
        default: throw fail("expected a number, found \(node.typeName)")
        }
    }

    func bool(default fallback: Bool) throws -> Bool {
        switch node {
        case .null: return fallback
        case let .bool(value): return value
        default: throw fail("expected a boolean, found \(node.typeName)")
        }
    }

    func array() throws -> [JSONField] {
        guard case let .array(items) = node else { throw fail("expected an array, found \(node.typeName)") }
        return items.enumerated().map { JSONField($1, path: "\(path)[\($0)]") }
    }

    func members() throws -> [(key: String, value: JSONField)] {
        guard case let .object(members) = node else { throw fail("expected an object, found \(node.typeName)") }
        return members.map { (key: $0.key, value: JSONField($0.value, path: path.isEmpty ? $0.key : "\(path).\($0.key)")) }
    }

    /// The `type` member of a component object such as a normalizer.
    func typeTag() throws -> String {
        guard case .object = node else { throw fail("expected an object, found \(node.typeName)") }
        return try self["type"].string()
    }
}

/// A small strict JSON parser over UTF-8 bytes.
struct JSONReader {
    private let bytes: [UInt8]
    private var index = 0
    private let file: String

    static func parse(_ data: Data, file: String) throws -> JSONNode {
        var reader = JSONReader(bytes: [UInt8](data), file: file)
        if reader.bytes.starts(with: [0xEF, 0xBB, 0xBF]) { reader.index = 3 }  // UTF-8 byte order mark
        reader.skipSpace()
        let value = try reader.value(depth: 0)
        reader.skipSpace()
        if reader.index != reader.bytes.count { throw reader.error("unexpected text after the JSON value") }
        return value
    }

    private init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
    }

    private func error(_ reason: String) -> TokenizerError {
        .malformedJSON(file: file, offset: index, reason: reason)
    }

    private mutating func skipSpace() {
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
            index += 1
        }
    }

    private mutating func expect(_ literal: String, _ result: JSONNode) throws -> JSONNode {
        for byte in literal.utf8 {
            guard index < bytes.count, bytes[index] == byte else { throw error("invalid literal") }
            index += 1
        }
        return result
    }

    private mutating func value(depth: Int) throws -> JSONNode {
        guard depth < 512 else { throw error("nesting too deep") }
        guard index < bytes.count else { throw error("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try expect("true", .bool(true))
        case UInt8(ascii: "f"): return try expect("false", .bool(false))
        case UInt8(ascii: "n"): return try expect("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw error("unexpected character")
        }
    }

    private mutating func object(depth: Int) throws -> JSONNode {
        index += 1
        var members: [(key: String, value: JSONNode)] = []
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let key = try string()
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
            index += 1
            skipSpace()
            members.append((key, try value(depth: depth + 1)))
            skipSpace()
            guard index < bytes.count else { throw error("unterminated object") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
            throw error("expected ',' or '}'")
        }
    }

    private mutating func array(depth: Int) throws -> JSONNode {
        index += 1
        var items: [JSONNode] = []
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(items)
        }
        while true {
            skipSpace()
            items.append(try value(depth: depth + 1))
            skipSpace()
            guard index < bytes.count else { throw error("unterminated array") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
            throw error("expected ',' or ']'")
        }
    }

    private mutating func number() throws -> JSONNode {
        let start = index
        var isFloat = false
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        while index < bytes.count {
            let byte = bytes[index]
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                index += 1
            } else if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
                || ((byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")) && isFloat) {
                isFloat = true
                index += 1
            } else {
                break
            }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if !isFloat, let value = Int(text) { return .int(value) }
        guard let value = Double(text) else {
            index = start
            throw error("invalid number")
        }
        return .double(value)
    }

    private mutating func hex4() throws -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    private mutating func string() throws -> String {
        index += 1
        var out: [UInt8] = []
        var runStart = index
        while true {
            guard index < bytes.count else { throw error("unterminated string") }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                out.append(contentsOf: bytes[runStart..<index])
                index += 1
                break
            }
            if byte < 0x20 { throw error("control character in string") }
            if byte != UInt8(ascii: "\\") {
                index += 1
                continue
            }
            out.append(contentsOf: bytes[runStart..<index])
            index += 1
            guard index < bytes.count else { throw error("unterminated escape") }
            let escape = bytes[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if scalar >= 0xD800 && scalar < 0xDC00, index + 1 < bytes.count,
                   bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                    let save = index
                    index += 2
                    let low = try hex4()
                    if low >= 0xDC00 && low < 0xE000 {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        index = save
                    }
                }
                // A lone surrogate cannot be represented in a Swift string; use U+FFFD like serde's lossy mode.
                out.append(contentsOf: Array(String(Unicode.Scalar(scalar) ?? "\u{FFFD}").utf8))
            default:
                index -= 1
                throw error("invalid escape")
            }
            runStart = index
        }
        guard let text = String(validating: out, as: UTF8.self) else { throw error("string is not valid UTF-8") }
        return text
    }
}
