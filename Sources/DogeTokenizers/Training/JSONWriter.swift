import Foundation

/// Writes a `JSONNode` as indented JSON that keeps key order and every string's exact scalars.
/// Arrays of plain values (a merge `["a", "b"]`, a list of ids) stay on one line, so a
/// tokenizer.json has one vocabulary entry or merge per line and diffs well.
enum JSONWriter {
    static func data(_ node: JSONNode) -> Data {
        var out: [UInt8] = []
        write(node, indent: 0, into: &out)
        out.append(0x0A)
        return Data(out)
    }

    private static func write(_ node: JSONNode, indent: Int, into out: inout [UInt8]) {
        switch node {
        case .null: out += Array("null".utf8)
        case let .bool(value): out += Array((value ? "true" : "false").utf8)
        case let .int(value): out += Array(String(value).utf8)
        case let .double(value): out += Array((value.isFinite ? "\(value)" : "null").utf8)
        case let .string(text): writeString(text, into: &out)
        case let .array(items):
            if items.isEmpty {
                out += Array("[]".utf8)
            } else if items.allSatisfy(\.isPlain) {
                out.append(UInt8(ascii: "["))
                for (index, item) in items.enumerated() {
                    if index > 0 { out += [UInt8(ascii: ","), 0x20] }
                    write(item, indent: indent, into: &out)
                }
                out.append(UInt8(ascii: "]"))
            } else {
                out.append(UInt8(ascii: "["))
                for (index, item) in items.enumerated() {
                    out += index > 0 ? [UInt8(ascii: ","), 0x0A] : [0x0A]
                    newlineIndent(indent + 1, into: &out)
                    write(item, indent: indent + 1, into: &out)
                }
                out.append(0x0A)
                newlineIndent(indent, into: &out)
                out.append(UInt8(ascii: "]"))
            }
        case let .object(members):
            if members.isEmpty {
                out += Array("{}".utf8)
                return
            }
            out.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                out += index > 0 ? [UInt8(ascii: ","), 0x0A] : [0x0A]
                newlineIndent(indent + 1, into: &out)
                writeString(member.key, into: &out)
                out += [UInt8(ascii: ":"), 0x20]
                write(member.value, indent: indent + 1, into: &out)
            }
            out.append(0x0A)
            newlineIndent(indent, into: &out)
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func newlineIndent(_ level: Int, into out: inout [UInt8]) {
        out += [UInt8](repeating: 0x20, count: 2 * level)
    }

    /// Escapes what JSON requires (quote, backslash, control characters) and writes everything
    /// else as raw UTF-8, scalar by scalar.
    static func writeString(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x0A: out += [0x5C, UInt8(ascii: "n")]
            case 0x0D: out += [0x5C, UInt8(ascii: "r")]
            case 0x09: out += [0x5C, UInt8(ascii: "t")]
            case 0x08: out += [0x5C, UInt8(ascii: "b")]
            case 0x0C: out += [0x5C, UInt8(ascii: "f")]
            case 0..<0x20:
                out += Array(("\\u00" + String(scalar.value, radix: 16).leftPadded(to: 2)).utf8)
            default:
                out += Array(String(scalar).utf8)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

extension JSONNode {
    /// Not an array or object.
    var isPlain: Bool {
        switch self {
        case .array, .object: false
        default: true
        }
    }

    /// The member `key` of an object node.
    subscript(member key: String) -> JSONNode? {
        guard case let .object(members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// This object with `key` set to `value` (replaced in place, or appended).
    func setting(_ key: String, to value: JSONNode) -> JSONNode {
        guard case var .object(members) = self else { return self }
        if let index = members.firstIndex(where: { $0.key == key }) {
            members[index].value = value
        } else {
            members.append((key, value))
        }
        return .object(members)
    }
}
