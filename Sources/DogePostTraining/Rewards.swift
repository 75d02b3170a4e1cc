import Foundation
import DogeJinja

/// One completion to score: its prompt row (every column), the decoded text and its token ids.
public struct ScoredCompletion: Sendable {
    public var row: DataRow
    public var text: String
    public var ids: [Int]
}

/// A reward function in TRL's sense: one number (or nil → NaN) per completion of a batch.
public protocol RewardFunction: Sendable {
    var name: String { get }
    func rewards(_ batch: [ScoredCompletion]) throws -> [Double?]
}

/// small-doge's reward functions (src/small_doge/utils/rewards.py), where `accuracy` compares
/// against the row's `solution` by exact match (trimmed) or equal numbers instead of math_verify.
public enum BuiltinReward: String, CaseIterable, Sendable, RewardFunction {
    case accuracy, format, reasoningSteps = "reasoning_steps", length, cosine, repetitionPenalty = "repetition_penalty"

    public var name: String { rawValue }

    public func rewards(_ batch: [ScoredCompletion]) throws -> [Double?] {
        switch self {
        case .accuracy:
            return try batch.map { try Self.correct($0) ? 1.0 : 0.0 }
        case .format:
            let pattern = #"^<\|begin_of_thought\|>\n.*?\n<\|end_of_thought\|>\n\n<\|begin_of_solution\|>\n.*?\n<\|end_of_solution\|>$"#
            let re = try NSRegularExpression(pattern: pattern, options: [.dotMatchesLineSeparators, .anchorsMatchLines])
            return batch.map { c in
                let range = NSRange(c.text.startIndex..., in: c.text)
                return re.firstMatch(in: c.text, options: [.anchored], range: range) != nil ? 1.0 : 0.0
            }
        case .reasoningSteps:
            let markers = ["**Analysis:**", "**First:**", "**Second:**", "**Next:**", "**Reflection:**", "**Finally:**",
                           "**Summarizing:**", "**Solution:**"]
            return batch.map { c in Double(markers.filter { c.text.contains($0) }.count) * 0.125 }
        case .length:
            // Kimi 1.5: λ = 0.5 − (len − min)/(max − min) over the batch; correct → λ, wrong → min(0, λ).
            let lengths = batch.map { Double($0.text.count) }
            guard let lo = lengths.min(), let hi = lengths.max(), hi > lo else { return batch.map { _ in 0.0 } }
            return try zip(batch, lengths).map { c, len in
                let lambda = 0.5 - (len - lo) / (hi - lo)
                return try Self.correct(c) ? lambda : min(0, lambda)
            }
        case .cosine:
            return try batch.map { c in
                let progress = Double(c.text.count) / 1000
                let (lo, hi) = try Self.correct(c) ? (0.5, 1.0) : (-0.5, 0.0)
                return lo + 0.5 * (hi - lo) * (1 + cos(Double.pi * progress))
            }
        case .repetitionPenalty:
            return batch.map { c in
                let words = c.text.lowercased().split(whereSeparator: { $0.isWhitespace }).map(String.init)
                guard words.count >= 3 else { return 0.0 }
                let grams = (0...(words.count - 3)).map { words[$0..<($0 + 3)].joined(separator: " ") }
                return (1 - Double(Set(grams).count) / Double(grams.count)) * -1.0
            }
        }
    }

    /// Exact match after trimming, or both parse as the same number.
    static func correct(_ c: ScoredCompletion) throws -> Bool {
        guard let v = c.row["solution"] else { throw c.row.error("solution", "missing: the accuracy reward compares against this column") }
        let gold: String
        switch v {
        case .string(let s): gold = s
        case .int(let i): gold = String(i)
        case .double(let d): gold = String(d)
        default: throw c.row.error("solution", "expected a string or a number")
        }
        let answer = c.text.trimmingCharacters(in: .whitespacesAndNewlines), g = gold.trimmingCharacters(in: .whitespacesAndNewlines)
        if answer == g { return true }
        if let a = Double(answer.replacingOccurrences(of: ",", with: "")), let b = Double(g.replacingOccurrences(of: ",", with: "")) { return a == b }
        return false
    }
}

/// A user's reward command: receives one JSON object per line on stdin
/// (`{"prompt", "completion", …row columns}`) and must print one number (or `null`) per line.
public struct CommandReward: RewardFunction {
    public var command: String
    public var name: String { "command" }

    public init(command: String) { self.command = command }

    public func rewards(_ batch: [ScoredCompletion]) throws -> [Double?] {
        var input = ""
        let json = try Template("{{ x | tojson }}")
        for c in batch {
            var pairs: [(String, JinjaValue)] = []
            for (k, v) in c.row.value.entries { if case .string(let key) = k { pairs.append((key, v)) } }
            pairs.append(("completion", .string(c.text)))
            input += try json.render(["x": JinjaValue.object(pairs)]) + "\n"
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin; process.standardOutput = stdout; process.standardError = stderr
        do { try process.run() } catch { throw PostTrainingError.reward("cannot start `\(command)`: \(error.localizedDescription)") }
        let payload = Data(input.utf8)
        // A command that exits without reading its input must not kill us with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        let writer = Thread { try? stdin.fileHandleForWriting.write(contentsOf: payload); try? stdin.fileHandleForWriting.close() }
        writer.start()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let detail = String(decoding: err, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
            throw PostTrainingError.reward("`\(command)` exited with status \(process.terminationStatus)" + (detail.isEmpty ? "" : ": \(detail)"))
        }
        let lines = String(decoding: out, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
        guard lines.count == batch.count else {
            throw PostTrainingError.reward("`\(command)` printed \(lines.count) lines for \(batch.count) completions; print one number (or null) per input line")
        }
        return try lines.enumerated().map { i, line in
            let s = line.trimmingCharacters(in: .whitespaces)
            if s == "null" || s == "None" { return nil }
            guard let x = Double(s) else { throw PostTrainingError.reward("`\(command)` line \(i + 1): \"\(s)\" is not a number") }
            return x
        }
    }
}
