/// Everything that can go wrong in an evaluation, as one line that says what and where
/// (task, file, line, field) and what to do.
public struct EvalError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: String, Sendable {
        case unknownTask, taskFile, data, template, fewshot, model, usage
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
