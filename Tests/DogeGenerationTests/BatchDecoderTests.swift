import Foundation
import Testing
import DogeKernels
import DogeModel
@testable import DogeGeneration

/// The batched decoder gives every sequence what `TokenGenerator` gives it alone: the same tokens,
/// and the same logits bit for bit where products of a few rows run the decode GEMV row by row
/// (the built-in SIMD kernels; within 1e-4 elsewhere), while sequences join and leave between steps.
@Suite struct BatchDecoderTests {
    /// Whether the shared backend gives a batched decode step's rows the bits they get alone.
    static var exact: Bool {
        let b = ComputeBackend.shared
        return b.isa != .portable && (b.kind == .builtin || b.gemvForDecode)
    }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let bundled = root.appendingPathComponent("Models/doge-tiny")

    struct Request {
        var prompt: [Int]
        var config: GenerationConfig
        var joinAt: Int          // the step at which it is added
    }

    /// Alone: tokens and per-step raw logits from TokenGenerator.
    static func alone(_ model: DogeForCausalLM, _ r: Request) throws -> ([Int], [[Float]]) {
        var logits: [[Float]] = []
        let tokens = try TokenGenerator(model: model).generate(prompts: [r.prompt], config: r.config) { step in
            logits.append(step.logits[0]); return true
        }[0]
        return (tokens, logits)
    }

    /// Together: every request through one BatchDecoder, joining at its step.
    static func together(_ model: DogeForCausalLM, _ requests: [Request], capacity: Int) throws -> ([[Int]], [[[Float]]]) {
        let decoder = BatchDecoder(model: model, capacity: capacity)
        decoder.recordLogits = true
        var ids: [SequenceID: Int] = [:]
        var tokens = Array(repeating: [Int](), count: requests.count)
        var logits = Array(repeating: [[Float]](), count: requests.count)
        var step = 0
        while step < 1000 {
            for (i, r) in requests.enumerated() where r.joinAt == step {
                ids[try decoder.add(prompt: r.prompt, config: r.config)] = i
            }
            if decoder.isEmpty && requests.allSatisfy({ $0.joinAt < step }) { break }
            for t in try decoder.step() {
                let i = ids[t.sequence]!
                tokens[i].append(t.token)
                logits[i].append(t.logits!)
            }
            step += 1
        }
        return (tokens, logits)
    }

    static func requests(vocab: Int, eos: [Int], sampled: Bool) -> [Request] {
        var rng = SeededGenerator(seed: 9)
        return (0..<6).map { i in
            var c = GenerationConfig.greedy(maxNewTokens: 6 + 3 * i)
            c.eosTokenIds = eos
            c.repetitionPenalty = i % 2 == 0 ? 1.1 : 1
            if sampled { c.doSample = true; c.temperature = 0.9; c.topP = 0.95; c.topK = 40; c.seed = UInt64(100 + i) }
            let prompt = (0..<(3 + 5 * i)).map { _ in Int(rng.next() % UInt64(vocab)) }
            return Request(prompt: prompt, config: c, joinAt: [0, 0, 2, 3, 3, 7][i])
        }
    }

    static func check(_ model: DogeForCausalLM, sampled: Bool) throws -> Float {
        let requests = requests(vocab: model.config.vocabSize, eos: model.config.eosTokenIds, sampled: sampled)
        let (batched, batchedLogits) = try together(model, requests, capacity: requests.count)
        var worst: Float = 0
        for (i, r) in requests.enumerated() {
            let (tokens, logits) = try alone(model, r)
            #expect(batched[i] == tokens, "request \(i): batched \(batched[i]) vs alone \(tokens)")
            for (a, b) in zip(batchedLogits[i], logits) { for v in a.indices { worst = max(worst, abs(a[v] - b[v])) } }
        }
        return worst
    }

    @Test func greedyAndSampledSequencesEqualTokenGeneratorAlone() throws {
        let model = try DogeForCausalLM(directory: Self.bundled)
        let greedy = try Self.check(model, sampled: false)
        let sampled = try Self.check(model, sampled: true)
        print("BatchDecoder doge-tiny worst |Δlogit| greedy \(greedy), sampled \(sampled)")
        #expect(Self.exact ? greedy == 0 && sampled == 0 : greedy < 1e-4 && sampled < 1e-4)
    }

    /// Keys evicted by the bounded cache (keep_window) and CDMoE routing stay per row.
    @Test(arguments: ["keep_window", "cdmoe"])
    func fixtureModelsMatchAlone(name: String) throws {
        let model = try DogeForCausalLM(directory: GenerationFixtures.directory.appendingPathComponent(name))
        let worst = try Self.check(model, sampled: true)
        print("BatchDecoder \(name) worst |Δlogit| \(worst)")
        #expect(Self.exact ? worst == 0 : worst < 1e-4)
    }

    @Test func slotsFreeAndWaitersJoin() throws {
        let model = try DogeForCausalLM(directory: Self.bundled)
        let decoder = BatchDecoder(model: model, capacity: 2)
        var c = GenerationConfig.greedy(maxNewTokens: 50)
        c.eosTokenIds = []
        let a = try decoder.add(prompt: [5, 6, 7], config: c)
        let b = try decoder.add(prompt: [8, 9], config: c)
        #expect(decoder.isFull)
        #expect(throws: GenerationError.self) { try decoder.add(prompt: [1], config: c) }
        _ = try decoder.step()
        decoder.remove(a)
        #expect(decoder.count == 1)
        let d = try decoder.add(prompt: [10, 11, 12, 13], config: c)
        let out = try decoder.step()
        #expect(Set(out.map(\.sequence)) == [b, d])
        // A sequence that joined late still equals its solo run.
        var tokens: [Int] = out.filter { $0.sequence == d }.map(\.token)
        for _ in 0..<4 { tokens += try decoder.step().filter { $0.sequence == d }.map(\.token) }
        var solo = c; solo.maxNewTokens = 5
        #expect(tokens == (try TokenGenerator(model: model).generate(prompts: [[10, 11, 12, 13]], config: solo)[0]))
    }

    @Test func rawLogprobsAndTopAlternatives() {
        let logits: [Float] = [1, 3, 2, -1]
        let (lp, top) = BatchDecoder.logprobs(logits, token: 2, top: 2)
        let z = log(logits.map { exp(Double($0)) }.reduce(0, +))
        #expect(abs(Double(lp) - (2 - z)) < 1e-6)
        #expect(top.map(\.token) == [1, 2])
        #expect(abs(Double(top[0].logprob) - (3 - z)) < 1e-6)
    }
}
