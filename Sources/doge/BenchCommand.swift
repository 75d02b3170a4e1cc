import ArgumentParser
import Foundation
import DogeKernels
import DogeModel

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the workloads of the PyTorch reference benchmark on random weights; prints one JSON line.",
        discussion: """
            Same shapes, workloads and JSON field names as shared/bench/torch_baseline.py, so the \
            two run side by side on one machine:

              doge bench doge-20m prefill      one forward over 512 tokens, logits of the last position \
            (median of 20 runs after 3 warm-ups) -> prefill_tok_s
            """
    )

    enum Size: String, ExpressibleByArgument, CaseIterable {
        case doge20m = "doge-20m", doge60m = "doge-60m", doge160m = "doge-160m"

        /// (hidden, intermediate, layers, heads, kv heads), as the PyTorch benchmark.
        var shape: (Int, Int, Int, Int, Int) {
            switch self {
            case .doge20m: return (256, 512, 8, 2, 1)
            case .doge60m: return (512, 1024, 16, 4, 2)
            case .doge160m: return (768, 1536, 24, 6, 3)
            }
        }
    }

    enum Mode: String, ExpressibleByArgument, CaseIterable {
        case prefill
        case train
    }

    @Argument(help: "Model shape: \(Size.allCases.map(\.rawValue).joined(separator: ", ")).")
    var size: Size

    @Argument(help: "Workload: \(Mode.allCases.map(\.rawValue).joined(separator: ", ")).")
    var mode: Mode

    func run() throws {
        var config = DogeConfiguration()
        (config.hiddenSize, config.intermediateSize, config.numHiddenLayers, config.numAttentionHeads, config.numKeyValueHeads) = size.shape
        config.vocabSize = 32768
        config.maxPositionEmbeddings = 2048
        config.keepWindowSize = 2048
        config.tieWordEmbeddings = true
        try config.validate()
        let model = DogeForCausalLM(config: config, seed: 0)
        var rng = SeededGenerator(seed: 1)
        var result: [String: Any] = [
            "size": size.rawValue, "mode": mode.rawValue,
            "params": model.namedParameters().values.reduce(0) { $0 + $1.count },
            "threads": ProcessEnvironment.coreCount, "backend": ComputeBackend.shared.name,
        ]
        switch mode {
        case .prefill:
            let ids = (0..<512).map { _ in Int(rng.next() % UInt64(config.vocabSize)) }
            for _ in 0..<3 { _ = try model.logits(ids: [ids], logitsToKeep: 1) }
            let times = try (0..<20).map { _ in try seconds { _ = try model.logits(ids: [ids], logitsToKeep: 1) } }
            result["prefill_tok_s"] = (512 / median(times) * 10).rounded() / 10
        case .train:
            try benchTrain(model: model, rng: &rng, into: &result)
        }
        let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}
