/// A piece of text moving through the pre-tokenizers, as Unicode scalars.
struct Piece {
    var scalars: [UInt32]
    /// True when the piece begins at offset 0 of the original input (Metaspace's "first").
    var atOrigin: Bool
}

/// How a `Split`-style pre-tokenizer treats the delimiters it finds.
enum SplitBehavior: String, Sendable {
    case removed = "Removed"
    case isolated = "Isolated"
    case mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext"
    case contiguous = "Contiguous"

    init(json: JSONField) throws {
        let name = try json.string()
        guard let behavior = SplitBehavior(rawValue: name) else {
            throw TokenizerError.unsupportedType(path: json.path, type: name)
        }
        self = behavior
    }

    /// Turns alternating (range, isMatch) spans covering a piece into the kept ranges,
    /// exactly as HF's `NormalizedString::split`.
    func apply(_ spans: [(range: Range<Int>, isMatch: Bool)]) -> [Range<Int>] {
        switch self {
        case .isolated:
            return spans.map(\.range)
        case .removed:
            return spans.filter { !$0.isMatch }.map(\.range)
        case .contiguous:
            var out: [Range<Int>] = []
            var previousMatch = false
            for span in spans {
                if span.isMatch == previousMatch, let last = out.last {
                    out[out.count - 1] = last.lowerBound..<span.range.upperBound
                } else {
                    out.append(span.range)
                }
                previousMatch = span.isMatch
            }
            return out
        case .mergedWithPrevious:
            var out: [Range<Int>] = []
            var previousMatch = false
            for span in spans {
                if span.isMatch && !previousMatch, let last = out.last {
                    out[out.count - 1] = last.lowerBound..<span.range.upperBound
                } else {
                    out.append(span.range)
                }
                previousMatch = span.isMatch
            }
            return out
        case .mergedWithNext:
            var out: [Range<Int>] = []
            var previousMatch = false
            for span in spans.reversed() {
                if span.isMatch && !previousMatch, let last = out.last {
                    out[out.count - 1] = span.range.lowerBound..<last.upperBound
                } else {
                    out.append(span.range)
                }
                previousMatch = span.isMatch
            }
            return out.reversed()
        }
    }
}

/// Spans covering `0..<count` from a sorted list of match ranges (empty matches included).
func spans(count: Int, matches: [Range<Int>], invert: Bool = false) -> [(range: Range<Int>, isMatch: Bool)] {
    var out: [(range: Range<Int>, isMatch: Bool)] = []
    var previous = 0
    for match in matches {
        if previous < match.lowerBound { out.append((previous..<match.lowerBound, invert)) }
        out.append((match, !invert))
        previous = match.upperBound
    }
    if previous < count { out.append((previous..<count, invert)) }
    return out
}

/// Each scalar satisfying `predicate` is its own match (HF's `Fn(char) -> bool` pattern).
func scalarMatches(_ scalars: [UInt32], _ predicate: (UInt32) -> Bool) -> [Range<Int>] {
    scalars.indices.filter { predicate(scalars[$0]) }.map { $0..<$0 + 1 }
}

