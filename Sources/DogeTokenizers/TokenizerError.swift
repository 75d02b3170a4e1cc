import Foundation

/// Everything that can go wrong loading a tokenizer or running it.
public enum TokenizerError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The file is not valid JSON; `offset` is the byte where parsing stopped.
    case malformedJSON(file: String, offset: Int, reason: String)
    /// A field has the wrong JSON type or an invalid value; `path` is like `model.merges[3]`.
    case invalidField(path: String, reason: String)
    /// A `type` this implementation does not know, e.g. `pre_tokenizer.pretokenizers[1].type`.
    case unsupportedType(path: String, type: String)
    /// A regular expression in the tokenizer could not be compiled.
    case invalidRegex(pattern: String, reason: String)
    /// Input bytes are not valid UTF-8 (HF tokenizers only accepts text).
    case invalidUTF8(byteOffset: Int)
    /// An id that is neither in the model's vocabulary nor an added token.
    case idOutOfRange(id: Int, vocabularySize: Int)
    /// A character has no token and the model has neither `unk_token` nor byte fallback.
    case unknownTokenMissing(token: String)
    /// A file could not be read.
    case fileNotFound(path: String)
    /// No chat template in tokenizer_config.json (or none with the requested name).
    case noChatTemplate(name: String?)
    /// The chat template failed to parse or render.
    case chatTemplate(String)
    /// One of the errors above, in the file at `path`.
    indirect case file(path: String, TokenizerError)

    public var description: String {
        switch self {
        case let .malformedJSON(file, offset, reason):
            return "malformed JSON in \(file) at byte \(offset): \(reason)"
        case let .invalidField(path, reason):
            return "invalid tokenizer field `\(path)`: \(reason)"
        case let .unsupportedType(path, type):
            return "unsupported type \"\(type)\" at `\(path)`"
        case let .invalidRegex(pattern, reason):
            return "cannot compile regex \(pattern.debugDescription): \(reason)"
        case let .invalidUTF8(offset):
            return "input is not valid UTF-8 (first bad byte at offset \(offset))"
        case let .idOutOfRange(id, size):
            return "token id \(id) is out of range (vocabulary size \(size))"
        case let .unknownTokenMissing(token):
            return "no token for \(token.debugDescription) and the model has no unk_token"
        case let .fileNotFound(path):
            return "cannot read \(path)"
        case let .noChatTemplate(name):
            if let name { return "tokenizer has no chat template named \"\(name)\"" }
            return "tokenizer has no chat template (tokenizer_config.json has no chat_template)"
        case let .chatTemplate(message):
            return "chat template error: \(message)"
        case let .file(path, error):
            return "\(path): \(error)"
        }
    }

    /// This error, said to come from the file at `path` (unless it names a file already).
    func inFile(_ path: String) -> TokenizerError {
        switch self {
        case .file, .fileNotFound: return self
        default: return .file(path: path, self)
        }
    }
}

extension TokenizerError: LocalizedError {
    public var errorDescription: String? { description }
}
