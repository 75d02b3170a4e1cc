/// Turns ids into text one at a time during generation.
///
/// Each call returns only text that is final: it never ends inside a UTF-8 character
/// (byte-level and byte-fallback tokens can carry partial characters) and it keeps the
/// spacing decoders compute from context (a Metaspace decoder drops the leading space
/// only of the very first token). It decodes a short window of recent ids and emits the
/// difference, as HF's `DecodeStream` does.
public struct StreamingDetokenizer {
    private let tokenizer: Tokenizer
    private let skipSpecialTokens: Bool
    private var ids: [Int] = []
    private var prefixOffset = 0
    private var readOffset = 0

    public init(tokenizer: Tokenizer, skipSpecialTokens: Bool = false) {
        self.tokenizer = tokenizer
        self.skipSpecialTokens = skipSpecialTokens
    }

    /// Adds one id; returns the newly completed text (often empty while a character is pending).
    public mutating func push(_ id: Int) throws -> String {
        ids.append(id)
        let prefixText = try tokenizer.decode(Array(ids[prefixOffset..<readOffset]), skipSpecialTokens: skipSpecialTokens)
        let fullText = try tokenizer.decode(Array(ids[prefixOffset...]), skipSpecialTokens: skipSpecialTokens)
        let prefixBytes = Array(prefixText.utf8), fullBytes = Array(fullText.utf8)
        guard fullBytes.count > prefixBytes.count, fullBytes.starts(with: prefixBytes), !fullText.hasSuffix("\u{FFFD}") else {
            return ""
        }
        prefixOffset = readOffset
        readOffset = ids.count
        return String(decoding: fullBytes[prefixBytes.count...], as: UTF8.self)
    }

    /// Whatever is still pending at the end of generation (incomplete bytes decode to U+FFFD).
    public mutating func finish() throws -> String {
        guard readOffset < ids.count else { return "" }
        let prefixText = try tokenizer.decode(Array(ids[prefixOffset..<readOffset]), skipSpecialTokens: skipSpecialTokens)
        let fullText = try tokenizer.decode(Array(ids[prefixOffset...]), skipSpecialTokens: skipSpecialTokens)
        prefixOffset = ids.count
        readOffset = ids.count
        let prefixBytes = Array(prefixText.utf8), fullBytes = Array(fullText.utf8)
        guard fullBytes.count > prefixBytes.count, fullBytes.starts(with: prefixBytes) else { return "" }
        return String(decoding: fullBytes[prefixBytes.count...], as: UTF8.self)
    }
}
