import Foundation
import DogeKernels
import DogeModel

/// SFTTrainer's step: Σ −log p(target) over every target of the step's micro-batches ÷ the number
/// of targets in the step (num_items_in_batch). With packing, a sample is a bin of documents that
/// TRL feeds padding-free (one row, positions restarting per document, block-diagonal attention);
/// documents never see each other, so each document runs as its own row of a right-padded batch,
/// which is the same computation.
public final class SFTTask: PostTrainingTask {
    public let examples: [SFTExample]
    /// Packing bins (example indices), or nil: one example per sample.
    public let bins: [[Int]]?
    public let padID: Int

    public init(examples: [SFTExample], packing: Bool, maxLength: Int?, padID: Int) throws {
        self.examples = examples
        self.padID = padID
        if packing {
            guard let L = maxLength else { throw PostTrainingError.invalidOption(key: "max_length", problem: "packing needs max_length") }
            // TRL packs in map batches of 1000 rows: bins never mix rows of different batches.
            var all: [[Int]] = []
            for start in stride(from: 0, to: examples.count, by: 1000) {
                let slice = Array(examples[start..<min(start + 1000, examples.count)])
                all += SFTData.packBFD(lengths: slice.map(\.ids.count), capacity: L).map { $0.map { $0 + start } }
            }
            bins = all
        } else {
            bins = nil
        }
    }

    public var sampleCount: Int { bins?.count ?? examples.count }

    func documents(_ samples: [Int]) -> [SFTExample] {
        guard let bins else { return samples.map { examples[$0] } }
        return samples.flatMap { bins[$0].map { examples[$0] } }
    }

    /// Right-padded ids and labels of documents.
    func batch(_ docs: [SFTExample]) -> ([[Int]], [[Int]]) {
        let T = docs.map(\.ids.count).max() ?? 0
        return (docs.map { $0.ids + Array(repeating: padID, count: T - $0.ids.count) },
                docs.map { $0.labels + Array(repeating: -100, count: T - $0.labels.count) })
    }

    public func step(_ microBatches: [[Int]], model: DogeForCausalLM, gradients: DogeForCausalLM, step: Int,
                     backend: ComputeBackend) throws -> StepOutcome {
        let micro = microBatches.map(documents)
        let counted = micro.reduce(0) { $0 + DogeForCausalLM.countedTokens(labels: $1.map(\.labels)) }
        var lossSum = 0.0, tokens = 0
        for docs in micro where !docs.isEmpty {
            // Rows of similar length together keep padding small; the sum does not depend on grouping.
            let sorted = docs.sorted { $0.ids.count > $1.ids.count }
            var start = 0
            while start < sorted.count {
                var end = start + 1
                while end < sorted.count && sorted[end].ids.count * 2 > sorted[start].ids.count { end += 1 }
                let (ids, labels) = batch(Array(sorted[start..<end]))
                let r = try model.accumulateGradients(ids: ids, labels: labels, lossScale: 1 / Float(max(counted, 1)),
                                                      into: gradients, backend: backend)
                lossSum += r.lossSum
                start = end
            }
            tokens += docs.reduce(0) { $0 + $1.ids.count }
        }
        return StepOutcome(loss: lossSum / Double(max(counted, 1)), metrics: ["num_items": Double(counted)], tokens: tokens)
    }

    /// The Trainer's eval loss: the mean over eval batches of each batch's token-mean loss.
    public func evaluate(model: DogeForCausalLM, batchSize: Int, backend: ComputeBackend) throws -> [String: Double] {
        var losses: [Double] = [], weights: [Double] = []
        var entropy = 0.0, correct = 0.0, count = 0.0
        for start in stride(from: 0, to: sampleCount, by: max(batchSize, 1)) {
            let docs = documents(Array(start..<min(start + max(batchSize, 1), sampleCount)))
            let (ids, labels) = batch(docs)
            let s = try model.tokenStatistics(ids: ids, labels: labels, backend: backend)
            var sum = 0.0, n = 0.0
            for b in s.counted.indices {
                for t in s.counted[b].indices where s.counted[b][t] {
                    sum -= Double(s.logProbs[b][t]); n += 1
                    entropy += Double(s.entropies[b][t]); correct += s.top1[b][t] ? 1 : 0
                }
            }
            if n > 0 { losses.append(sum / n); weights.append(Double(ids.count)) }
            count += n
        }
        let total = weights.reduce(0, +)
        return ["loss": zip(losses, weights).reduce(0) { $0 + $1.0 * $1.1 } / max(total, 1),
                "entropy": entropy / max(count, 1), "mean_token_accuracy": correct / max(count, 1)]
    }
}
