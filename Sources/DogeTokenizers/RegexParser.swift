/// Parses the regex dialect tokenizer.json files use (Oniguruma syntax as HF compiles it)
/// into a tree: alternation, groups `(?:` `(?i:` `(?=` `(?!` `(?>`, classes with `\p{..}`,
/// `\s \d \w`, and greedy, lazy (`*?`) and possessive (`*+`) quantifiers with `{n,m}`.
indirect enum RegexNode {
    case empty
    case scalar(UInt32)
    case folded(UInt32)  // case-insensitive literal, stored folded
    case set(ScalarSet)
    case concat([RegexNode])
    case alternation([RegexNode])
    case repeated(RegexNode, min: Int, max: Int, mode: RepeatMode)
    case lookahead(RegexNode, negative: Bool)
    case atomic(RegexNode)
    case anchor(Anchor)

    enum RepeatMode { case greedy, lazy, possessive }
    enum Anchor { case lineStart, lineEnd, textStart, textEnd, textEndBeforeNewline, wordBoundary, notWordBoundary }

    /// Whether the node can match without consuming anything (loops over such bodies need care).
    var canBeEmpty: Bool {
        switch self {
        case .empty, .lookahead, .anchor: true
        case .scalar, .folded, .set: false
        case let .concat(nodes): nodes.allSatisfy(\.canBeEmpty)
        case let .alternation(nodes): nodes.contains(where: \.canBeEmpty)
        case let .repeated(node, min, _, _): min == 0 || node.canBeEmpty
        case let .atomic(node): node.canBeEmpty
        }
    }
}

struct RegexParser {
    private let scalars: [UInt32]
    private var index = 0
    private let pattern: String

    static func parse(_ pattern: String) throws -> RegexNode {
        var parser = RegexParser(pattern: pattern)
        let node = try parser.alternation(caseInsensitive: false)
        if parser.index < parser.scalars.count { throw parser.error("unbalanced ')'") }
        return node
    }

    private init(pattern: String) {
        self.pattern = pattern
        self.scalars = pattern.unicodeScalars.map(\.value)
    }

    private func error(_ reason: String) -> TokenizerError {
        .invalidRegex(pattern: pattern, reason: "\(reason) at character \(index)")
    }

    private var atEnd: Bool { index >= scalars.count }
    private func peek(_ offset: Int = 0) -> UInt32? {
        index + offset < scalars.count ? scalars[index + offset] : nil
    }
    private mutating func take(_ ascii: Character) -> Bool {
        if peek() == ascii.unicodeScalars.first!.value { index += 1; return true }
        return false
    }

    private mutating func alternation(caseInsensitive: Bool) throws -> RegexNode {
        var caseInsensitive = caseInsensitive
        var branches = [try sequence(caseInsensitive: &caseInsensitive)]
        while take("|") { branches.append(try sequence(caseInsensitive: &caseInsensitive)) }
        return branches.count == 1 ? branches[0] : .alternation(branches)
    }

    private mutating func sequence(caseInsensitive: inout Bool) throws -> RegexNode {
        var items: [RegexNode] = []
        while let next = peek(), next != 0x7C /* | */, next != 0x29 /* ) */ {
            // An inline flag group `(?i)` changes the rest of the enclosing group.
            if next == 0x28, peek(1) == 0x3F, let flag = peek(2), flag == 0x69 || flag == 0x2D, inlineFlagEnds() {
                caseInsensitive = flag == 0x69
                index += flag == 0x69 ? 4 : 5
                continue
            }
            let atom = try self.atom(caseInsensitive: caseInsensitive)
            items.append(try quantified(atom))
        }
        return items.count == 1 ? items[0] : (items.isEmpty ? .empty : .concat(items))
    }

    private func inlineFlagEnds() -> Bool {
        // `(?i)` or `(?-i)`
        if peek(2) == 0x69 { return peek(3) == 0x29 }
        return peek(3) == 0x69 && peek(4) == 0x29
    }

    private mutating func quantified(_ atom: RegexNode) throws -> RegexNode {
        var min: Int, max: Int
        switch peek() {
        case 0x2A: (min, max) = (0, .max); index += 1  // *
        case 0x2B: (min, max) = (1, .max); index += 1  // +
        case 0x3F: (min, max) = (0, 1); index += 1     // ?
        case 0x7B:                                      // {n}, {n,}, {n,m}, {,m}
            guard let bounds = try counted() else { return atom }
            (min, max) = bounds
        default:
            return atom
        }
        var mode = RegexNode.RepeatMode.greedy
        if take("?") { mode = .lazy } else if take("+") { mode = .possessive }
        if case .anchor = atom { throw error("quantifier after an anchor") }
        return try quantified(.repeated(atom, min: min, max: max, mode: mode))
    }

