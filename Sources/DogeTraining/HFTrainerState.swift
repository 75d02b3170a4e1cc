import Foundation

/// `trainer_state.json` as transformers' `TrainerState.save_to_json` writes it (every dataclass
/// field, sorted keys, indent 2), so `TrainerState.load_from_json` and other Hugging Face tools
/// read a doge checkpoint. What doge itself needs to resume (data cursor, RNG) is in doge_state.json.
public struct HFTrainerState {
    public var globalStep: Int
    public var maxSteps: Int
    public var epoch: Double
    public var numTrainEpochs: Int
    public var loggingSteps: Int
    public var evalSteps: Int
    public var saveSteps: Int
    public var trainBatchSize: Int
    public var numInputTokensSeen: Int
    /// One entry per logging step (`loss`, `grad_norm`, `learning_rate`, `epoch`, `step`) and per
    /// evaluation (`eval_loss`, `epoch`, `step`), as the Trainer logs them.
    public var logHistory: [[String: Any]]
    /// The run reached max_steps (TrainerControl.should_training_stop).
    public var finished: Bool

    public init(globalStep: Int, maxSteps: Int, epoch: Double, numTrainEpochs: Int, loggingSteps: Int, evalSteps: Int,
                saveSteps: Int, trainBatchSize: Int, numInputTokensSeen: Int, logHistory: [[String: Any]], finished: Bool) {
        self.globalStep = globalStep; self.maxSteps = maxSteps; self.epoch = epoch; self.numTrainEpochs = numTrainEpochs
        self.loggingSteps = loggingSteps; self.evalSteps = evalSteps; self.saveSteps = saveSteps
        self.trainBatchSize = trainBatchSize; self.numInputTokensSeen = numInputTokensSeen
        self.logHistory = logHistory; self.finished = finished
    }

    public func jsonObject() -> [String: Any] {
        let control: [String: Any] = [
            "args": ["should_epoch_stop": false, "should_evaluate": false, "should_log": false, "should_save": true,
                     "should_training_stop": finished],
            "attributes": [String: Any](),
        ]
        return [
            "best_global_step": NSNull(), "best_metric": NSNull(), "best_model_checkpoint": NSNull(),
            "epoch": epoch, "eval_steps": evalSteps, "global_step": globalStep, "is_hyper_param_search": false,
            "is_local_process_zero": true, "is_world_process_zero": true, "log_history": logHistory,
            "logging_steps": loggingSteps, "max_steps": maxSteps, "num_input_tokens_seen": numInputTokensSeen,
            "num_train_epochs": numTrainEpochs, "save_steps": saveSteps,
            "stateful_callbacks": ["TrainerControl": control], "total_flos": 0, "train_batch_size": trainBatchSize,
            "trial_name": NSNull(), "trial_params": NSNull(),
        ]
    }

    public func jsonData() throws -> Data {
        try JSONSerialization.data(withJSONObject: jsonObject(), options: [.prettyPrinted, .sortedKeys]) + Data("\n".utf8)
    }

    /// The log_history of a checkpoint's trainer_state.json (empty when it has none).
    public static func logHistory(in checkpoint: URL) -> [[String: Any]] {
        guard let data = try? Data(contentsOf: checkpoint.appendingPathComponent("trainer_state.json")),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [] }
        return object["log_history"] as? [[String: Any]] ?? []
    }
}
