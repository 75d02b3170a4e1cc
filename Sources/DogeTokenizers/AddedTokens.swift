/// A token of tokenizer.json's `added_tokens`, matched in the raw text before the model runs.
public struct AddedToken: Sendable, Equatable {
    public let id: Int
    public let content: String
    public let special: Bool
    /// Also swallow whitespace on the left / right of the match.
    public let lstrip: Bool
    public let rstrip: Bool
    /// Only match when not glued to word characters on either side.
    public let singleWord: Bool
    /// Match in the normalized text (true) or the raw text (false).
    public let normalized: Bool

    init(json: JSONField) throws {
        id = try json["id"].int()
        guard (0...TokenizerLimits.maxTokenID).contains(id) else {
            throw json["id"].fail("id \(id) must be between 0 and \(TokenizerLimits.maxTokenID)")
        }
        content = try json["content"].string()
        special = try json["special"].bool(default: false)
        lstrip = try json["lstrip"].bool(default: false)
        rstrip = try json["rstrip"].bool(default: false)
        singleWord = try json["single_word"].bool(default: false)
        normalized = try json["normalized"].bool(default: !special)
    }
}

/// A segment of input after added tokens are extracted: text still to tokenize, or a token.
enum Segment {
    case text([UInt32], atOrigin: Bool)
    case token(Int)
}

/// Finds added tokens leftmost-longest, like the Aho-Corasick automaton HF builds.
struct TokenTrie: Sendable {
    private var children: [[UInt32: Int]] = [[:]]
    private var terminal: [Int] = [-1]  // index into the token list, or -1
    /// ASCII scalars that start some token: a quick reject for most positions.
    private var asciiStarts: (UInt64, UInt64) = (0, 0)
    var isEmpty: Bool { children[0].isEmpty }

    mutating func insert(_ scalars: [UInt32], token: Int) {
        guard !scalars.isEmpty else { return }
        if scalars[0] < 64 { asciiStarts.0 |= 1 << UInt64(scalars[0]) } else if scalars[0] < 128 { asciiStarts.1 |= 1 << UInt64(scalars[0] - 64) }
        var node = 0
        for value in scalars {
            if let next = children[node][value] {
                node = next
            } else {
                children.append([:])
                terminal.append(-1)
                children[node][value] = children.count - 1
                node = children.count - 1
            }
        }
        if terminal[node] < 0 { terminal[node] = token }
    }

    /// The longest token starting at `start`: (token index, end).
    func longestMatch(in text: [UInt32], at start: Int) -> (token: Int, end: Int)? {
        let first = text[start]
        if first < 64 && asciiStarts.0 & (1 << UInt64(first)) == 0 { return nil }
        if first >= 64 && first < 128 && asciiStarts.1 & (1 << UInt64(first - 64)) == 0 { return nil }
        var node = 0
        var best: (Int, Int)?
        var position = start
        while position < text.count, let next = children[node][text[position]] {
            node = next
            position += 1
            if terminal[node] >= 0 { best = (terminal[node], position) }
        }
        return best
    }
}

struct AddedVocabulary: Sendable {
    let tokens: [AddedToken]
    let idToToken: [Int: AddedToken]
    /// id → text for decoding; HF reports a normalized token in its normalized form.
    let idToContent: [Int: String]
    let contentToID: [[UInt32]: Int]
    private var rawTrie = TokenTrie()
    private var normalizedTrie = TokenTrie()

    init(tokens: [AddedToken], normalizer: Normalizer?) {
        self.tokens = tokens
        var idToToken: [Int: AddedToken] = [:]
        var contentToID: [[UInt32]: Int] = [:]
        var idToContent: [Int: String] = [:]
        for (index, token) in tokens.enumerated() {
            idToToken[token.id] = token
            let scalars = token.content.unicodeScalars.map(\.value)
            contentToID[scalars] = token.id
            idToContent[token.id] = token.content
            if token.normalized {
                let normalized = normalizer?.normalize(scalars) ?? scalars
                normalizedTrie.insert(normalized, token: index)
                idToContent[token.id] = String(scalars: normalized)
            } else {
                rawTrie.insert(scalars, token: index)
            }
        }
        self.idToToken = idToToken
        self.contentToID = contentToID
        self.idToContent = idToContent
    }

    /// Splits the raw text on raw-matched tokens, normalizes the rest, then splits on
    /// normalized tokens: HF's `extract_and_normalize`.
    func extractAndNormalize(_ text: [UInt32], normalizer: Normalizer?) -> [Segment] {
        var segments: [Segment] = []
        for segment in split(.text(text, atOrigin: true), with: rawTrie) {
            guard case let .text(raw, atOrigin) = segment else {
                segments.append(segment)
                continue
            }
            let normalized = normalizer?.normalize(raw) ?? raw
            segments += split(.text(normalized, atOrigin: atOrigin), with: normalizedTrie)
        }
        return segments
    }

    private func split(_ segment: Segment, with trie: TokenTrie) -> [Segment] {
        guard case let .text(text, atOrigin) = segment, !trie.isEmpty, !text.isEmpty else { return [segment] }
        var out: [Segment] = []
        var consumed = 0  // end of the previous match
        var position = 0
        while position < text.count {
            guard let (index, matchEnd) = trie.longestMatch(in: text, at: position) else {
                position += 1
                continue
            }
            let token = tokens[index]
            var start = position, end = matchEnd
            position = matchEnd  // the automaton resumes after a match even when it is rejected
            if token.singleWord {
                let wordBefore = start > 0 && UnicodeTables.isWord(text[start - 1])
                let wordAfter = end < text.count && UnicodeTables.isWord(text[end])
                if wordBefore || wordAfter { continue }
            }
            if token.lstrip {
                while start > consumed && UnicodeTables.isWhitespace(text[start - 1]) { start -= 1 }
            }
            if token.rstrip {
                while end < text.count && UnicodeTables.isWhitespace(text[end]) { end += 1 }
            }
            if consumed < start {
                out.append(.text(Array(text[consumed..<start]), atOrigin: atOrigin && consumed == 0))
            }
            out.append(.token(token.id))
            consumed = end
        }
        if consumed < text.count {
            out.append(.text(Array(text[consumed...]), atOrigin: atOrigin && consumed == 0))
        }
        return out
    }
}
