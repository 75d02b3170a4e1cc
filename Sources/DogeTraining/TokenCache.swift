import Foundation
import DogeTokenizers

/// Turns text into token ids for the data pipeline. `Tokenizer` conforms; tests use small stand-ins.
public protocol TextTokenizing {
    func tokenIDs(_ text: String) -> [Int]
    var endOfTextID: Int? { get }
}

extension Tokenizer: TextTokenizing {
    public func tokenIDs(_ text: String) -> [Int] { encode(text, addSpecialTokens: false) }
    public var endOfTextID: Int? { eosTokenID }
}

/// What a source file holds.
public enum CorpusFormat: String, Sendable {
    /// Plain text: documents separated by blank lines.
    case text
    /// JSON lines with a text field (`dataset_text_field`, "text" by default).
    case jsonlText
    /// JSON lines with an "input_ids" list: already tokenized.
    case jsonlTokens

    /// Guesses from the extension and, for JSONL, the first line's keys.
    public static func detect(_ url: URL, textField: String) throws -> CorpusFormat {
        let ext = url.pathExtension.lowercased()
        guard ext == "jsonl" || ext == "json" || ext == "ndjson" else { return .text }
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        let head = try handle.read(upToCount: 1 << 20) ?? Data()
        let line = head.split(separator: UInt8(ascii: "\n")).first ?? Data()
        guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any] else {
            throw TrainingError.data("\(url.path): the first line is not a JSON object; JSON lines files need one object per line")
        }
        if object["input_ids"] != nil { return .jsonlTokens }
        if object[textField] is String { return .jsonlText }
        throw TrainingError.data("\(url.path): lines have neither \"\(textField)\" (text) nor \"input_ids\" (tokens); keys: \(object.keys.sorted())")
    }
}

/// A corpus tokenized once into a flat file of little-endian UInt32 token ids (documents
/// separated by EOS), memory-mapped for reading. The cache is keyed by the source's path, size
/// and modification time and by the tokenizer, so a changed file is tokenized again.
public final class TokenFile: @unchecked Sendable {
    public let url: URL
    private let data: Data
    public let count: Int

