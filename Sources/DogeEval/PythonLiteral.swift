import DogeJinja

/// Python's `ast.literal_eval` for what a rendered template can print: strings (both quotes,
/// escapes, adjacent literals joined), ints, floats, True/False/None, lists, tuples and dicts.
/// lm-eval turns a rendered `doc_to_choice` (e.g. `{{choices.text}}` → `['a', "b's"]`) back into
/// a list this way.
enum PythonLiteral {
    struct ParseError: Error { let message: String }

    static func parse(_ text: String) throws -> JinjaValue {
        var parser = Parser(scalars: Array(text.unicodeScalars))
        parser.skipSpace()
        let value = try parser.value()
        parser.skipSpace()
        guard parser.atEnd else { throw ParseError(message: "unexpected text after the literal at character \(parser.pos)") }
        return value
    }

    private struct Parser {
        let scalars: [Unicode.Scalar]
        var pos = 0

        var atEnd: Bool { pos >= scalars.count }
        var peek: Unicode.Scalar? { atEnd ? nil : scalars[pos] }

        mutating func skipSpace() {
            while let c = peek, c == " " || c == "\t" || c == "\n" || c == "\r" { pos += 1 }
        }

        mutating func expect(_ c: Unicode.Scalar) throws {
            skipSpace()
            guard peek == c else { throw ParseError(message: "expected '\(c)' at character \(pos)") }
            pos += 1
        }

        mutating func value() throws -> JinjaValue {
            skipSpace()
            guard let c = peek else { throw ParseError(message: "unexpected end of the literal") }
            switch c {
            case "[": return .array(try sequence(close: "]"))
            case "(": return .array(try sequence(close: ")"))
            case "{": return try dict()
            case "'", "\"":
                var s = try string()
                // Adjacent literals concatenate: 'a' "b" → 'ab'.
                while true {
                    let save = pos
                    skipSpace()
                    guard let q = peek, q == "'" || q == "\"" else { pos = save; break }
                    s += try string()
                }
                return .string(s)
            default: return try scalar()
            }
        }

        mutating func sequence(close: Unicode.Scalar) throws -> [JinjaValue] {
            pos += 1
            var items: [JinjaValue] = []
            while true {
                skipSpace()
                if peek == close { pos += 1; return items }
                items.append(try value())
                skipSpace()
                if peek == "," { pos += 1; continue }
                try expect(close)
                return items
            }
        }

        mutating func dict() throws -> JinjaValue {
            pos += 1
            var pairs: [(String, JinjaValue)] = []
            while true {
                skipSpace()
                if peek == "}" { pos += 1; return .object(pairs) }
                let key = try value()
                try expect(":")
                pairs.append((key.stringValue ?? "\(key)", try value()))
                skipSpace()
                if peek == "," { pos += 1; continue }
                try expect("}")
                return .object(pairs)
            }
        }

        mutating func scalar() throws -> JinjaValue {
            let start = pos
            while let c = peek, !(c == "," || c == "]" || c == ")" || c == "}" || c == ":" || c == " " || c == "\n") { pos += 1 }
            let word = String(String.UnicodeScalarView(scalars[start..<pos]))
            switch word {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "None": return .null
            default:
                let plain = word.replacingOccurrences(of: "_", with: "")
                if let i = Int(plain) { return .int(i) }
                if let d = Double(plain) { return .double(d) }
                throw ParseError(message: "'\(word)' at character \(start) is not a Python literal")
            }
        }

        mutating func hex(_ count: Int) throws -> Unicode.Scalar {
            guard pos + count <= scalars.count else { throw ParseError(message: "truncated escape at character \(pos)") }
            let digits = String(String.UnicodeScalarView(scalars[pos..<(pos + count)]))
            guard let v = UInt32(digits, radix: 16), let s = Unicode.Scalar(v) else {
                throw ParseError(message: "bad escape \\\(digits) at character \(pos)")
            }
            pos += count
            return s
        }

        mutating func string() throws -> String {
            let quote = scalars[pos]
            pos += 1
            var out = String.UnicodeScalarView()
            while true {
                guard let c = peek else { throw ParseError(message: "unterminated string literal") }
                pos += 1
                if c == quote { return String(out) }
                guard c == "\\" else { out.append(c); continue }
                guard let e = peek else { throw ParseError(message: "unterminated string literal") }
                pos += 1
                switch e {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "a": out.append("\u{07}")
                case "b": out.append("\u{08}")
                case "f": out.append("\u{0C}")
                case "v": out.append("\u{0B}")
                case "x": out.append(try hex(2))
                case "u": out.append(try hex(4))
                case "U": out.append(try hex(8))
                case "\n": break
                case "0"..."7":
                    var v = e.value - 48
                    var n = 1
                    while n < 3, let d = peek, ("0"..."7").contains(d) { v = v * 8 + d.value - 48; pos += 1; n += 1 }
                    out.append(Unicode.Scalar(v)!)
                case "\\", "'", "\"": out.append(e)
                default: out.append("\\"); out.append(e)   // Python keeps unknown escapes
                }
            }
        }
    }
}
