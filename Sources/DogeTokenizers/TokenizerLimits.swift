/// Bounds on what a tokenizer.json may make the loader allocate. The id → token table has one
/// slot per id up to the largest, so ids are capped: 2^24 (16.7 M) is 64 times the largest
/// vocabulary in use (256 k) and costs at most 256 MB of table.
public enum TokenizerLimits {
    public static let maxTokenID = 1 << 24
}

extension Tokenizer {
    /// An upper bound on the UTF-8 bytes one token stands for, so that a text's byte count
    /// bounds its token count from below before encoding it (a 1 GB prompt for a 2k-token model
    /// is refused without spending ~20 GB encoding it). Walks the vocabulary: call it once.
    public var maxTokenBytes: Int {
        var longest = 1
        for id in 0..<vocabularySize {
            // Byte-level tokens are one character per byte; other models may use up to 4 bytes a character.
            if let t = idToToken(id) { longest = max(longest, t.unicodeScalars.count * 4) }
        }
        return longest
    }
}
