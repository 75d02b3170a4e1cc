import DogeKernels
import DogeModel

/// What one decoding step produced, for observers (streaming, tests, benchmarks).
public struct GenerationStep: Sendable {
    /// 0 for the token chosen after the prompt.
    public var index: Int
    /// The model's raw logits for each batch row, before any processing.
    public var logits: [[Float]]
    /// The token chosen for each row (the pad token for rows that had already finished).
    public var tokens: [Int]
    /// Rows that finished at this step or earlier.
    public var finished: [Bool]
}

/// Token-level generation with transformers' `generate` semantics: the prompt in one forward
/// call, then one token per call with the cache; left padding with position ids from the
/// attention mask; finished rows keep receiving the pad token, as transformers does.
public final class TokenGenerator: @unchecked Sendable {
    public let model: DogeForCausalLM
    public var backend: ComputeBackend = .shared

    public init(model: DogeForCausalLM) { self.model = model }

    /// Longest prompt the model's position scheme covers.
    public var maxPromptTokens: Int {
        let c = model.config
        let factor = c.rope.kind == .default ? 1.0 : max(1, c.rope.factor ?? 1)
        return Int(Double(c.maxPositionEmbeddings) * factor)
    }

    /// Generates for a batch of prompts (ragged prompts are left-padded). `onStep` returns false
    /// to stop early (cancellation). Returns the generated ids of each row (prompt excluded).
    @discardableResult
    public func generate(prompts: [[Int]], attentionMask: [[Int]]? = nil, config: GenerationConfig,
                         boundedCache: Bool = true,
                         onStep: (GenerationStep) throws -> Bool = { _ in true }) throws -> [[Int]] {
        try config.validate()
        guard !prompts.isEmpty, prompts.allSatisfy({ !$0.isEmpty }) else { throw GenerationError.emptyPrompt }
        let padId = config.padTokenId ?? config.eosTokenIds.first ?? 0
        var (ids, mask) = try Self.leftPad(prompts, mask: attentionMask, padId: padId)
        let longest = mask.map { $0.reduce(0, +) }.max() ?? 0
        if longest > maxPromptTokens { throw GenerationError.promptTooLong(tokens: longest, limit: maxPromptTokens) }
        let B = ids.count
        let positions = mask.map { row -> [Int] in
            var running = -1
            return row.map { m in running += m; return m == 0 ? 0 : running }
        }
        var lastPosition = positions.map { $0.last ?? 0 }
        let cache = model.makeCache(batch: B, bounded: boundedCache)
        var samplers = (0..<B).map { b in
            var c = config
            c.seed = config.seed &+ UInt64(b)
            return TokenSampler(config: c)
        }
        var generated = Array(repeating: [Int](), count: B)
        var finished = Array(repeating: false, count: B)
        let eos = Set(config.eosTokenIds)
        var stepInput = ids
        var stepMask: [[Int]]? = mask
        var stepPositions = positions
        for step in 0..<config.maxNewTokens {
            let logits = try model.logits(ids: stepInput, attentionMask: stepMask, positions: stepPositions,
                                          logitsToKeep: 1, cache: cache, backend: backend)
            let V = model.config.vocabSize
            var rows: [[Float]] = []
            var chosen: [Int] = []
            for b in 0..<B {
                let row = Array(logits.data[(b * V)..<((b + 1) * V)])
                rows.append(row)
                if finished[b] {
                    chosen.append(padId)
                } else {
                    let token = samplers[b].next(row, sequence: ids[b], generated: step)
                    chosen.append(token)
                    generated[b].append(token)
                    if eos.contains(token) { finished[b] = true }
                }
                ids[b].append(chosen[b])
            }
            let keepGoing = try onStep(GenerationStep(index: step, logits: rows, tokens: chosen, finished: finished))
            if !keepGoing || finished.allSatisfy({ $0 }) { break }
            stepInput = chosen.map { [$0] }
            stepMask = nil
            lastPosition = lastPosition.map { $0 + 1 }
            stepPositions = lastPosition.map { [$0] }
        }
        return generated
    }

    /// Left-pads ragged prompts to one length; an explicit mask must match the prompts.
    static func leftPad(_ prompts: [[Int]], mask: [[Int]]?, padId: Int) throws -> ([[Int]], [[Int]]) {
        if let mask {
            guard mask.count == prompts.count, zip(mask, prompts).allSatisfy({ $0.count == $1.count }) else {
                throw GenerationError.invalidSetting("attention_mask", "must have the prompts' shape")
            }
            return (prompts, mask)
        }
        let T = prompts.map(\.count).max()!
        return (prompts.map { Array(repeating: padId, count: T - $0.count) + $0 },
                prompts.map { Array(repeating: 0, count: T - $0.count) + Array(repeating: 1, count: $0.count) })
    }
}
