/// The parser behind `JSONNode.parse`: a recursive descent over the input bytes, borrowed for
/// the length of one call. Plain string runs become `String`s straight from the input (the run
/// is UTF-8-checked while it is scanned), so only strings with escapes are copied.
struct JSONScanner {
    private let bytes: UnsafeBufferPointer<UInt8>
    private let options: JSONParseOptions
    private var index = 0
    /// Reused for every string with escapes, so decoding them does not allocate per string.
    private var scratch: [UInt8] = []

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, _ options: JSONParseOptions) -> Result<JSONNode, JSONParseError> {
        var scanner = JSONScanner(bytes: bytes, options: options)
        do throws(JSONParseError) {
            return .success(try scanner.document())
        } catch {
            return .failure(error)
        }
    }

    private init(bytes: UnsafeBufferPointer<UInt8>, options: JSONParseOptions) {
        self.bytes = bytes
        self.options = options
    }

    private var hasByteOrderMark: Bool { bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF }

    private mutating func document() throws(JSONParseError) -> JSONNode {
        if hasByteOrderMark { index = 3 }
        skipSpace()
        let root = try value(depth: 1)
        skipSpace()
        guard index == bytes.count else { throw error("unexpected text after the JSON value") }
        return root
    }

    // MARK: Errors

    /// An error at `offset` (default: the current byte), with its line and column worked out
    /// only now: the happy path never counts lines.
    private func error(_ reason: String, at offset: Int? = nil) -> JSONParseError {
        let offset = offset ?? index
        var line = 1
        var lineStart = hasByteOrderMark ? min(3, offset) : 0
        for i in lineStart..<offset where bytes[i] == .newline {
            line += 1
            lineStart = i + 1
        }
        var column = 1
        for i in lineStart..<offset where bytes[i] & 0xC0 != 0x80 { column += 1 }  // count scalars, not bytes
        return JSONParseError(offset: offset, line: line, column: column, reason: reason)
    }

    private func unexpectedByte() -> String {
        let byte = bytes[index]
        if byte >= 0x20 && byte < 0x7F { return "unexpected character '\(Character(Unicode.Scalar(byte)))'" }
        return "unexpected byte 0x\(String(byte, radix: 16, uppercase: true))"
    }

    // MARK: Structure

    private mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case .space, .newline, .carriageReturn, .tab: index += 1
            default: return
            }
        }
    }

    /// The value starting at `index` (whitespace already skipped); `depth` counts this value.
    private mutating func value(depth: Int) throws(JSONParseError) -> JSONNode {
        guard index < bytes.count else { throw error("unexpected end of input") }
        guard depth <= JSONNode.maxDepth else { throw error("nesting deeper than \(JSONNode.maxDepth) levels") }
        switch bytes[index] {
        case .quote: return .string(try string())
        case .openBrace: return try object(depth: depth)
        case .openBracket: return try array(depth: depth)
        case .minus, .digit0 ... .digit9: return try number()
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        case UInt8(ascii: "N") where options.allowNonFiniteNumbers: return try literal("NaN", .double(.nan))
        case UInt8(ascii: "I") where options.allowNonFiniteNumbers: return try literal("Infinity", .double(.infinity))
        default: throw error(unexpectedByte())
        }
    }

    private func matches(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        let start = word.utf8Start
        for i in 0..<count where bytes[index + i] != start[i] { return false }
        return true
    }

    private mutating func literal(_ word: StaticString, _ node: JSONNode) throws(JSONParseError) -> JSONNode {
        guard matches(word) else { throw error("invalid literal") }
        index += word.utf8CodeUnitCount
        return node
    }

    private mutating func object(depth: Int) throws(JSONParseError) -> JSONNode {
        index += 1  // "{"
        skipSpace()
        if index < bytes.count, bytes[index] == .closeBrace {
            index += 1
            return .object([])
        }
        var members: [(key: String, value: JSONNode)] = []
        while true {
            guard index < bytes.count else { throw error("unterminated object") }
            guard bytes[index] == .quote else { throw error("expected a string key") }
            let key = try string()
            skipSpace()
            guard index < bytes.count else { throw error("unterminated object") }
            guard bytes[index] == .colon else { throw error("expected ':'") }
            index += 1
            skipSpace()
            members.append((key, try value(depth: depth + 1)))
            skipSpace()
            guard index < bytes.count else { throw error("unterminated object") }
            switch bytes[index] {
            case .comma:
                index += 1
                skipSpace()
            case .closeBrace:
                index += 1
                return .object(members)
            default:
                throw error("expected ',' or '}'")
            }
        }
    }

    private mutating func array(depth: Int) throws(JSONParseError) -> JSONNode {
        index += 1  // "["
        skipSpace()
        if index < bytes.count, bytes[index] == .closeBracket {
            index += 1
            return .array([])
        }
        var items: [JSONNode] = []
        while true {
            items.append(try value(depth: depth + 1))
            skipSpace()
            guard index < bytes.count else { throw error("unterminated array") }
            switch bytes[index] {
            case .comma:
                index += 1
                skipSpace()
            case .closeBracket:
                index += 1
                return .array(items)
            default:
                throw error("expected ',' or ']'")
            }
        }
    }

    // MARK: Numbers

    /// RFC 8259 numbers. An integer literal that fits `Int` is `.int`; anything with a fraction or
    /// exponent, or too big for `Int`, is `.double`, converted by the standard library.
    private mutating func number() throws(JSONParseError) -> JSONNode {
        let start = index
        let negative = bytes[index] == .minus
        if negative {
            index += 1
            if options.allowNonFiniteNumbers && matches("Infinity") {
                index += 8
                return .double(-.infinity)
            }
        }
        guard index < bytes.count, bytes[index].isDigit else {
            throw error(index < bytes.count ? "expected a digit after '-'" : "unexpected end of input")
        }
        var magnitude: UInt64 = 0
        let digitsStart = index
        if bytes[index] == .digit0 {
            index += 1
            if index < bytes.count, bytes[index].isDigit { throw error("leading zeros are not allowed") }
        } else {
            while index < bytes.count, bytes[index].isDigit {
                magnitude = magnitude &* 10 &+ UInt64(bytes[index] &- .digit0)  // exact for up to 18 digits
                index += 1
            }
        }
        let integerDigits = index - digitsStart
        var isFloat = false
        if index < bytes.count, bytes[index] == .dot {
            index += 1
            isFloat = true
            try digits("expected a digit after '.'")
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            isFloat = true
            if index < bytes.count, bytes[index] == .plus || bytes[index] == .minus { index += 1 }
            try digits("expected a digit in the exponent")
        }
        if !isFloat && integerDigits <= 18 {
            return .int(negative ? -Int(magnitude) : Int(magnitude))  // "-0" is .int(0)
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if !isFloat, let value = Int(text) { return .int(value) }  // 19 digits may still fit
        guard let value = Double(text) else { throw error("invalid number", at: start) }
        return .double(value)
    }

    /// One or more digits.
    private mutating func digits(_ reason: String) throws(JSONParseError) {
        guard index < bytes.count, bytes[index].isDigit else {
            throw error(index < bytes.count ? reason : "unexpected end of input")
        }
        repeat { index += 1 } while index < bytes.count && bytes[index].isDigit
    }

    // MARK: Strings

    /// The string whose opening quote is at `index`.
    private mutating func string() throws(JSONParseError) -> String {
        index += 1
        var runStart = index
        var escaped = false  // whether `scratch` holds the text before `runStart`
        while index < bytes.count {
            let byte = bytes[index]
            if byte == .quote {
                let run = UnsafeBufferPointer(rebasing: bytes[runStart..<index])
                index += 1
                guard escaped else { return String(decoding: run, as: UTF8.self) }
                scratch.append(contentsOf: run)
                return String(decoding: scratch, as: UTF8.self)
            } else if byte == .backslash {
                if !escaped {
                    scratch.removeAll(keepingCapacity: true)
                    escaped = true
                }
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                try escape()
                runStart = index
            } else if byte >= 0x80 {
                try skipMultiByteScalar()
            } else if byte < 0x20 {
                throw error("control character in string")
            } else {
                index += 1
            }
        }
        throw error("unterminated string")
    }

    /// Steps over one well-formed multi-byte UTF-8 sequence (no overlongs, surrogates or values
    /// past U+10FFFF), so `String(decoding:)` never has to repair what we hand it.
    private mutating func skipMultiByteScalar() throws(JSONParseError) {
        let length: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF  // allowed range of the second byte
        switch bytes[index] {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xED: length = 3; high = 0x9F
        case 0xE1...0xEF: length = 3
        case 0xF0: length = 4; low = 0x90
        case 0xF4: length = 4; high = 0x8F
        case 0xF1...0xF3: length = 4
        default: throw error("invalid UTF-8 in string")
        }
        guard index + length <= bytes.count, (low...high).contains(bytes[index + 1]) else {
            throw error("invalid UTF-8 in string")
        }
        for i in 2..<length where bytes[index + i] & 0xC0 != 0x80 { throw error("invalid UTF-8 in string") }
        index += length
    }

    /// Decodes the escape whose backslash is at `index` into `scratch`.
    private mutating func escape() throws(JSONParseError) {
        index += 1
        guard index < bytes.count else { throw error("unterminated string") }
        let decoded: UInt8
        switch bytes[index] {
        case .quote, .backslash, .slash: decoded = bytes[index]
        case UInt8(ascii: "b"): decoded = 0x08
        case UInt8(ascii: "f"): decoded = 0x0C
        case UInt8(ascii: "n"): decoded = 0x0A
        case UInt8(ascii: "r"): decoded = 0x0D
        case UInt8(ascii: "t"): decoded = 0x09
        case UInt8(ascii: "u"):
            index += 1
            appendUTF8(try unicodeEscape())
            return
        default: throw error("invalid escape")
        }
        scratch.append(decoded)
        index += 1
    }

    /// The scalar of a `\uXXXX` escape (`index` just past the "u"), joining a UTF-16 surrogate
    /// pair written as two escapes. A surrogate without its partner becomes U+FFFD, since a Swift
    /// string cannot hold it; the escape after an unpaired high surrogate is read on its own.
    private mutating func unicodeEscape() throws(JSONParseError) -> UInt32 {
        let unit = try hex4()
        switch unit {
        case 0xD800..<0xDC00:
            if index + 1 < bytes.count, bytes[index] == .backslash, bytes[index + 1] == UInt8(ascii: "u") {
                let save = index
                index += 2
                let next = try hex4()
                if (0xDC00..<0xE000).contains(next) { return 0x10000 + ((unit - 0xD800) << 10) + (next - 0xDC00) }
                index = save
            }
            return 0xFFFD
        case 0xDC00..<0xE000:
            return 0xFFFD
        default:
            return unit
        }
    }

    private mutating func hex4() throws(JSONParseError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard index < bytes.count else { throw error("unterminated string") }
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case .digit0 ... .digit9: digit = byte - .digit0
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    private mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case ..<0x80:
            scratch.append(UInt8(scalar))
        case ..<0x800:
            scratch.append(0xC0 | UInt8(scalar >> 6))
            scratch.append(0x80 | UInt8(scalar & 0x3F))
        case ..<0x10000:
            scratch.append(0xE0 | UInt8(scalar >> 12))
            scratch.append(0x80 | UInt8(scalar >> 6 & 0x3F))
            scratch.append(0x80 | UInt8(scalar & 0x3F))
        default:
            scratch.append(0xF0 | UInt8(scalar >> 18))
            scratch.append(0x80 | UInt8(scalar >> 12 & 0x3F))
            scratch.append(0x80 | UInt8(scalar >> 6 & 0x3F))
            scratch.append(0x80 | UInt8(scalar & 0x3F))
        }
    }
}

extension UInt8 {
    fileprivate static let space = UInt8(ascii: " ")
    fileprivate static let newline = UInt8(ascii: "\n")
    fileprivate static let carriageReturn = UInt8(ascii: "\r")
    fileprivate static let tab = UInt8(ascii: "\t")
    fileprivate static let quote = UInt8(ascii: "\"")
    fileprivate static let backslash = UInt8(ascii: "\\")
    fileprivate static let slash = UInt8(ascii: "/")
    fileprivate static let openBrace = UInt8(ascii: "{")
    fileprivate static let closeBrace = UInt8(ascii: "}")
    fileprivate static let openBracket = UInt8(ascii: "[")
    fileprivate static let closeBracket = UInt8(ascii: "]")
    fileprivate static let colon = UInt8(ascii: ":")
    fileprivate static let comma = UInt8(ascii: ",")
    fileprivate static let minus = UInt8(ascii: "-")
    fileprivate static let plus = UInt8(ascii: "+")
    fileprivate static let dot = UInt8(ascii: ".")
    fileprivate static let digit0 = UInt8(ascii: "0")
    fileprivate static let digit9 = UInt8(ascii: "9")

    fileprivate var isDigit: Bool { self >= .digit0 && self <= .digit9 }
}
