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
/// All ranges here are relative to the start of the piece.
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
func scalarMatches(_ scalars: ArraySlice<UInt32>, _ predicate: (UInt32) -> Bool) -> [Range<Int>] {
    var out: [Range<Int>] = []
    for (offset, value) in scalars.enumerated() where predicate(value) { out.append(offset..<offset + 1) }
    return out
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

    /// Calls `body` with each non-empty piece this pre-tokenizer cuts `text` into, in order,
    /// with whether the piece starts at offset 0 of the input (Metaspace's "first" scheme).
    /// Pieces are slices, so splitting allocates nothing per piece.
    func forEachPiece(_ text: ArraySlice<UInt32>, atOrigin: Bool, _ body: (ArraySlice<UInt32>, Bool) -> Void) {
        func emit(_ ranges: [Range<Int>], of source: ArraySlice<UInt32>) {
            let start = source.startIndex
            for range in ranges where !range.isEmpty {
                body(source[(start + range.lowerBound)..<(start + range.upperBound)], atOrigin && range.lowerBound == 0)
            }
        }
        switch self {
        case let .sequence(list):
            Self.chain(list[...], text, atOrigin, body)
        case let .byteLevel(addPrefixSpace, useRegex):
            var current = text
            if addPrefixSpace && current.first != 0x20 { current = [0x20] + text }
            let ranges = useRegex
                ? SplitBehavior.isolated.apply(spans(count: current.count, matches: ByteLevel.gpt2Regex.matches(in: current)))
                : [0..<current.count]
            var mapped: [UInt32] = []
            for range in ranges where !range.isEmpty {
                mapped.removeAll(keepingCapacity: true)
                let start = current.startIndex
                ByteLevel.encode(current[(start + range.lowerBound)..<(start + range.upperBound)], into: &mapped)
                body(mapped[...], atOrigin && range.lowerBound == 0)
            }
        case let .split(pattern, behavior, invert):
            emit(behavior.apply(spans(count: text.count, matches: pattern.matches(in: text), invert: invert)), of: text)
        case let .metaspace(replacement, scheme, split):
            var current = text.map { $0 == 0x20 ? replacement : $0 }
            let prepend = scheme == .always || (scheme == .first && atOrigin)
            if prepend && current.first != replacement { current.insert(replacement, at: 0) }
            if split {
                let matches = scalarMatches(current[...]) { $0 == replacement }
                emit(SplitBehavior.mergedWithNext.apply(spans(count: current.count, matches: matches)), of: current[...])
            } else if !current.isEmpty {
                body(current[...], atOrigin)
            }
        case .whitespace:
            emit(SplitBehavior.removed.apply(spans(count: text.count, matches: Self.wordsRegex.matches(in: text), invert: true)), of: text)
        case .whitespaceSplit:
            emit(SplitBehavior.removed.apply(spans(count: text.count, matches: scalarMatches(text, UnicodeTables.isWhitespace))), of: text)
        case let .digits(individual):
            let behavior: SplitBehavior = individual ? .isolated : .contiguous
            emit(behavior.apply(spans(count: text.count, matches: scalarMatches(text, UnicodeTables.isNumeric))), of: text)
        case let .punctuation(behavior):
            emit(behavior.apply(spans(count: text.count, matches: scalarMatches(text, UnicodeTables.isPunctuation))), of: text)
        }
    }

    private static func chain(_ list: ArraySlice<PreTokenizer>, _ text: ArraySlice<UInt32>, _ atOrigin: Bool,
                              _ body: (ArraySlice<UInt32>, Bool) -> Void) {
        guard let first = list.first else {
            body(text, atOrigin)
            return
        }
        first.forEachPiece(text, atOrigin: atOrigin) { piece, origin in chain(list.dropFirst(), piece, origin, body) }
    }

    /// Splits this pre-tokenizer into a splitting part and a trailing pure byte-level mapping
    /// (ByteLevel without prefix space), so the encoder can cache words by their unmapped
    /// text and map only cache misses. GPT-2's regex ByteLevel becomes Split + mapping.
    func separatingByteLevelTail() -> (splitter: PreTokenizer?, byteLevelTail: Bool) {
        func tail(_ step: PreTokenizer) -> (PreTokenizer?, Bool)? {
            guard case let .byteLevel(addPrefixSpace, useRegex) = step, !addPrefixSpace else { return nil }
            return useRegex ? (.split(.regex(ByteLevel.gpt2Regex), .isolated, invert: false), true) : (nil, true)
        }
        if let result = tail(self) { return result }
        if case let .sequence(list) = self, let last = list.last, let (extra, _) = tail(last) {
            let rest = Array(list.dropLast()) + (extra.map { [$0] } ?? [])
            return (rest.isEmpty ? nil : .sequence(rest), true)
        }
        return (self, false)
    }
}