    /// Reads `{n,m}`; a `{` that does not form a valid interval is a literal, as in Oniguruma.
    private mutating func counted() throws -> (Int, Int)? {
        let start = index
        index += 1
        func number() -> Int? {
            var value: Int?
            while let digit = peek(), digit >= 0x30, digit <= 0x39 {
                value = (value ?? 0) * 10 + Int(digit - 0x30)
                index += 1
            }
            return value
        }
        let low = number()
        var high = low
        if take(",") { high = number() ?? .max }
        guard take("}"), low != nil || high != nil else {
            index = start
            return nil
        }
        let min = low ?? 0, max = high ?? .max
        if min > max { throw error("bad interval {\(min),\(max)}") }
        return (min, max)
    }

    private mutating func atom(caseInsensitive: Bool) throws -> RegexNode {
        let scalar = scalars[index]
        index += 1
        switch scalar {
        case 0x28: return try group(caseInsensitive: caseInsensitive)
        case 0x5B: return .set(try bracketClass(caseInsensitive: caseInsensitive))
        case 0x2E: return .set(.anyButNewline)
        case 0x5E: return .anchor(.lineStart)
        case 0x24: return .anchor(.lineEnd)
        case 0x5C: return try escape(caseInsensitive: caseInsensitive)
        case 0x2A, 0x2B, 0x3F: throw error("nothing to repeat")
        default: return literal(scalar, caseInsensitive: caseInsensitive)
        }
    }

    private func literal(_ scalar: UInt32, caseInsensitive: Bool) -> RegexNode {
        guard caseInsensitive else { return .scalar(scalar) }
        let folded = CaseFolding.fold(scalar)
        let variants = CaseFolding.variants(of: scalar)
        return variants.allSatisfy({ $0 == scalar }) && folded == scalar ? .scalar(scalar) : .folded(folded)
    }

    private mutating func group(caseInsensitive: Bool) throws -> RegexNode {
        var kind = "capture"
        var innerCase = caseInsensitive
        if take("?") {
            guard let next = peek() else { throw error("unterminated group") }
            index += 1
            switch next {
            case 0x3A: kind = "plain"                    // (?:
            case 0x3D: kind = "ahead"                    // (?=
            case 0x21: kind = "notAhead"                 // (?!
            case 0x3E: kind = "atomic"                   // (?>
            case 0x69, 0x2D:                             // (?i:  (?-i:
                if next == 0x2D { guard take("i") else { throw error("unsupported group flag") } }
                innerCase = next == 0x69
                guard take(":") else { throw error("unsupported group flags") }
                kind = "plain"
            case 0x3C: throw error("lookbehind and named groups are not supported")
            default: throw error("unsupported group syntax")
            }
        }
        let inner = try alternation(caseInsensitive: innerCase)
        guard take(")") else { throw error("missing ')'") }
        switch kind {
        case "ahead": return .lookahead(inner, negative: false)
        case "notAhead": return .lookahead(inner, negative: true)
        case "atomic": return .atomic(inner)
        default: return inner
        }
    }

    /// The escapes usable both inside and outside brackets; nil when `scalar` is not one.
    private mutating func classEscape(_ scalar: UInt32) throws -> ScalarSet.Item? {
        switch scalar {
        case 0x73: return .whitespace(negated: false)  // \s
        case 0x53: return .whitespace(negated: true)   // \S
        case 0x64: return .digit(negated: false)       // \d
        case 0x44: return .digit(negated: true)        // \D
        case 0x77: return .word(negated: false)        // \w
        case 0x57: return .word(negated: true)         // \W
        case 0x68: return .nested(ScalarSet(items: [.range(0x09, 0x09), .range(0x20, 0x20)]))  // \h
        case 0x70, 0x50:                                // \p{..} \P{..} \pL
            var name = ""
            if take("{") {
                var negated = take("^")
                while let next = peek(), next != 0x7D {
                    name.unicodeScalars.append(Unicode.Scalar(next)!)
                    index += 1
                }
                guard take("}") else { throw error("unterminated \\p{") }
                if scalar == 0x50 { negated.toggle() }
                guard let mask = UnicodeTables.mask(forProperty: name) else { throw error("unknown property \\p{\(name)}") }
                return .categories(mask, negated: negated)
            }
            guard let letter = peek() else { throw error("bad \\p") }
            index += 1
            guard let mask = UnicodeTables.mask(forProperty: String(Unicode.Scalar(letter)!)) else { throw error("unknown property") }
            return .categories(mask, negated: scalar == 0x50)
        default:
            return nil
        }
    }