/// The `pre_tokenizer` of tokenizer.json.
indirect enum PreTokenizer: Sendable {
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    case split(TokenizerPattern, SplitBehavior, invert: Bool)
    case metaspace(replacement: UInt32, prependScheme: PrependScheme, split: Bool)
    case whitespace
    case whitespaceSplit
    case digits(individual: Bool)
    case punctuation(SplitBehavior)
    case sequence([PreTokenizer])

    enum PrependScheme: String, Sendable { case always, first, never }

    init(json: JSONField) throws {
        let type = try json.typeTag()
        switch type {
        case "ByteLevel":
            self = .byteLevel(addPrefixSpace: try json["add_prefix_space"].bool(default: true),
                              useRegex: try json["use_regex"].bool(default: true))
        case "Split":
            self = .split(try TokenizerPattern(json: json["pattern"]), try SplitBehavior(json: json["behavior"]),
                          invert: try json["invert"].bool(default: false))
        case "Metaspace":
            self = .metaspace(replacement: try Self.replacement(json), prependScheme: try Self.prependScheme(json),
                              split: try json["split"].bool(default: true))
        case "Whitespace": self = .whitespace
        case "WhitespaceSplit": self = .whitespaceSplit
        case "Digits": self = .digits(individual: try json["individual_digits"].bool(default: false))
        case "Punctuation":
            self = .punctuation(json.has("behavior") ? try SplitBehavior(json: json["behavior"]) : .isolated)
        case "Sequence":
            self = .sequence(try json["pretokenizers"].array().map { try PreTokenizer(json: $0) })
        default:
            throw TokenizerError.unsupportedType(path: json["type"].path, type: type)
        }
    }

    static func replacement(_ json: JSONField) throws -> UInt32 {
        let text = try json["replacement"].optionalString() ?? "\u{2581}"
        guard text.unicodeScalars.count == 1 else { throw json["replacement"].fail("must be one character") }
        return text.unicodeScalars.first!.value
    }

    /// `prepend_scheme`, or the older boolean `add_prefix_space`.
    static func prependScheme(_ json: JSONField) throws -> PrependScheme {
        if json.has("prepend_scheme"), !json["prepend_scheme"].isNull {
            let name = try json["prepend_scheme"].string()
            guard let scheme = PrependScheme(rawValue: name) else {
                throw TokenizerError.unsupportedType(path: json["prepend_scheme"].path, type: name)
            }
            return scheme
        }
        return try json["add_prefix_space"].bool(default: true) ? .always : .never
    }

    // `\w+|[^\w\s]+`, the Whitespace pre-tokenizer's pattern.
    // swiftlint:disable:next force_try
    private static let wordsRegex = try! ScalarRegex(#"\w+|[^\w\s]+"#)

    /// Splits every piece further; pieces that end up empty are dropped.
    func apply(_ pieces: [Piece]) -> [Piece] {
        if case let .sequence(list) = self { return list.reduce(pieces) { $1.apply($0) } }
        var out: [Piece] = []
        out.reserveCapacity(pieces.count)
        for piece in pieces { split(piece, into: &out) }
        return out
    }

    private static func emit(_ piece: Piece, _ ranges: [Range<Int>], into out: inout [Piece]) {
        for range in ranges where !range.isEmpty {
            out.append(Piece(scalars: Array(piece.scalars[range]), atOrigin: piece.atOrigin && range.lowerBound == 0))
        }
    }

    private func split(_ piece: Piece, into out: inout [Piece]) {
        let text = piece.scalars
        switch self {
        case let .byteLevel(addPrefixSpace, useRegex):
            var current = piece
            if addPrefixSpace && current.scalars.first != 0x20 { current.scalars.insert(0x20, at: 0) }
            var ranges = [0..<current.scalars.count]
            if useRegex {
                ranges = SplitBehavior.isolated.apply(spans(count: current.scalars.count, matches: ByteLevel.gpt2Regex.matches(in: current.scalars)))
            }
            for range in ranges where !range.isEmpty {
                var mapped: [UInt32] = []
                mapped.reserveCapacity(range.count * 2)
                ByteLevel.encode(current.scalars[range], into: &mapped)
                out.append(Piece(scalars: mapped, atOrigin: piece.atOrigin && range.lowerBound == 0))
            }
        case let .split(pattern, behavior, invert):
            Self.emit(piece, behavior.apply(spans(count: text.count, matches: pattern.matches(in: text), invert: invert)), into: &out)
        case let .metaspace(replacement, scheme, split):
            var current = piece
            current.scalars = text.map { $0 == 0x20 ? replacement : $0 }
            let prepend = scheme == .always || (scheme == .first && piece.atOrigin)
            if prepend && current.scalars.first != replacement { current.scalars.insert(replacement, at: 0) }
            if split {
                let matches = scalarMatches(current.scalars) { $0 == replacement }
                Self.emit(current, SplitBehavior.mergedWithNext.apply(spans(count: current.scalars.count, matches: matches)), into: &out)
            } else if !current.scalars.isEmpty {
                out.append(current)
            }
        case .whitespace:
            Self.emit(piece, SplitBehavior.removed.apply(spans(count: text.count, matches: Self.wordsRegex.matches(in: text), invert: true)), into: &out)
        case .whitespaceSplit:
            Self.emit(piece, SplitBehavior.removed.apply(spans(count: text.count, matches: scalarMatches(text, UnicodeTables.isWhitespace))), into: &out)
        case let .digits(individual):
            let behavior: SplitBehavior = individual ? .isolated : .contiguous
            Self.emit(piece, behavior.apply(spans(count: text.count, matches: scalarMatches(text, UnicodeTables.isNumeric))), into: &out)
        case let .punctuation(behavior):
            Self.emit(piece, behavior.apply(spans(count: text.count, matches: scalarMatches(text, UnicodeTables.isPunctuation))), into: &out)
        case let .sequence(list):
            out += list.reduce([piece]) { $1.apply($0) }
        }
    }
}
