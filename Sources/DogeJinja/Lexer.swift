/// Tokens of a template. Text between tags is `.text`; inside tags come expression tokens.
enum TokenKind: Equatable {
    case text(String)
    case variableBegin, variableEnd
    case blockBegin, blockEnd
    case name(String)
    case string(String)
    case int(Int)
    case float(Double)
    case op(String)
    case eof
}

struct Token {
    let kind: TokenKind
    let loc: SourceLocation
}

/// Splits a template into tokens, applying jinja2's whitespace rules
/// (`-`/`+` markers, `trim_blocks`, `lstrip_blocks`) exactly as jinja2's lexer does.
struct Lexer {
    private let src: [Unicode.Scalar]
    private let options: TemplateOptions
    private var lineStarts: [Int] = [0]
    private var pos = 0
    private var tokens: [Token] = []
    /// jinja2's `line_starting`: the last consumed character was a newline (or nothing was consumed yet).
    private var lineStarting = true

    private static let twoCharOperators: Set<String> = ["//", "**", "==", "!=", "<=", ">="]
    private static let oneCharOperators: Set<Unicode.Scalar> = [
        "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", "<", ">", "=", ".", ":", "|", ",", ";",
    ]

    init(source: String, options: TemplateOptions) {
        // jinja2 normalises every newline style to "\n" and drops one trailing newline.
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(source.unicodeScalars.count)
        var iter = source.unicodeScalars.makeIterator()
        var pendingCR = false
        while let s = iter.next() {
            if pendingCR {
                pendingCR = false
                if s == "\n" { continue }
            }
            if s == "\r" {
                scalars.append("\n")
                pendingCR = true
            } else {
                scalars.append(s)
            }
        }
        if !options.keepTrailingNewline, scalars.last == "\n" { scalars.removeLast() }
        self.src = scalars
        self.options = options
        for (i, s) in scalars.enumerated() where s == "\n" { lineStarts.append(i + 1) }
    }

