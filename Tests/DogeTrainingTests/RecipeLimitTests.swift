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

    /// Keys that are lists or mappings made Yams' constructor trap (a force-unwrap; found by the
    /// recipe fuzzer: `fuzz-recipe-complex-key.yaml`); aliases nested in aliases could expand
    /// without bound. Both are recipe errors naming the file and, for keys, the line.
    @Test func hostileYAMLIsAnErrorNotATrap() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("recipe-yaml-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var laughs = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1...7 { laughs += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        let hostile = ["? [a, b]\n: 1\n", "{[a]: 1}\n", "x: {? {k: v}: 1}\n", "s: !!set {? [a]}\n",
                       "max_steps: 5\nnested:\n  - {[1, 2]: 3}\n", laughs]
        for (i, text) in hostile.enumerated() {
            let url = folder.appendingPathComponent("r\(i).yaml")
            try text.write(to: url, atomically: true, encoding: .utf8)
            #expect(throws: TrainingError.self, "\(text.prefix(40))") { _ = try TrainingOptions.load(recipe: url) }
        }
        let found = Fixtures.url("fuzz-recipe-complex-key.yaml")
        do { _ = try TrainingOptions.load(recipe: found); Issue.record("the fuzzer's input loaded") } catch let error as TrainingError {
            #expect("\(error)".contains("fuzz-recipe-complex-key.yaml"))
            #expect("\(error)".contains("line"))
        }
        // Plain recipes still load, values as Yams gives them.
        let plain = folder.appendingPathComponent("plain.yaml")
        try "max_steps: 5\nlearning_rate: 1.0e-3\ndatasets_and_ratios:\n  - d: 1.0\n".write(to: plain, atomically: true, encoding: .utf8)
        let values = try TrainingOptions.load(recipe: plain)
        #expect(values["max_steps"] as? Int == 5)
        #expect(values["learning_rate"] as? Double == 1e-3)
    }
}
