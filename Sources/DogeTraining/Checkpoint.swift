import Foundation
import DogeModel

/// Everything besides weights and moments that a resumed run needs to continue exactly.
public struct TrainerState: Codable, Sendable, Equatable {
    /// Optimizer steps completed.
    public var globalStep: Int
    public var maxSteps: Int
    public var cursor: DataCursor
    /// State of the run's random generator (SeededGenerator), for anything stochastic.
    public var rngState: UInt64
    public var learningRate: Double
    public var lastLoss: Double?
    public var schedule: String
    public var tokensSeen: Int
}

/// Writes and reads `checkpoint-N` directories: Hugging Face layout (config.json,
/// model.safetensors, tokenizer files) plus optimizer.safetensors (AdamW moments, F32),
/// trainer_state.json (transformers' format) and doge_state.json (`TrainerState`). A checkpoint
/// is assembled in a temporary directory and renamed into place.
public enum TrainingCheckpoint {
    public static let tokenizerFiles = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                                        "generation_config.json", "tokenizer.model", "chat_template.jinja"]

    public static let stateFile = "doge_state.json"

    /// `trainerState` is written as trainer_state.json; without it, one with an empty log_history.
    public static func save(model: DogeForCausalLM, optimizer: AdamW, state: TrainerState,
                            tokenizerDirectory: URL?, outputDirectory: URL, keepLast limit: Int?,
                            trainerState: HFTrainerState? = nil) throws -> URL {
        let fm = FileManager.default
        let final = outputDirectory.appendingPathComponent("checkpoint-\(state.globalStep)")
        let temporary = outputDirectory.appendingPathComponent(".checkpoint-\(state.globalStep).tmp-\(getpid())")
        do {
            try fm.createDirectory(at: outputDirectory, withIntermediateDirectories: true)
            AtomicFile.removeStaleTemporaries(in: outputDirectory)
            try? fm.removeItem(at: temporary)
            try model.save(to: temporary)
            if let tokenizerDirectory {
                for name in tokenizerFiles {
                    let src = tokenizerDirectory.appendingPathComponent(name)
                    if fm.fileExists(atPath: src.path) { try fm.copyItem(at: src, to: temporary.appendingPathComponent(name)) }
                }
            }
            var moments: [(String, Tensor)] = []
            for (name, m) in optimizer.exponentialAverage { moments.append(("exp_avg." + name, Tensor(shape: [m.count], data: m))) }
            for (name, v) in optimizer.exponentialAverageSquared { moments.append(("exp_avg_sq." + name, Tensor(shape: [v.count], data: v))) }
            try SafeTensorsWriter.write(moments, dtype: .f32, metadata: ["format": "pt", "step": String(optimizer.step)],
                                        to: temporary.appendingPathComponent("optimizer.safetensors"))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(state).write(to: temporary.appendingPathComponent(stateFile))
            let hf = trainerState ?? HFTrainerState(
                globalStep: state.globalStep, maxSteps: state.maxSteps, epoch: 0, numTrainEpochs: 0, loggingSteps: 0,
                evalSteps: 0, saveSteps: 0, trainBatchSize: 0, numInputTokensSeen: state.tokensSeen, logHistory: [],
                finished: state.globalStep >= state.maxSteps)
            try hf.jsonData().write(to: temporary.appendingPathComponent("trainer_state.json"))
            try AtomicFile.replaceDirectory(final, with: temporary)
        } catch let e as ModelError {
            try? fm.removeItem(at: temporary)
            throw TrainingError.checkpoint("cannot write \(final.path): \(e)")
        } catch {
            try? fm.removeItem(at: temporary)
            throw TrainingError.checkpoint("cannot write \(final.path): \(error.localizedDescription)")
        }
        if let limit {
            let all = checkpoints(in: outputDirectory)
            for (_, url) in all.dropLast(limit) { try? AtomicFile.removeDirectory(url) }
        }
        return final
    }

    /// checkpoint-N directories of a run, oldest first.
    public static func checkpoints(in directory: URL) -> [(Int, URL)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.compactMap { name -> (Int, URL)? in
            guard name.hasPrefix("checkpoint-"), let n = Int(name.dropFirst("checkpoint-".count)) else { return nil }
            return (n, directory.appendingPathComponent(name))
        }.sorted { $0.0 < $1.0 }
    }

    /// Model, optimizer and trainer state of a checkpoint directory.
    public static func load(_ directory: URL, optimizer template: AdamW) throws -> (DogeForCausalLM, AdamW, TrainerState) {
        let model: DogeForCausalLM
        do { model = try DogeForCausalLM(directory: directory, loading: .float32) } catch {
            throw TrainingError.checkpoint("\(directory.path): cannot load the model: \(error)")
        }
        // Checkpoints written before doge_state.json kept this state in trainer_state.json.
        var stateURL = directory.appendingPathComponent(stateFile)
        if !FileManager.default.fileExists(atPath: stateURL.path) { stateURL = directory.appendingPathComponent("trainer_state.json") }
        guard let data = try? Data(contentsOf: stateURL), let state = try? JSONDecoder().decode(TrainerState.self, from: data) else {
            throw TrainingError.checkpoint("\(directory.appendingPathComponent(stateFile).path): missing or unreadable trainer state; is this a doge train checkpoint?")
        }
        var optimizer = template
        optimizer.step = state.globalStep
        do {
            let file = try SafeTensorsFile(path: directory.appendingPathComponent("optimizer.safetensors").path)
            for name in file.tensors.keys {
                let t = try file.floatTensor(name)
                if name.hasPrefix("exp_avg_sq.") { optimizer.exponentialAverageSquared[String(name.dropFirst("exp_avg_sq.".count))] = t.data }
                else if name.hasPrefix("exp_avg.") { optimizer.exponentialAverage[String(name.dropFirst("exp_avg.".count))] = t.data }
            }
        } catch {
            throw TrainingError.checkpoint("\(directory.path)/optimizer.safetensors: \(error)")
        }
        return (model, optimizer, state)
    }
}
