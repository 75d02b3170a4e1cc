import Foundation

/// Everything that can go wrong training a tokenizer; each case says what to do about it.
public enum TokenizerTrainingError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The requested vocabulary cannot even hold the special tokens plus the initial alphabet.
    case vocabularyTooSmall(requested: Int, minimum: Int)
    /// No input files were given, or they hold no text at all.
    case emptyCorpus
    /// An input file could not be read.
    case unreadableInput(path: String, reason: String)
    /// A JSON lines input has a line that is not an object with a string "text" field.
    case badJSONLine(path: String, line: Int, reason: String)
    /// The tokenizer given with `--from` cannot be retrained (not BPE, or unreadable).
    case unsupportedBase(reason: String)
    /// The output could not be written.
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case let .vocabularyTooSmall(requested, minimum):
            return "vocabulary size \(requested) is too small: the special tokens and the initial alphabet "
                + "already take \(minimum) entries; use --vocab-size \(minimum) or more (a few thousand is typical)"
        case .emptyCorpus:
            return "the training text is empty; give --input files that contain text"
        case let .unreadableInput(path, reason):
            return "cannot read training input \(path): \(reason)"
        case let .badJSONLine(path, line, reason):
            return "\(path):\(line): \(reason); JSON lines input needs one object with a string \"text\" field per line"
        case let .unsupportedBase(reason):
            return "cannot retrain this tokenizer: \(reason)"
        case let .cannotWrite(path, reason):
            return "cannot write \(path): \(reason)"
        }
    }
}

extension TokenizerTrainingError: LocalizedError {
    public var errorDescription: String? { description }
}
