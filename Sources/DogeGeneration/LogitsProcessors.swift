#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DogeModel

/// transformers' logits processors, applied in its order: repetition penalty, then (sampling
/// only) temperature, top-k, top-p, min-p. Each works in place on one row of scores.
public enum LogitsProcessors {
    /// `RepetitionPenaltyLogitsProcessor`: every id already in the sequence (prompt included) has
    /// its score divided by the penalty when positive, multiplied when negative.
    public static func repetitionPenalty(_ scores: inout [Float], sequence: [Int], penalty: Float) {
        guard penalty != 1 else { return }
        for id in Set(sequence) where id >= 0 && id < scores.count {
            let s = scores[id]
            scores[id] = s < 0 ? s * penalty : s / penalty
        }
    }

    public static func temperature(_ scores: inout [Float], _ t: Float) {
        guard t != 1 else { return }
        for i in scores.indices { scores[i] /= t }
    }

    /// `TopKLogitsWarper`: keeps every score ≥ the k-th largest (ties at the cutoff stay).
    public static func topK(_ scores: inout [Float], _ k: Int) {
        guard k > 0, k < scores.count else { return }
        // The k largest values, kept sorted descending (a pass over the vocabulary, no full sort).
        var best: [Float] = []
        best.reserveCapacity(k + 1)
        for x in scores where best.count < k || x > best[k - 1] {
            var at = best.count
            while at > 0 && best[at - 1] < x { at -= 1 }
            best.insert(x, at: at)
            if best.count > k { best.removeLast() }
        }
        let cutoff = best[k - 1]
        for i in scores.indices where scores[i] < cutoff { scores[i] = -.infinity }
    }

    /// `TopPLogitsWarper`: sorts ascending, removes tokens whose cumulative probability is
    /// ≤ 1 − p, always keeping the most likely one.
    public static func topP(_ scores: inout [Float], _ p: Float) {
        guard p < 1 else { return }
        // Entries already at -inf (after top-k) have probability 0: they change no cumulative sum
        // and stay removed, so only the finite ones need sorting. The same result, far fewer sorted.
        let finite = scores.indices.filter { scores[$0] > -.infinity }
        guard !finite.isEmpty else { return }
        let order = finite.sorted { scores[$0] != scores[$1] ? scores[$0] < scores[$1] : $0 < $1 }
        let probabilities = softmax(order.map { scores[$0] })
        var cumulative: Float = 0
        for (rank, index) in order.enumerated() {
            cumulative += probabilities[rank]
            if cumulative <= 1 - p && rank < order.count - 1 { scores[index] = -.infinity }
        }
    }

    /// `MinPLogitsWarper`: removes tokens less likely than min_p × the top probability.
    public static func minP(_ scores: inout [Float], _ minP: Float) {
        let probabilities = softmax(scores)
        guard let top = probabilities.max(), let best = probabilities.firstIndex(of: top) else { return }
        let threshold = minP * top
        for i in scores.indices where probabilities[i] < threshold && i != best { scores[i] = -.infinity }
    }

    /// Float32 softmax (max-subtracted), as torch.
    public static func softmax(_ x: [Float]) -> [Float] {
        guard let m = x.max(), m > -.infinity else { return x.map { _ in 1 / Float(x.count) } }
        var e = x.map { expf($0 - m) }
        let sum = e.reduce(0, +)
        for i in e.indices { e[i] /= sum }
        return e
    }
}

/// Picks the next token of one row from its raw logits.
public struct TokenSampler: Sendable {
    public let config: GenerationConfig
    private var rng: SeededGenerator

    public init(config: GenerationConfig) {
        self.config = config
        rng = SeededGenerator(seed: config.seed)
    }

    /// The processed scores (what the sampler draws from), in transformers' order.
    public func process(_ logits: [Float], sequence: [Int], generated: Int) -> [Float] {
        var scores = penalized(logits, sequence: sequence, generated: generated)
        if config.doSample { warp(&scores) }
        return scores
    }

    /// Repetition penalty and the EOS ban of min_new_tokens: what greedy decoding takes the argmax of.
    func penalized(_ logits: [Float], sequence: [Int], generated: Int) -> [Float] {
        var scores = logits
        LogitsProcessors.repetitionPenalty(&scores, sequence: sequence, penalty: config.repetitionPenalty)
        if generated < config.minNewTokens {
            for e in config.eosTokenIds where e >= 0 && e < scores.count { scores[e] = -.infinity }
        }
        return scores
    }

    /// Temperature, top-k, top-p, min-p (sampling only).
    func warp(_ scores: inout [Float]) {
        LogitsProcessors.temperature(&scores, config.temperature)
        LogitsProcessors.topK(&scores, config.topK)
        LogitsProcessors.topP(&scores, config.topP)
        if let minP = config.minP { LogitsProcessors.minP(&scores, minP) }
    }

    public mutating func next(_ logits: [Float], sequence: [Int], generated: Int) -> Int {
        let base = penalized(logits, sequence: sequence, generated: generated)
        guard config.doSample else { return argmax(base) }
        var scores = base
        warp(&scores)
        // A temperature (or penalty) so small that scores overflow to +inf has the greedy choice as
        // its limit; softmax would turn the infinities into NaN and silently pick token 0.
        if scores.contains(where: { $0 == .infinity || $0.isNaN }) { return argmax(base) }
        let probabilities = LogitsProcessors.softmax(scores)
        let u = Float(Double(rng.next() >> 11) / Double(1 << 53))
        var cumulative: Float = 0
        var last = 0
        for (i, p) in probabilities.enumerated() where p > 0 {
            cumulative += p
            last = i
            if u < cumulative { return i }
        }
        return last
    }
}

/// Index of the first largest value (torch.argmax's choice on ties).
public func argmax(_ x: [Float]) -> Int {
    var best = 0
    for i in x.indices where x[i] > x[best] { best = i }
    return best
}
