import Foundation

/// Splits training text into words with a tokenizer's normalizer and pre-tokenizer and counts
/// them, as HF's `Tokenizer::train` feeds its trainer: normalize, pre-tokenize, count each
/// piece. Added tokens are not extracted first (HF does not either).
struct WordCounter {
    private let normalizer: Normalizer?
    private let splitter: PreTokenizer?
    private let byteLevelTail: Bool
    /// Keyed by the piece before the byte-level mapping (which is one-to-one), so the mapping
    /// runs once per distinct word instead of once per occurrence.
    private(set) var counts: [[UInt32]: Int] = [:]

    init(normalizer: Normalizer?, preTokenizer: PreTokenizer?) {
        self.normalizer = normalizer
        (splitter, byteLevelTail) = preTokenizer?.separatingByteLevelTail() ?? (nil, false)
    }

    /// Counts the words of one sequence (a line, or one JSON lines text).
    mutating func add(_ scalars: [UInt32]) {
        let text = normalizer?.normalize(scalars) ?? scalars
        if text.isEmpty { return }
        if let splitter {
            splitter.forEachPiece(text[...], atOrigin: true) { piece, _ in counts[Array(piece), default: 0] += 1 }
        } else {
            counts[text, default: 0] += 1
        }
    }

    /// Adds another counter's words (used to combine per-thread counts).
    mutating func merge(_ other: WordCounter) {
        counts.merge(other.counts, uniquingKeysWith: +)
    }

    /// Distinct words in their final (byte-mapped) spelling, with their counts.
    func words() -> (words: [[UInt32]], counts: [Int]) {
        var words: [[UInt32]] = []
        var counts: [Int] = []
        words.reserveCapacity(self.counts.count)
        counts.reserveCapacity(self.counts.count)
        for (word, count) in self.counts {
            if byteLevelTail {
                var mapped: [UInt32] = []
                ByteLevel.encode(word[...], into: &mapped)
                words.append(mapped)
            } else {
                words.append(word)
            }
            counts.append(count)
        }
        return (words, counts)
    }
}

/// Training text read from files: sequences of Unicode scalars, as HF `tokenizers` would feed
/// them. Plain text files give one sequence per line, line ending included (HF's
/// `train(files)` reads them that way); `.jsonl`/`.ndjson` files give each line's "text".
public struct TrainingInput: Sendable {
    public let url: URL
    public let isJSONLines: Bool

    public init(path: String) {
        url = URL(fileURLWithPath: path)
        let ext = url.pathExtension.lowercased()
        isJSONLines = ext == "jsonl" || ext == "ndjson"
    }

    /// The file's size in bytes, for progress.
    public func byteCount() throws -> Int {
        let attributes = try? FileManager.default.attributesOfItem(atPath: url.path)
        guard let size = attributes?[.size] as? NSNumber else {
            throw TokenizerTrainingError.unreadableInput(path: url.path, reason: "no such file")
        }
        return size.intValue
    }

    /// Calls `body` with each sequence and the number of file bytes it came from.
    func forEachSequence(_ body: ([UInt32], Int) -> Void) throws {
        // FileManager.contents(atPath:) leaks a 4 KB buffer for an empty file (swift-foundation;
        // found by LeakSanitizer), and an empty file has no sequences anyway.
        if let size = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? NSNumber, size.intValue == 0 { return }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw TokenizerTrainingError.unreadableInput(path: url.path, reason: "no such file or not readable")
        }
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            var start = 0, lineNumber = 0
            while start < bytes.count {
                lineNumber += 1
                var end = start
                while end < bytes.count && bytes[end] != 0x0A { end += 1 }
                if end < bytes.count { end += 1 }  // keep the newline, like HF's lines_with_ending
                let line = UnsafeBufferPointer(rebasing: bytes[start..<end])
                let scalars: [UInt32]
                do {
                    scalars = try UTF8Scalars.decode(line)
                } catch let TokenizerError.invalidUTF8(offset) {
                    throw TokenizerTrainingError.unreadableInput(
                        path: url.path, reason: "not UTF-8 (first bad byte at offset \(start + offset)); convert it to UTF-8 first")
                }
                if isJSONLines {
                    if let text = try jsonText(line, lineNumber: lineNumber) { body(text, end - start) }
                } else {
                    body(scalars, end - start)
                }
                start = end
            }
        }
    }

    /// The "text" of one JSON line; nil for a blank line.
    private func jsonText(_ line: UnsafeBufferPointer<UInt8>, lineNumber: Int) throws -> [UInt32]? {
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return nil }
        let node: JSONNode
        do {
            node = try JSONReader.parse(Data(line), file: url.lastPathComponent)
        } catch {
            throw TokenizerTrainingError.badJSONLine(path: url.path, line: lineNumber, reason: "not valid JSON (\(error))")
        }
        guard case let .object(members) = node else {
            throw TokenizerTrainingError.badJSONLine(path: url.path, line: lineNumber, reason: "not a JSON object")
        }
        guard let field = members.first(where: { $0.key == "text" }), case let .string(text) = field.value else {
            throw TokenizerTrainingError.badJSONLine(path: url.path, line: lineNumber, reason: "no string \"text\" field")
        }
        return text.unicodeScalars.map(\.value)
    }
}
