import Foundation

extension TrainerState {
    /// For other trainers (DogePostTraining) that save checkpoints through `TrainingCheckpoint`.
    public static func make(globalStep: Int, maxSteps: Int, cursor: DataCursor, rngState: UInt64, learningRate: Double,
                            lastLoss: Double?, schedule: String, tokensSeen: Int) -> TrainerState {
        TrainerState(globalStep: globalStep, maxSteps: maxSteps, cursor: cursor, rngState: rngState, learningRate: learningRate,
                     lastLoss: lastLoss, schedule: schedule, tokensSeen: tokensSeen)
    }
}
