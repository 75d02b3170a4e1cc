import DogeJinja
import Foundation

/// Perplexity of any text with lm-eval's rolling windows (`loglikelihood_rolling`): what
/// quantized or retrained checkpoints compare with.
public struct PerplexityResult: Sendable {
    public var documents: Int
    /// Tokens scored (every token of every document; the tokenizer's BOS included when it adds one).
    public var tokens: Int
    public var words: Int
    public var bytes: Int
    public var loglikelihood: Double
    public var seconds: Double

    public var tokenPerplexity: Double { exp(-loglikelihood / Double(tokens)) }
    public var wordPerplexity: Double { exp(-loglikelihood / Double(words)) }
    public var bytePerplexity: Double { exp(-loglikelihood / Double(bytes)) }
    public var bitsPerByte: Double { -loglikelihood / (Double(bytes) * log(2)) }
}

extension EvalModel {
    /// Documents of a file: JSON Lines with a text field (`.jsonl`/`.json`, or any file whose first
    /// character is `{`), else the whole file as one plain-text document.
    public static func perplexityDocuments(_ url: URL, textField: String) throws -> [String] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw EvalError(.data, "cannot read \(url.path): \(error.localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw EvalError(.data, "\(url.path) is not UTF-8 text") }
        let looksJSON = ["jsonl", "json"].contains(url.pathExtension) || text.drop(while: { $0.isWhitespace }).first == "{"
        guard looksJSON else {
            guard !text.isEmpty else { throw EvalError(.data, "\(url.path) is empty") }
            return [text]
        }
        return try TaskData.load(url, task: "perplexity").map { doc in
            guard let value = doc[textField] else {
                throw EvalError(.data, "\(doc.location): no field '\(textField)' (the row's fields: \(doc.fields.keys.map(\.pythonString).joined(separator: ", "))); pass --text-field")
            }
            guard case .string(let s) = value else { throw EvalError(.data, "\(doc.location): field '\(textField)' is not a string") }
            return s
        }
    }

    public func perplexity(of documents: [String], progress: (Int, Int) -> Void = { _, _ in }) throws -> PerplexityResult {
        let start = Date()
        let windows = documents.map(rollingWindows)
        let flat = windows.flatMap { $0.map { [$0] } }
        progress(0, flat.count)
        let scores = try scorer.score(flat) { progress($0, flat.count) }
        var ll = 0.0
        for s in scores { ll += s[0].loglikelihood }
        let tokens = windows.reduce(0) { $0 + $1.reduce(0) { $0 + $1.continuation.count } }
        return PerplexityResult(documents: documents.count, tokens: tokens, words: documents.reduce(0) { $0 + Metrics.wordCount($1) },
                                bytes: documents.reduce(0) { $0 + $1.utf8.count }, loglikelihood: ll, seconds: Date().timeIntervalSince(start))
    }
}
