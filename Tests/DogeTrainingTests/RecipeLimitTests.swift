import Foundation
import Testing
@testable import DogeTraining

/// Numbers in a recipe that do not fit an Int were traps (`Int(1e300)`); they are option errors.
@Suite struct RecipeLimitTests {
    let base: [String: Any] = ["model_name_or_path": "m", "datasets_and_ratios": [["d": 1.0]]]

    @Test func hugeFloatsWhereIntegersBelongAreErrors() {
        for (key, value) in [("max_steps", 1e300 as Any), ("save_steps", Double.infinity), ("per_device_train_batch_size", -1e30),
                             ("max_length", Double.nan), ("seed", 9.3e18)] {
            var v = base
            v[key] = value
            #expect(throws: TrainingError.self, "\(key) = \(value)") { try TrainingOptions.from(v) }
        }
    }

    @Test func hugeScheduleStepCountsAreErrors() {
        for kwargs: [String: Any] in [["num_decay_steps": 1e300], ["num_decay_steps": 5, "num_stable_steps": -Double.infinity],
                                      ["num_decay_steps": Double.nan]] {
            var v = base
            v["max_steps"] = 100
            v["lr_scheduler_type"] = "warmup_stable_decay"
            v["lr_scheduler_kwargs"] = kwargs
            #expect(throws: TrainingError.self, "\(kwargs)") { try TrainingOptions.from(v) }
        }
    }
}