    /// A single escaped scalar such as `\n`, `\x41`, `\u00e9`, `\.`.
    private mutating func escapedScalar(_ scalar: UInt32) throws -> UInt32 {
        switch scalar {
        case 0x6E: return 0x0A  // n
        case 0x72: return 0x0D  // r
        case 0x74: return 0x09  // t
        case 0x66: return 0x0C  // f
        case 0x76: return 0x0B  // v
        case 0x61: return 0x07  // a
        case 0x65: return 0x1B  // e
        case 0x30: return 0x00  // 0
        case 0x78, 0x75:        // \xHH, \x{H..}, \uHHHH
            var digits = 0
            var value: UInt32 = 0
            let braced = scalar == 0x78 && take("{")
            let limit = braced ? 8 : (scalar == 0x78 ? 2 : 4)
            while digits < limit, let next = peek(), let digit = Self.hexValue(next) {
                value = value * 16 + digit
                digits += 1
                index += 1
            }
            if braced, !take("}") { throw error("unterminated \\x{") }
            if digits == 0 { throw error("bad hex escape") }
            return value
        default:
            if (0x41...0x5A).contains(scalar) || (0x61...0x7A).contains(scalar) {
                throw error("unsupported escape \\\(Unicode.Scalar(scalar)!)")
            }
            return scalar
        }
    }

    private static func hexValue(_ scalar: UInt32) -> UInt32? {
        switch scalar {
        case 0x30...0x39: scalar - 0x30
        case 0x41...0x46: scalar - 0x41 + 10
        case 0x61...0x66: scalar - 0x61 + 10
        default: nil
        }
    }

    private mutating func escape(caseInsensitive: Bool) throws -> RegexNode {
        guard let scalar = peek() else { throw error("trailing backslash") }
        index += 1
        if let item = try classEscape(scalar) { return .set(.single(item)) }
        switch scalar {
        case 0x41: return .anchor(.textStart)               // \A
        case 0x7A: return .anchor(.textEnd)                 // \z
        case 0x5A: return .anchor(.textEndBeforeNewline)    // \Z
        case 0x62: return .anchor(.wordBoundary)            // \b
        case 0x42: return .anchor(.notWordBoundary)         // \B
        default: return literal(try escapedScalar(scalar), caseInsensitive: caseInsensitive)
        }
    }

    private mutating func bracketClass(caseInsensitive: Bool) throws -> ScalarSet {
        let negated = take("^")
        var items: [ScalarSet.Item] = []
        var first = true
        while true {
            guard let scalar = peek() else { throw error("unterminated character class") }
            if scalar == 0x5D, !first { index += 1; break }  // ']' (literal when first)
            first = false
            index += 1
            var low: UInt32
            if scalar == 0x5B, peek() == 0x3A { throw error("POSIX classes are not supported") }
            if scalar == 0x5B {
                items.append(.nested(try bracketClass(caseInsensitive: caseInsensitive)))
                continue
            }
            if scalar == 0x5C {
                guard let escaped = peek() else { throw error("unterminated character class") }
                index += 1
                if let item = try classEscape(escaped) {
                    items.append(item)
                    continue
                }
                low = escaped == 0x62 ? 0x08 : try escapedScalar(escaped)  // \b is backspace here
            } else {
                low = scalar
            }
            // A range `a-z`, unless the '-' is last.
            if peek() == 0x2D, let after = peek(1), after != 0x5D {
                index += 1
                var high = scalars[index]
                index += 1
                if high == 0x5C {
                    guard let escaped = peek() else { throw error("unterminated character class") }
                    index += 1
                    high = try escapedScalar(escaped)
                }
                if high < low { throw error("reversed range in class") }
                items.append(.range(low, high))
            } else {
                items.append(.range(low, low))
            }
        }
        return ScalarSet(items: items, negated: negated, caseInsensitive: caseInsensitive)
    }
}
