import DogeJSON
import Foundation

/// The shared parser's document node: objects keep their key order and duplicates, numbers keep
/// int vs float, and strings are kept exactly (Swift `String` keys in a `Dictionary` would merge
/// canonically equivalent spellings such as NFC and NFD "é", which are different tokens).
typealias JSONNode = DogeJSON.JSONNode

extension JSONNode {
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
        case let .double(value) where Int(exactly: value) != nil: return Int(value)
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

enum JSONReader {
    /// Parses with DogeJSON, reporting failures as `TokenizerError.malformedJSON` for `file`.
    static func parse(_ data: Data, file: String) throws -> JSONNode {
        do throws(JSONParseError) {
            return try JSONNode.parse(data)
        } catch {
            throw TokenizerError.malformedJSON(file: file, offset: error.offset, reason: error.reason)
        }
    }
}
