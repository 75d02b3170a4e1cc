import DogeJinja
import Foundation

/// One row of a split: its fields and where it came from (for errors).
public struct Document: Sendable {
    public var fields: OrderedObject
    public var file: URL
    public var line: Int

    public subscript(key: String) -> JinjaValue? { fields[key] }
    var location: String { "\(file.path) line \(line)" }
}

/// Reads `DIR/<task>/<split>.jsonl` (what `datasets`' `to_json` writes: one JSON object per line,
/// in the Hugging Face dataset's own columns).
public enum TaskData {
    public static func file(dataDir: URL, task: String, split: String) -> URL? {
        for ext in ["jsonl", "json"] {
            let url = dataDir.appendingPathComponent(task).appendingPathComponent("\(split).\(ext)")
            if FileManager.default.fileExists(atPath: url.path) { return url }
        }
        return nil
    }

    public static func load(dataDir: URL, task: String, split: String, purpose: String) throws -> [Document] {
        guard let url = file(dataDir: dataDir, task: task, split: split) else {
            let expected = dataDir.appendingPathComponent(task).appendingPathComponent("\(split).jsonl").path
            throw EvalError(.data, "\(task): no \(split) split: \(expected) does not exist (the \(purpose)); export it with datasets' to_json (see README, \"Evaluation\")")
        }
        return try load(url, task: task)
    }

    public static func load(_ url: URL, task: String) throws -> [Document] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw EvalError(.data, "\(task): cannot read \(url.path): \(error.localizedDescription)")
        }
        var docs: [Document] = []
        var lineNumber = 0
        var start = data.startIndex
        while start < data.endIndex {
            lineNumber += 1
            let end = data[start...].firstIndex(of: UInt8(ascii: "\n")) ?? data.endIndex
            let line = data[start..<end]
            start = end < data.endIndex ? end + 1 : end
            if line.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) { continue }
            let value: JinjaValue
            do { value = try JinjaValue(jsonData: Data(line)) } catch {
                throw EvalError(.data, "\(task): \(url.path) line \(lineNumber): not valid JSON: \(error)")
            }
            guard case .object(let fields) = value else {
                throw EvalError(.data, "\(task): \(url.path) line \(lineNumber): expected a JSON object (one document per line)")
            }
            docs.append(Document(fields: fields, file: url, line: lineNumber))
        }
        if docs.isEmpty { throw EvalError(.data, "\(task): \(url.path) holds no documents") }
        return docs
    }
}
