/// What can stop a training run, said so the user can fix it.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// A recipe key or flag has a value that makes no sense; the run does not start.
    case invalidOption(key: String, problem: String)
    /// A dataset cannot be read or tokenized.
    case data(String)
    /// A checkpoint or trainer state cannot be written or read.
    case checkpoint(String)
    /// The loss became NaN or infinite.
    case divergence(step: Int, loss: Double, lastCheckpoint: String?)

    public var description: String {
        switch self {
        case let .invalidOption(key, problem): return "\(key): \(problem)"
        case let .data(detail): return "data: \(detail)"
        case let .checkpoint(detail): return "checkpoint: \(detail)"
        case let .divergence(step, loss, last):
            return "training stopped: the loss is \(loss) at step \(step). "
                + (last.map { "The last good checkpoint is \($0)." } ?? "No checkpoint was written before it.")
                + " Lower the learning rate or raise warmup, then resume from a checkpoint."
        }
    }
}
