/// Everything that can be wrong with a checkpoint or a request to the model, said so a user can fix it.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    /// The directory has no config.json or no weights.
    case noModel(directory: String, detail: String)
    /// config.json (or another JSON file) is not valid JSON, or not an object.
    case invalidJSON(file: String, detail: String)
    /// A config field has a wrong type or an impossible value.
    case invalidConfig(file: String, field: String, problem: String)
    /// A safetensors file is truncated or corrupt.
    case corruptSafetensors(file: String, problem: String)
    /// A tensor the config requires is not in the checkpoint.
    case missingTensor(name: String, file: String)
    /// The checkpoint has a tensor this config does not use.
    case unexpectedTensor(name: String, file: String)
    /// A tensor has a different shape from what the config implies.
    case shapeMismatch(name: String, file: String, expected: [Int], found: [Int])
    /// A feature the checkpoint asks for that this implementation does not provide.
    case unsupported(String)
    /// Bad arguments to a model call (token ids out of range, ragged batch …).
    case invalidInput(String)
    /// Reading or writing a file failed.
    case io(path: String, detail: String)

    public var description: String {
        switch self {
        case let .noModel(directory, detail):
            return "\(directory): not a Doge model directory: \(detail). Expected config.json and model.safetensors (or model.safetensors.index.json with its shards)."
        case let .invalidJSON(file, detail):
            return "\(file): not valid JSON: \(detail)."
        case let .invalidConfig(file, field, problem):
            return "\(file): field \"\(field)\": \(problem)."
        case let .corruptSafetensors(file, problem):
            return "\(file): corrupt or truncated safetensors file: \(problem). Re-download or re-save the checkpoint."
        case let .missingTensor(name, file):
            return "\(file): tensor \"\(name)\" is missing; the config requires it. Check that config.json belongs to these weights."
        case let .unexpectedTensor(name, file):
            return "\(file): unexpected tensor \"\(name)\": the config does not use it. Check that config.json belongs to these weights."
        case let .shapeMismatch(name, file, expected, found):
            return "\(file): tensor \"\(name)\" has shape \(found) but the config implies \(expected). Check that config.json belongs to these weights."
        case let .unsupported(what):
            return "unsupported: \(what)"
        case let .invalidInput(what):
            return "invalid input: \(what)"
        case let .io(path, detail):
            return "\(path): \(detail)"
        }
    }
}
