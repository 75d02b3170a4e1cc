import Foundation

/// A JSON document as read from config.json and friends: keeps ints apart from floats and
/// lets unknown keys travel through a load/save round trip untouched.
public enum JSONValue: Codable, Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    /// Parses a JSON object from a file, with errors that name the file.
    public static func readObject(at url: URL) throws -> [String: JSONValue] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ModelError.io(path: url.path, detail: "cannot read: \(error.localizedDescription)")
        }
        let value: JSONValue
        do { value = try JSONParser.parse(data) } catch {
            throw ModelError.invalidJSON(file: url.lastPathComponent, detail: "\(error)")
        }
        guard case .object(let object) = value else {
            throw ModelError.invalidJSON(file: url.lastPathComponent, detail: "the top level must be a JSON object")
        }
        return object
    }

    /// Serialises like Python's `json.dumps(indent=2, sort_keys=True)`: floats keep their point
    /// (`0.0`, `1e-06`), since transformers' strict config classes reject `0` for a float field.
    public static func encodeObject(_ object: [String: JSONValue]) throws -> Data {
        var out = ""
        JSONValue.object(object).write(into: &out, indent: 0)
        out += "\n"
        return Data(out.utf8)
    }

    func write(into out: inout String, indent: Int) {
        let pad = String(repeating: " ", count: indent + 2), closePad = String(repeating: " ", count: indent)
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            if d.isNaN { out += "NaN" } else if d.isInfinite { out += d > 0 ? "Infinity" : "-Infinity" }
            else { out += d.description }   // Swift's shortest round-trip form, like Python's repr
        case .string(let s): Self.writeString(s, into: &out)
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += pad
                item.write(into: &out, indent: indent + 2)
                out += i == items.count - 1 ? "\n" : ",\n"
            }
            out += closePad + "]"
        case .object(let o):
            if o.isEmpty { out += "{}"; return }
            out += "{\n"
            for (i, key) in o.keys.sorted().enumerated() {
                out += pad
                Self.writeString(key, into: &out)
                out += ": "
                o[key]!.write(into: &out, indent: indent + 2)
                out += i == o.count - 1 ? "\n" : ",\n"
            }
            out += closePad + "}"
        }
    }

    static func writeString(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }
}
