import DogeJSON

/// Reads checkpoint JSON (configs, safetensors headers) with DogeJSON. Unlike JSONDecoder it keeps
/// `1.0` a float and `1` an integer, so a config read and written back keeps the types
/// transformers' strict config classes check.
enum JSONParser {
    static func parse(_ bytes: some Sequence<UInt8>) throws(JSONParseError) -> JSONValue {
        // Python's json.dumps writes NaN and ±Infinity for non-finite floats.
        JSONValue(try JSONNode.parse(bytes, options: JSONParseOptions(allowNonFiniteNumbers: true)))
    }
}

extension JSONValue {
    /// Objects become dictionaries; for a repeated key the last value wins, as in Python's `json`.
    init(_ node: JSONNode) {
        switch node {
        case .null: self = .null
        case let .bool(value): self = .bool(value)
        case let .int(value): self = .int(value)
        case let .double(value): self = .double(value)
        case let .string(value): self = .string(value)
        case let .array(items): self = .array(items.map(JSONValue.init))
        case let .object(members):
            var object: [String: JSONValue] = [:]
            object.reserveCapacity(members.count)
            for (key, value) in members { object[key] = JSONValue(value) }
            self = .object(object)
        }
    }
}
