#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DogeKernels
import DogeModel

/// A sequence's handle in a `BatchDecoder`.
public struct SequenceID: Hashable, Sendable, CustomStringConvertible {
    public let value: Int
    public var description: String { "seq\(value)" }
}

/// One token a sequence produced in a step.
public struct DecodedToken: Sendable {
    public var sequence: SequenceID
    public var token: Int
    /// The model's raw log-probability of the token (before penalties and temperature), when the
    /// sequence asked for log-probabilities.
    public var logprob: Float?
    /// The `topLogprobs` most likely tokens under the raw distribution, most likely first.
    public var top: [(token: Int, logprob: Float)]
    /// Set when this token ends the sequence (EOS: `.eos`, the token limit: `.length`).
    public var finish: FinishReason?
    /// The raw logits the token was chosen from, when the decoder records them (tests).
    public var logits: [Float]?
}

/// Continuous batching: sequences join and leave between steps, and every step is one batched
/// forward over all running sequences (a matrix product over the batch rows, not a vector product
/// per sequence). Each sequence keeps its own (bounded) Dynamic Mask Attention cache row, its own
/// sampler and seed, so its tokens are the ones `TokenGenerator` gives it alone: the prompt is
/// prefilled alone, and a decode row's arithmetic does not read its neighbours.
///
/// Not thread-safe: one thread drives `add`, `step` and `remove`.
public final class BatchDecoder: @unchecked Sendable {
    public let model: DogeForCausalLM
    /// Most sequences decoding together.
    public let capacity: Int
    public var backend: ComputeBackend = .shared
    /// Keep each step's raw logits in the outputs (for parity tests; costs a vocab-sized copy).
    public var recordLogits = false

    private struct Running {
        let id: SequenceID
        var sampler: TokenSampler
        var tokens: [Int]          // prompt + generated, for the repetition penalty
        let promptCount: Int
        var generated = 0
        var lastToken: Int?        // produced but not yet fed to the model
        let topLogprobs: Int?
        let eos: Set<Int>
        var maxNewTokens: Int
    }

    private var rows: [Running] = []         // row r of `cache` belongs to rows[r]
    private var waiting: [Running] = []      // added, prefilled on the next step
    private let cache: DogeCache
    private var nextID = 0
    private let bounded: Bool

    public init(model: DogeForCausalLM, capacity: Int, boundedCache: Bool = true) {
        precondition(capacity > 0, "capacity must be at least 1")
        self.model = model
        self.capacity = capacity
        self.bounded = boundedCache
        cache = model.makeCache(batch: capacity, bounded: boundedCache)
    }

    /// Sequences added and not yet removed or finished.
    public var count: Int { rows.count + waiting.count }
    public var isFull: Bool { count >= capacity }
    public var isEmpty: Bool { count == 0 }

    /// Longest prompt the model's position scheme covers.
    public var maxPromptTokens: Int { TokenGenerator(model: model).maxPromptTokens }

    /// Adds a sequence; its prompt is prefilled, and its first token chosen, by the next `step`.
    /// `config.seed` seeds its sampler. `logprobs`: nil for none (saves a pass over the vocabulary
    /// per token), 0 for each token's raw log-probability, k > 0 for that and the k most likely.
    public func add(prompt: [Int], config: GenerationConfig, logprobs: Int? = nil) throws -> SequenceID {
        try config.validate()
        guard !prompt.isEmpty else { throw GenerationError.emptyPrompt }
        guard count < capacity else { throw GenerationError.invalidSetting("batch", "all \(capacity) slots are busy") }
        if prompt.count > maxPromptTokens { throw GenerationError.promptTooLong(tokens: prompt.count, limit: maxPromptTokens) }
        for id in prompt where id < 0 || id >= model.config.vocabSize {
            throw GenerationError.invalidSetting("prompt", "token id \(id) is outside the vocabulary (0..<\(model.config.vocabSize))")
        }
        let id = SequenceID(value: nextID)
        nextID += 1
        waiting.append(Running(id: id, sampler: TokenSampler(config: config), tokens: prompt, promptCount: prompt.count,
                               topLogprobs: logprobs.map { max(0, $0) }, eos: Set(config.eosTokenIds),
                               maxNewTokens: config.maxNewTokens))
        return id
    }

    /// Drops a sequence (finished, cancelled or disconnected) and frees its slot now.
    public func remove(_ id: SequenceID) {
        if let w = waiting.firstIndex(where: { $0.id == id }) { waiting.remove(at: w); return }
        guard let r = rows.firstIndex(where: { $0.id == id }) else { return }
        let last = rows.count - 1
        cache.swapRows(r, last)
        rows.swapAt(r, last)
        rows.removeLast()
        cache.clearRow(last)
    }

