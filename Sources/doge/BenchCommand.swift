import ArgumentParser
import Foundation
import DogeGeneration
import DogeKernels
import DogeModel

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the workloads of the PyTorch reference benchmark on random weights; prints one JSON line.",
        discussion: """
            Same shapes, workloads and JSON field names as scripts/bench/torch_baseline.py, so the \
            two run side by side on one machine:

              doge bench doge-20m prefill      one forward over 512 tokens, logits of the last position \
            (median of 20 runs after 3 warm-ups) -> prefill_tok_s
              doge bench doge-20m decode       16-token prompt, 128 greedy tokens with the cache, batch 1 \
            (median of 5 runs after a warm-up) -> decode_tok_s
              doge bench doge-20m decode --batch 16   16 sequences (16-token prompts, 128 greedy tokens each) \
            decoded together by the continuous-batching engine, one batched forward per step \
            (median of 3 runs) -> aggregate decode_tok_s
              doge bench doge-60m decode --dtype bf16     the same with the matrices held as BF16 \
            (random weights rounded to BF16); --quantize q8_0|q4_0 holds them quantized
              doge bench doge-20m decode-long  16,384 greedy tokens with keep_window_size 2048: ms per token \
            and resident memory around 1k, 4k and 16k tokens (flat with the bounded cache)
              doge bench doge-20m prefill-long one forward over 2,048, 4,096, 8,192 and 16,384 tokens with \
            keep_window_size 2048 and random A (dt varies per key), logits of the last position (median of 3) \
            -> prefill_s_at_N, cpu_s_at_N, peak_rss_mb_at_N; scripts/bench/torch_prefill_long.py is the transformers side

            The PyTorch side, from the repository root (pip install torch transformers):
              python3 scripts/bench/torch_baseline.py doge-20m prefill
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
        case decode
        case decodeLong = "decode-long"
        case prefillLong = "prefill-long"
    }

    @Argument(help: "Model shape: \(Size.allCases.map(\.rawValue).joined(separator: ", ")).")
    var size: Size

    @Argument(help: "Workload: \(Mode.allCases.map(\.rawValue).joined(separator: ", ")).")
    var mode: Mode

    @Option(name: .long, help: "decode only: B sequences decoded together by the continuous-batching engine (BatchDecoder); decode_tok_s is then the aggregate over all B.")
    var batch: Int?

    @Option(name: .long, help: "prefill-long: comma-separated prompt lengths (default 2048,4096,8192,16384).")
    var tokens: String?

    @Option(name: .long, help: "How the matrices are held: f32 (default), bf16 or f16 (random weights rounded to it).")
    var dtype: String = "f32"

    @OptionGroup var weights: WeightOptions

    func validate() throws {
        if let batch {
            guard mode == .decode else { throw ValidationError("--batch applies to the decode workload only") }
            guard (1...512).contains(batch) else { throw ValidationError("--batch must be between 1 and 512, got \(batch)") }
        }
        guard let d = WeightStorage(rawValue: dtype.lowercased()), !d.isQuantized else {
            throw ValidationError("--dtype \"\(dtype)\" is not one of f32, bf16, f16 (quantized types go through --quantize)")
        }
        if d != .f32, weights.quantize != nil { throw ValidationError("give --dtype or --quantize, not both") }
        if mode == .train, d != .f32 || weights.quantize != nil {
            throw ValidationError("train runs in float32: --dtype and --quantize are for prefill and decode")
        }
    }

    func run() throws {
        var config = DogeConfiguration()
        (config.hiddenSize, config.intermediateSize, config.numHiddenLayers, config.numAttentionHeads, config.numKeyValueHeads) = size.shape
        config.vocabSize = 32768
        config.maxPositionEmbeddings = 2048
        config.keepWindowSize = 2048
        config.tieWordEmbeddings = true
        try config.validate()
        let storage = try weights.loading().quantize ?? WeightStorage(rawValue: dtype.lowercased())!
        let random = DogeForCausalLM(config: config, seed: 0)
        let model = storage == .f32 ? random : random.holdingMatrices(as: storage)
        var rng = SeededGenerator(seed: 1)
        var result: [String: Any] = [
            "size": size.rawValue, "mode": mode.rawValue,
            "params": random.namedParameters().values.reduce(0) { $0 + $1.count },
            "threads": ComputeBackend.shared.pool.threads, "backend": ComputeBackend.shared.name,
            "weights": model.weightStorage,
        ]
        switch mode {
        case .prefill:
            let ids = (0..<512).map { _ in Int(rng.next() % UInt64(config.vocabSize)) }
            for _ in 0..<3 { _ = try model.logits(ids: [ids], logitsToKeep: 1) }
            let times = try (0..<20).map { _ in try seconds { _ = try model.logits(ids: [ids], logitsToKeep: 1) } }
            result["prefill_tok_s"] = (512 / median(times) * 10).rounded() / 10
        case .decode where batch != nil:
            let b = batch!
            let prompts = (0..<b).map { _ in (0..<16).map { _ in Int(rng.next() % UInt64(config.vocabSize)) } }
            func run(_ tokens: Int) throws {
                let decoder = BatchDecoder(model: model, capacity: b)
                var c = GenerationConfig.greedy(maxNewTokens: tokens)
                c.eosTokenIds = []
                for p in prompts { _ = try decoder.add(prompt: p, config: c) }
                while !decoder.isEmpty { _ = try decoder.step() }
            }
            try run(8)
            let times = try (0..<3).map { _ in try seconds { try run(128) } }
            result["batch"] = b
            result["decode_tok_s"] = (Double(b * 128) / median(times) * 10).rounded() / 10
        case .decode:
            let prompt = (0..<16).map { _ in Int(rng.next() % UInt64(config.vocabSize)) }
            let generator = TokenGenerator(model: model)
            try generator.generate(prompts: [prompt], config: .greedy(maxNewTokens: 8))
            let times = try (0..<5).map { _ in
                try seconds { try generator.generate(prompts: [prompt], config: .greedy(maxNewTokens: 128)) }
            }
            result["decode_tok_s"] = (128 / median(times) * 10).rounded() / 10
        case .decodeLong:
            let prompt = (0..<16).map { _ in Int(rng.next() % UInt64(config.vocabSize)) }
            let generator = TokenGenerator(model: model)
            var stamps: [UInt64] = []
            var memory: [Int: Double] = [:]
            let checkpoints = [1024, 4096, 16384]
            try generator.generate(prompts: [prompt], config: .greedy(maxNewTokens: 16384)) { step in
                stamps.append(DispatchTime.now().uptimeNanoseconds)
                if checkpoints.contains(step.index + 1) { memory[step.index + 1] = residentMegabytes() }
                return true
            }
            for n in checkpoints where stamps.count >= n {
                let window = stamps[(n - 256)..<n]   // the 256 tokens before the checkpoint
                result["ms_per_token_at_\(n)"] = (Double(window.last! - window.first!) / 1e6 / 255 * 1000).rounded() / 1000
                result["rss_mb_at_\(n)"] = memory[n].map { ($0 * 10).rounded() / 10 }
            }
        case .prefillLong:
            let lengths = try tokens.map(parseIds) ?? [2048, 4096, 8192, 16384]
            guard !lengths.isEmpty, lengths.allSatisfy({ $0 > 0 }) else { throw ValidationError("--tokens: give positive lengths, e.g. 2048,16384") }
            try benchPrefillLong(model: model, rng: &rng, into: &result, lengths: lengths)
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

/// Resident set size of this process in MB (Linux /proc; 0 elsewhere).
func residentMegabytes() -> Double {
    guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
          let pages = statm.split(separator: " ").dropFirst().first.flatMap({ Double($0) }) else { return 0 }
    return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
}

func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}