    func location(_ index: Int) -> SourceLocation {
        // Binary search for the last line start <= index.
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= index { lo = mid } else { hi = mid - 1 }
        }
        return SourceLocation(line: lo + 1, column: index - lineStarts[lo] + 1)
    }

    private func fail(_ msg: String, at index: Int) -> TemplateError {
        TemplateError(.syntax, msg, at: location(index))
    }

    mutating func tokenize() throws -> [Token] {
        while pos < src.count {
            guard let tagStart = nextTagStart(from: pos) else {
                emitText(pos, src.count, at: pos)
                pos = src.count
                break
            }
            let opener = src[tagStart + 1]
            let signIndex = tagStart + 2
            let sign: Unicode.Scalar? = signIndex < src.count && (src[signIndex] == "-" || src[signIndex] == "+")
                ? src[signIndex] : nil
            let rawEnd = opener == "%" ? matchRawBegin(at: tagStart) : nil
            emitText(pos, tagStart, at: pos, sign: sign, isVariable: opener == "{")
            let bodyStart = signIndex + (sign == nil ? 0 : 1)
            if let rawEnd {
                try lexRaw(contentStart: rawEnd, tagStart: tagStart)
            } else if opener == "#" {
                try lexComment(bodyStart: bodyStart, tagStart: tagStart)
            } else {
                try lexTag(isBlock: opener == "%", bodyStart: bodyStart, tagStart: tagStart)
            }
        }
        tokens.append(Token(kind: .eof, loc: location(src.count)))
        return tokens
    }

    /// First `{{`, `{%` or `{#` at or after `from`.
    private func nextTagStart(from: Int) -> Int? {
        var i = from
        while i + 1 < src.count {
            if src[i] == "{", src[i + 1] == "{" || src[i + 1] == "%" || src[i + 1] == "#" { return i }
            i += 1
        }
        return nil
    }

    /// Emits the text in `start..<end`, stripped according to the following tag's sign.
    private mutating func emitText(
        _ start: Int, _ end: Int, at: Int, sign: Unicode.Scalar? = nil, isVariable: Bool = true
    ) {
        var end = end
        if sign == "-" {
            while end > start, isPythonSpace(src[end - 1]) { end -= 1 }
        } else if sign != "+", options.lstripBlocks, !isVariable {
            // lstrip_blocks: drop spaces between the line start and a block/comment tag.
            var lineStart = end
            while lineStart > start, src[lineStart - 1] != "\n" { lineStart -= 1 }
            if (lineStart > start || lineStarting), lineStart < end,
                src[lineStart..<end].allSatisfy({ isPythonSpace($0) })
            {
                end = lineStart
            }
        }
        if end > start {
            tokens.append(Token(kind: .text(makeString(src[start..<end])), loc: location(at)))
        }
    }

    /// `{%[-+]? raw [-]?%}`: returns the index after the tag (jinja2: `-%}\s*` or `%}`, no trim_blocks here).
    private func matchRawBegin(at tagStart: Int) -> Int? {
        var i = tagStart + 2
        if i < src.count, src[i] == "-" || src[i] == "+" { i += 1 }
        while i < src.count, isPythonSpace(src[i]) { i += 1 }
        guard i + 3 <= src.count, makeString(src[i..<i + 3]) == "raw" else { return nil }
        i += 3
        while i < src.count, isPythonSpace(src[i]) { i += 1 }
        if i + 2 < src.count, src[i] == "-", src[i + 1] == "%", src[i + 2] == "}" {
            i += 3
            while i < src.count, isPythonSpace(src[i]) { i += 1 }
            return i
        }
        if i + 1 < src.count, src[i] == "%", src[i + 1] == "}" { return i + 2 }
        return nil
    }

    private mutating func lexRaw(contentStart: Int, tagStart: Int) throws {
        lineStarting = contentStart > 0 && src[contentStart - 1] == "\n"
        var i = contentStart
        while let t = nextTagStart(from: i) {
            i = t + 1
            guard src[t + 1] == "%" else { continue }
            var j = t + 2
            let sign: Unicode.Scalar? = j < src.count && (src[j] == "-" || src[j] == "+") ? src[j] : nil
            if sign != nil { j += 1 }
            while j < src.count, isPythonSpace(src[j]) { j += 1 }
            guard j + 6 <= src.count, makeString(src[j..<j + 6]) == "endraw" else { continue }
            j += 6
            while j < src.count, isPythonSpace(src[j]) { j += 1 }
            guard let end = matchTagEnd(at: j, close: "%") else { continue }
            emitText(contentStart, t, at: contentStart, sign: sign, isVariable: false)
            pos = end
            lineStarting = src[end - 1] == "\n"
            return
        }
        throw fail("Missing end of raw directive", at: tagStart)
    }

    /// Matches `+%}`, `-%}\s*` or `%}\n?` (for blocks/comments) at `i`; returns the index after it.
    private func matchTagEnd(at i: Int, close: Unicode.Scalar) -> Int? {
        func closes(_ k: Int) -> Bool { k + 1 < src.count && src[k] == close && src[k + 1] == "}" }
        if i < src.count, src[i] == "+", closes(i + 1) { return i + 3 }
        if i < src.count, src[i] == "-", closes(i + 1) {
            var k = i + 3
            while k < src.count, isPythonSpace(src[k]) { k += 1 }
            return k
        }
        if closes(i) {
            var k = i + 2
            if options.trimBlocks, k < src.count, src[k] == "\n" { k += 1 }
            return k
        }
        return nil
    }

    private mutating func lexComment(bodyStart: Int, tagStart: Int) throws {
        var i = bodyStart
        while i < src.count {
            if let end = matchTagEnd(at: i, close: "#") {
                pos = end
                lineStarting = src[end - 1] == "\n"
                return
            }
            i += 1
        }
        throw fail("Missing end of comment tag", at: tagStart)
    }

    private mutating func lexTag(isBlock: Bool, bodyStart: Int, tagStart: Int) throws {
        tokens.append(Token(kind: isBlock ? .blockBegin : .variableBegin, loc: location(tagStart)))
        var i = bodyStart
        var brackets: [(Unicode.Scalar, Int)] = []
        while true {
            guard i < src.count else {
                throw fail("unexpected end of template, expected '\(isBlock ? "%}" : "}}")'", at: tagStart)
            }
            if brackets.isEmpty {
                if isBlock, let end = matchTagEnd(at: i, close: "%") {
                    tokens.append(Token(kind: .blockEnd, loc: location(i)))
                    pos = end
                    break
                }
                if !isBlock, let end = matchVariableEnd(at: i) {
                    tokens.append(Token(kind: .variableEnd, loc: location(i)))
                    pos = end
                    break
                }
            }
            let c = src[i]
            if isPythonSpace(c) {
                i += 1
                continue
            }
            let start = i
            let kind: TokenKind
            if c == "'" || c == "\"" {
                (kind, i) = try lexString(at: i)
            } else if Self.isASCIIDigit(c) {
                (kind, i) = lexNumber(at: i)
            } else if Self.isNameStart(c) {
                var j = i + 1
                while j < src.count, Self.isNameContinue(src[j]) { j += 1 }
                kind = .name(makeString(src[i..<j]))
                i = j
            } else if let op = lexOperator(at: i) {
                kind = .op(op)
                i += op.unicodeScalars.count
                switch op {
                case "(", "[", "{": brackets.append((c, start))
                case ")", "]", "}":
                    let expected: Unicode.Scalar = c == ")" ? "(" : c == "]" ? "[" : "{"
                    guard let open = brackets.popLast() else { throw fail("unexpected '\(op)'", at: start) }
                    if open.0 != expected {
                        let want = open.0 == "(" ? ")" : open.0 == "[" ? "]" : "}"
                        throw fail("unexpected '\(op)', expected '\(want)'", at: start)
                    }
                default: break
                }
            } else {
                throw fail("unexpected char '\(Character(c))'", at: i)
            }
            tokens.append(Token(kind: kind, loc: location(start)))
        }
        lineStarting = src[pos - 1] == "\n"
    }

    private func matchVariableEnd(at i: Int) -> Int? {
        if i + 2 < src.count, src[i] == "-", src[i + 1] == "}", src[i + 2] == "}" {
            var k = i + 3
            while k < src.count, isPythonSpace(src[k]) { k += 1 }
            return k
        }
        if i + 1 < src.count, src[i] == "}", src[i + 1] == "}" { return i + 2 }
        return nil
    }

    /// Longest operator at `i` (two-character operators first).
    private func lexOperator(at i: Int) -> String? {
        let c = src[i]
        if i + 1 < src.count {
            let pair = makeString([c, src[i + 1]])
            if Self.twoCharOperators.contains(pair) { return pair }
        }
        return Self.oneCharOperators.contains(c) ? String(c) : nil
    }

    private func isDigit(_ k: Int) -> Bool { k < src.count && Self.isASCIIDigit(src[k]) }

    private static func isASCIIDigit(_ c: Unicode.Scalar) -> Bool { c.value >= 0x30 && c.value <= 0x39 }

    /// Identifiers: ASCII fast path, Unicode identifiers as Python allows them.
    private static func isNameStart(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x41...0x5A, 0x61...0x7A, 0x5F: return true
        case 0..<0x80: return false
        default: return c.properties.isXIDStart
        }
    }

    private static func isNameContinue(_ c: Unicode.Scalar) -> Bool {
        isNameStart(c) || isASCIIDigit(c) || (c.value >= 0x80 && c.properties.isXIDContinue)
    }

    /// Integers and floats (`1`, `1_000`, `1.5`, `1e5`, `2.5e-3`).
    private func lexNumber(at start: Int) -> (TokenKind, Int) {
        var i = start
        func digits() { while isDigit(i) || (i < src.count && src[i] == "_" && isDigit(i + 1)) { i += 1 } }
        digits()
        var isFloat = false
        if i < src.count, src[i] == ".", isDigit(i + 1) {
            isFloat = true
            i += 1
            digits()
        }
        if i < src.count, src[i] == "e" || src[i] == "E" {
            var j = i + 1
            if j < src.count, src[j] == "+" || src[j] == "-" { j += 1 }
            if isDigit(j) {
                isFloat = true
                i = j
                digits()
            }
        }
        let text = makeString(src[start..<i].filter { $0 != "_" })
        if !isFloat, let v = Int(text) { return (.int(v), i) }
        return (.float(Double(text) ?? .infinity), i)
    }

    /// String literal with Python escape processing.
    private func lexString(at start: Int) throws -> (TokenKind, Int) {
        let quote = src[start]
        var i = start + 1
        var out: [Unicode.Scalar] = []
        while i < src.count {
            let c = src[i]
            if c == quote { return (.string(makeString(out)), i + 1) }
            if c == "\\", i + 1 < src.count {
                let e = src[i + 1]
                i += 2
                switch e {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "\\": out.append("\\")
                case "'": out.append("'")
                case "\"": out.append("\"")
                case "a": out.append("\u{07}")
                case "b": out.append("\u{08}")
                case "f": out.append("\u{0C}")
                case "v": out.append("\u{0B}")
                case "0"..."7":
                    var v = e.value - 0x30
                    var n = 1
                    while n < 3, i < src.count, ("0"..."7").contains(src[i]) {
                        v = v * 8 + src[i].value - 0x30
                        i += 1
                        n += 1
                    }
                    out.append(Unicode.Scalar(v) ?? "\u{FFFD}")
                case "x", "u", "U":
                    let width = e == "x" ? 2 : e == "u" ? 4 : 8
                    guard i + width <= src.count,
                        let v = UInt32(makeString(src[i..<i + width]), radix: 16),
                        let s = Unicode.Scalar(v)
                    else { throw fail("truncated \\\(e) escape in string", at: i - 2) }
                    out.append(s)
                    i += width
                case "\n": break  // backslash-newline is a line continuation
                default:
                    out.append("\\")
                    out.append(e)
                }
                continue
            }
            out.append(c)
            i += 1
        }
        throw fail("unterminated string", at: start)
    }
}

/// Builds a String from scalars via UTF-8 (much faster than appending to a UnicodeScalarView).
func makeString<S: Sequence>(_ scalars: S) -> String where S.Element == Unicode.Scalar {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(scalars.underestimatedCount)
    for s in scalars { UTF8.encode(s) { bytes.append($0) } }
    return String(decoding: bytes, as: UTF8.self)
}