    /// One step: prefills the sequences added since the last step, then one batched forward over
    /// the running ones; returns one token for each. Finished sequences are removed.
    public func step() throws -> [DecodedToken] {
        var out: [DecodedToken] = []
        // Decode first, so the rows' cache layout is settled before newcomers join.
        let decoding = rows.indices.filter { rows[$0].lastToken != nil }
        if !decoding.isEmpty {
            precondition(decoding.count == rows.count)
            out = chooseAll(try batchedForward())
        }
        while let next = waiting.first {
            waiting.removeFirst()
            let r = rows.count
            rows.append(next)
            let single = model.makeCache(batch: 1, bounded: bounded)
            let logits = try model.logits(ids: [next.tokens], logitsToKeep: 1, cache: single, backend: backend)
            cache.adoptRow(r, from: single)
            out.append(choose(row: r, logits: logits.data))
        }
        for token in out where token.finish != nil { remove(token.sequence) }
        return out
    }

    /// Logits [rows, vocab] for every running row's last token, in one forward call.
    private func batchedForward() throws -> Tensor {
        let ids = rows.map { [$0.lastToken!] }
        let positions = rows.indices.map { [cache.length(ofRow: $0)] }
        // transformers' `.view` router split mixes the scores of the tokens in one call; a decode
        // step of one sequence has one token, where both splits agree. Keep rows independent.
        let split = model.model.routerSplit
        if model.config.isMoE && rows.count > 1 { model.model.routerSplit = .perToken }
        defer { if model.config.isMoE { model.model.routerSplit = split } }
        let logits = try model.logits(ids: ids, positions: positions, logitsToKeep: 1, cache: cache, backend: backend)
        for r in rows.indices { rows[r].lastToken = nil }
        return logits
    }

    /// Every running row's next token from its row of `logits` [rows, vocab]. Rows share nothing
    /// (each has its own sampler, seed and tokens), and sampling passes over the whole vocabulary
    /// (penalty, top-k, softmax, draw), so the rows are spread over the pool's threads.
    private func chooseAll(_ logits: Tensor) -> [DecodedToken] {
        let V = model.config.vocabSize, record = recordLogits
        var chosen = [DecodedToken?](repeating: nil, count: rows.count)
        logits.data.withUnsafeBufferPointer { lp in
            rows.withUnsafeMutableBufferPointer { rp in
                chosen.withUnsafeMutableBufferPointer { cp in
                    backend.pool.parallel(parts: rp.count) { r in
                        cp[r] = Self.choose(&rp[r], logits: Array(lp[(r * V)..<((r + 1) * V)]), recordLogits: record)
                    }
                }
            }
        }
        return chosen.map { $0! }
    }

    /// Samples row r's next token from its raw logits and records it.
    private func choose(row r: Int, logits: [Float]) -> DecodedToken {
        Self.choose(&rows[r], logits: logits, recordLogits: recordLogits)
    }

    private static func choose(_ s: inout Running, logits: [Float], recordLogits: Bool) -> DecodedToken {
        let token = s.sampler.next(logits, sequence: s.tokens, generated: s.generated)
        var logprob: Float?, top: [(token: Int, logprob: Float)] = []
        if let k = s.topLogprobs { (logprob, top) = Self.logprobs(logits, token: token, top: k) }
        s.tokens.append(token)
        s.generated += 1
        s.lastToken = token
        var finish: FinishReason?
        if s.eos.contains(token) { finish = .eos } else if s.generated >= s.maxNewTokens { finish = .length }
        return DecodedToken(sequence: s.id, token: token, logprob: logprob, top: top, finish: finish,
                            logits: recordLogits ? logits : nil)
    }

    /// log_softmax of the raw logits at `token`, and the `top` largest entries.
    static func logprobs(_ logits: [Float], token: Int, top: Int) -> (Float, [(token: Int, logprob: Float)]) {
        var m = -Float.infinity
        for x in logits where x > m { m = x }
        var sum: Double = 0
        for x in logits { sum += Double(expf(x - m)) }
        let logZ = m + Float(log(sum))
        guard top > 0 else { return (logits[token] - logZ, []) }
        var best: [(token: Int, logprob: Float)] = []
        best.reserveCapacity(top + 1)
        for (i, x) in logits.enumerated() where best.count < top || x > best[best.count - 1].logprob {
            var at = best.count
            while at > 0 && best[at - 1].logprob < x { at -= 1 }
            best.insert((i, x), at: at)
            if best.count > top { best.removeLast() }
        }
        return (logits[token] - logZ, best.map { ($0.token, $0.logprob - logZ) })
    }
}
