import Foundation
import DogeJinja

/// What stops a post-training run, naming the file, line and field where the data is at fault.
public enum PostTrainingError: Error, CustomStringConvertible, Equatable {
    case invalidOption(key: String, problem: String)
    /// A data row that cannot be used: file, 1-based line, field and what to do.
    case row(file: String, line: Int, field: String, problem: String)
    case data(String)
    case reward(String)

    public var description: String {
        switch self {
        case let .invalidOption(key, problem): return "\(key): \(problem)"
        case let .row(file, line, field, problem): return "\(file):\(line): field \"\(field)\": \(problem)"
        case let .data(detail): return "data: \(detail)"
        case let .reward(detail): return "reward: \(detail)"
        }
    }
}

/// One JSON Lines row with where it came from.
public struct DataRow: Sendable {
    public var file: String
    public var line: Int
    public var value: OrderedObject

    public subscript(_ key: String) -> JinjaValue? {
        guard let v = value[key] else { return nil }
        if case .null = v { return nil }
        return v
    }

    public func error(_ field: String, _ problem: String) -> PostTrainingError {
        .row(file: file, line: line, field: field, problem: problem)
    }
}

public enum JSONLines {
    /// Every non-blank line of a JSON Lines file as an object, in order.
    public static func read(_ path: String) throws -> [DataRow] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw PostTrainingError.data("\(path): cannot read: \(error.localizedDescription)")
        }
        var rows: [DataRow] = []
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.allSatisfy({ $0.isWhitespace }) { continue }
            let value: JinjaValue
            do { value = try JinjaValue(jsonString: String(line)) } catch {
                throw PostTrainingError.row(file: path, line: lineNumber, field: "(line)", problem: "not valid JSON: \(error)")
            }
            guard case .object(let object) = value else {
                throw PostTrainingError.row(file: path, line: lineNumber, field: "(line)", problem: "expected a JSON object per line")
            }
            rows.append(DataRow(file: path, line: lineNumber, value: object))
        }
        if rows.isEmpty { throw PostTrainingError.data("\(path): no rows") }
        return rows
    }
}

/// A prompt, completion or conversation: plain text or a list of messages.
public enum Turns: Sendable {
    case text(String)
    case messages([JinjaValue])

    init(_ value: JinjaValue, row: DataRow, field: String) throws {
        switch value {
        case .string(let s): self = .text(s)
        case .array(let list):
            for (i, m) in list.enumerated() {
                guard case .object(let o) = m, case .string = o["role"] ?? .null else {
                    throw row.error(field, "message \(i) must be an object with a \"role\" string")
                }
            }
            self = .messages(list)
        default: throw row.error(field, "expected a string or a list of {role, content} messages")
        }
    }

    var isConversational: Bool { if case .messages = self { return true } else { return false } }
}

extension DataRow {
    func turns(_ field: String) throws -> Turns {
        guard let v = self[field] else { throw error(field, "missing; this dataset needs it in every row") }
        return try Turns(v, row: self, field: field)
    }

    var tools: [JinjaValue]? {
        if case .array(let list) = self["tools"] ?? .null { return list }
        return nil
    }
}