    public init(url: URL) throws {
        self.url = url
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw TrainingError.data("\(url.path): cannot map the token cache: \(error.localizedDescription)")
        }
        count = data.count / 4
    }

    /// Tokens [start, start + n) as Ints.
    public func tokens(_ start: Int, _ n: Int) -> [Int] {
        precondition(start >= 0 && start + n <= count)
        return data.withUnsafeBytes { raw in
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt32.self)
            return (start..<(start + n)).map { Int(UInt32(littleEndian: p[$0])) }
        }
    }

    /// Tokenizes `source` into `cacheDirectory` unless an up-to-date cache exists; streams the
    /// source (constant memory) and reports progress through `progress(bytesRead, totalBytes, tokens)`.
    public static func build(source: URL, format: CorpusFormat, textField: String, tokenizer: TextTokenizing?,
                             tokenizerKey: String, cacheDirectory: URL,
                             progress: (Int, Int, Int) -> Void = { _, _, _ in }) throws -> TokenFile {
        let fm = FileManager.default
        guard let attributes = try? fm.attributesOfItem(atPath: source.path) else {
            throw TrainingError.data("\(source.path): no such file")
        }
        let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        let mtime = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        let key = stableHash("\(source.standardizedFileURL.path)|\(size)|\(mtime)|\(format.rawValue)|\(textField)|\(tokenizerKey)")
        let target = cacheDirectory.appendingPathComponent("\(source.deletingPathExtension().lastPathComponent)-\(key).tokens")
        if fm.fileExists(atPath: target.path) { return try TokenFile(url: target) }
        if format != .jsonlTokens && tokenizer == nil {
            throw TrainingError.data("\(source.path): text needs a tokenizer (tokenizer.json in the model or tokenizer directory)")
        }
        // A failed build leaves nothing behind: no temporary file, no folder it created.
        let created = try createDirectories(cacheDirectory)
        let temporary = cacheDirectory.appendingPathComponent(".\(target.lastPathComponent).tmp-\(getpid())")
        do {
            try write(source: source, size: size, format: format, textField: textField, tokenizer: tokenizer,
                      to: temporary, progress: progress)
            _ = try? fm.removeItem(at: target)
            try fm.moveItem(at: temporary, to: target)
        } catch {
            try? fm.removeItem(at: temporary)
            for dir in created.reversed() where (try? fm.contentsOfDirectory(atPath: dir.path))?.isEmpty == true {
                try? fm.removeItem(at: dir)
            }
            if let e = error as? TrainingError { throw e }
            throw TrainingError.data("\(source.path): cannot tokenize into \(cacheDirectory.path): \(error.localizedDescription)")
        }
        return try TokenFile(url: target)
    }

    /// Creates `url` and missing parents; returns the folders it created, outermost first.
    static func createDirectories(_ url: URL) throws -> [URL] {
        var missing: [URL] = []
        var dir = url.standardizedFileURL
        while !FileManager.default.fileExists(atPath: dir.path), dir.path != "/" {
            missing.insert(dir, at: 0)
            dir = dir.deletingLastPathComponent()
        }
        do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) } catch {
            throw TrainingError.data("\(url.path): cannot create the token cache folder: \(error.localizedDescription)")
        }
        return missing
    }

    /// Tokenizes `source` into the file `temporary` (little-endian UInt32 ids, EOS between documents).
    private static func write(source: URL, size: Int, format: CorpusFormat, textField: String, tokenizer: TextTokenizing?,
                              to temporary: URL, progress: (Int, Int, Int) -> Void) throws {
        let eos = tokenizer?.endOfTextID
        _ = FileManager.default.createFile(atPath: temporary.path, contents: nil)
        let out = try FileHandle(forWritingTo: temporary)
        defer { try? out.close() }
        var buffer = Data()
        var total = 0
        func emit(_ ids: [Int]) throws {
            for id in ids {
                guard id >= 0 && id <= Int(UInt32.max) else { throw TrainingError.data("\(source.path): token id \(id) out of range") }
                var le = UInt32(id).littleEndian
                withUnsafeBytes(of: &le) { buffer.append(contentsOf: $0) }
            }
            total += ids.count
            if buffer.count > 1 << 22 { try out.write(contentsOf: buffer); buffer.removeAll(keepingCapacity: true) }
        }
        func document(_ ids: [Int]) throws {
            guard !ids.isEmpty else { return }
            try emit(ids)
            if let eos, ids.last != eos { try emit([eos]) }
        }
        var paragraph: [Substring] = []
        var lineNumber = 0
        try forEachLine(of: source, progress: { progress($0, size, total) }) { line in
            lineNumber += 1
            switch format {
            case .text:
                if line.allSatisfy(\.isWhitespace) {
                    if !paragraph.isEmpty { try document(tokenizer!.tokenIDs(paragraph.joined(separator: "\n"))); paragraph = [] }
                } else {
                    paragraph.append(line)
                }
            case .jsonlText, .jsonlTokens:
                guard !line.allSatisfy(\.isWhitespace) else { return }
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                    throw TrainingError.data("\(source.path):\(lineNumber): not a JSON object")
                }
                if format == .jsonlText {
                    guard let text = object[textField] as? String else {
                        throw TrainingError.data("\(source.path):\(lineNumber): no string field \"\(textField)\"")
                    }
                    try document(tokenizer!.tokenIDs(text))
                } else {
                    guard let ids = object["input_ids"] as? [Int] else {
                        throw TrainingError.data("\(source.path):\(lineNumber): \"input_ids\" is not a list of integers")
                    }
                    try document(ids)
                }
            }
        }
        if !paragraph.isEmpty { try document(tokenizer!.tokenIDs(paragraph.joined(separator: "\n"))) }
        try out.write(contentsOf: buffer)
        progress(size, size, total)
    }

    /// Calls `body` for each line of the file, reading it in 4 MiB chunks.
    static func forEachLine(of url: URL, progress: (Int) -> Void, _ body: (Substring) throws -> Void) throws {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var pending = Data()
        var read = 0
        var lastReport = Date()
        while true {
            let chunk = try handle.read(upToCount: 1 << 22) ?? Data()
            read += chunk.count
            pending.append(chunk)
            var start = pending.startIndex
            while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                try body(Substring(decoding: pending[start..<newline], as: UTF8.self))
                start = pending.index(after: newline)
            }
            pending = Data(pending[start...])
            if Date().timeIntervalSince(lastReport) > 0.5 { progress(read); lastReport = Date() }
            if chunk.isEmpty { break }
        }
        if !pending.isEmpty { try body(Substring(decoding: pending, as: UTF8.self)) }
    }
}

/// FNV-1a 64 of a string, hex: a file-name-safe cache key that is the same in every process.
func stableHash(_ s: String) -> String {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    return String(h, radix: 16)
}
