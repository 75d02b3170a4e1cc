import DogeKernels
import DogeModel
import Foundation

/// A tokenized `(context, continuation)` request.
public struct TokenRequest: Sendable, Equatable {
    public var context: [Int]
    public var continuation: [Int]
    public init(context: [Int], continuation: [Int]) {
        self.context = context
        self.continuation = continuation
    }
}

/// The log-likelihood of a continuation and whether greedy decoding would produce it.
public struct Scored: Sendable, Equatable {
    public var loglikelihood: Double
    public var isGreedy: Bool
}

/// Scores requests as lm-eval's HF backend does (`(context + continuation)[-(L+1):][:-1]`, the
/// last len(continuation) logits, log-softmax, sum), but fast: the requests of one group (a
/// question's choices) share one forward over their common prefix, each continuation then runs
/// from a copy of that prefix's cache; groups of many documents go through the model together
/// (prefixes left-padded, continuations right-padded, positions explicit).
public final class LoglikelihoodScorer: @unchecked Sendable {
    public let model: DogeForCausalLM
    public let maxLength: Int
    /// Documents (groups) per forward call at most.
    public var maxGroupsPerBatch: Int
    /// Padded tokens per forward call at most (prefix and continuation calls each).
    public var maxTokensPerBatch = 6144
    /// Share prefixes and batch across groups. Off for CDMoE with transformers' cross-token
    /// router view, whose outputs depend on what else is in the forward call: then every request
    /// runs alone over its whole input, as lm-eval's batch size 1.
    public var shareContext: Bool
    public var backend: ComputeBackend = .shared

    public init(model: DogeForCausalLM, maxLength: Int? = nil, batchSize: Int = 32) {
        self.model = model
        self.maxLength = maxLength ?? model.config.maxPositionEmbeddings
        self.maxGroupsPerBatch = max(1, batchSize)
        self.shareContext = !(model.config.isMoE && model.model.routerSplit == .transformersView)
    }

    private struct Prepared {
        var input: [Int]
        var continuation: [Int]
        var firstScored: Int { input.count - continuation.count }
    }

    private struct PreparedGroup {
        var index: Int
        /// Positions of `requests` within the original group.
        var slots: [Int]
        var requests: [Prepared]
        var prefix: Int
        var cost: Int { prefix + requests.reduce(0) { $0 + $1.input.count - prefix } }
    }

    /// Scores groups of requests; `progress` receives the number of groups finished so far.
    public func score(_ groups: [[TokenRequest]], progress: (Int) -> Void = { _ in }) throws -> [[Scored]] {
        var prepared: [PreparedGroup] = []
        for (g, group) in groups.enumerated() {
            let requests = try group.map { r -> Prepared in
                guard !r.context.isEmpty else { throw EvalError(.usage, "a request has an empty context (use the prefix token)") }
                guard !r.continuation.isEmpty else { throw EvalError(.usage, "a request has an empty continuation") }
                guard r.continuation.count <= maxLength else {
                    throw EvalError(.usage, "a continuation of \(r.continuation.count) tokens is longer than the model's \(maxLength)")
                }
                let whole = r.context + r.continuation
                let kept = whole.count > maxLength + 1 ? Array(whole.suffix(maxLength + 1)) : whole
                return Prepared(input: Array(kept.dropLast()), continuation: r.continuation)
            }
            if shareContext && requests.count > 1 {
                    var common = requests.map(\.firstScored).min()!
                    let first = requests[0].input
                    for r in requests.dropFirst() {
                        var i = 0
                        while i < common && i < r.input.count && r.input[i] == first[i] { i += 1 }
                        common = i
                    }
                    prepared.append(PreparedGroup(index: g, slots: Array(requests.indices), requests: requests, prefix: common))
            } else {
                for (i, request) in requests.enumerated() { prepared.append(PreparedGroup(index: g, slots: [i], requests: [request], prefix: 0)) }
            }
        }
        // Documents sharing a long head (MMLU's description and five dev questions) form a family
        // whose head is computed once per batch. Families stay together; longest first (as
        // lm-eval), so padding within a batch stays small.
        let family = shareContext ? Self.shareHeads(&prepared) : Array(prepared.indices)
        var familyCost = [Int: Int]()
        for (i, g) in prepared.enumerated() { familyCost[family[i]] = max(familyCost[family[i]] ?? 0, g.cost) }
        let order = prepared.indices.sorted { a, b in
            let (ca, cb) = (familyCost[family[a]]!, familyCost[family[b]]!)
            if ca != cb { return ca > cb }
            if family[a] != family[b] { return family[a] < family[b] }
            return prepared[a].cost > prepared[b].cost
        }
        var results = groups.map { Array(repeating: Scored(loglikelihood: 0, isGreedy: false), count: $0.count) }
        var filled = groups.map { Array(repeating: false, count: $0.count) }
        var done = 0
        var position = 0
        while position < order.count {
            var batch: [PreparedGroup] = []
            var families = Set<Int>()
            var maxPrefix = 0, maxSuffix = 0, rows = 0
            while position < order.count {
                let g = prepared[order[position]]
                if !shareContext && !batch.isEmpty { break }
                let p = max(maxPrefix, g.prefix)
                let s = max(maxSuffix, g.requests.map { $0.input.count - g.prefix }.max()!)
                let r = rows + g.requests.count
                let prefixRows = families.count + (families.contains(family[order[position]]) ? 0 : 1)
                if !batch.isEmpty && (batch.count >= maxGroupsPerBatch || prefixRows * p > maxTokensPerBatch || r * s > maxTokensPerBatch) { break }
                batch.append(g); maxPrefix = p; maxSuffix = s; rows = r
                families.insert(family[order[position]])
                position += 1
            }
            let scores = try run(batch)
            for (g, groupScores) in zip(batch, scores) {
                for (slot, s) in zip(g.slots, groupScores) {
                    results[g.index][slot] = s
                    filled[g.index][slot] = true
                }
                if filled[g.index].allSatisfy({ $0 }) { done += 1 }
            }
            progress(done)
        }
        return results
    }

    /// Heads shorter than this are not shared across documents.
    static let minimumSharedHead = 64

    /// Finds runs of consecutive documents whose prefixes share at least `minimumSharedHead`
    /// tokens and, where it costs fewer tokens (each document's rest then runs once per choice
    /// instead of once), sets their prefix to that shared head. Returns a family id per group.
    private static func shareHeads(_ prepared: inout [PreparedGroup]) -> [Int] {
        var family = Array(prepared.indices)
        var i = 0
        while i < prepared.count {
            guard prepared[i].requests.count > 1 else { i += 1; continue }
            let first = prepared[i].requests[0].input
            var head = prepared[i].prefix
            var j = i + 1
            while j < prepared.count, prepared[j].requests.count > 1 {
                let other = prepared[j].requests[0].input
                let limit = min(head, prepared[j].prefix)
                var k = 0
                while k < limit && first[k] == other[k] { k += 1 }
                if k < minimumSharedHead { break }
                head = k
                j += 1
            }
            let extra = prepared[i..<j].reduce(0) { $0 + ($1.prefix - head) * ($1.requests.count - 1) }
            if j - i >= 2 && extra < head * (j - i - 1) {
                for m in i..<j { prepared[m].prefix = head; family[m] = i }
            }
            i = max(j, i + 1)
        }
        return family
    }

    /// A continuation-pass row: one request's tokens after its group's prefix.
    private struct SuffixRow {
        var prefixCache: (source: DogeCache, row: Int)
        var tokens: [Int]
        var start: Int
        /// Continuation tokens, the last positions of `tokens`.
        var continuation: [Int]
    }

    /// One batch: forwards over the distinct prefixes (a family's shared head once), then the
    /// continuations from copies of their prefixes' caches, then the LM head at the scored
    /// positions only. Prefixes and continuations each go through the model in runs of similar
    /// length (prefixes left-padded, continuations right-padded within a run).
    private func run(_ batch: [PreparedGroup]) throws -> [[Scored]] {
        var unique: [[Int]: Int] = [:]
        var prefixRow: [Int] = []
        var prefixes: [[Int]] = []
        for g in batch {
            let prefix = Array(g.requests[0].input.prefix(g.prefix))
            if let row = unique[prefix] { prefixRow.append(row) } else {
                unique[prefix] = prefixes.count
                prefixRow.append(prefixes.count)
                prefixes.append(prefix)
            }
        }
        // Prefixes go through the model in runs of similar length (left-padded within a run).
        var prefixCache = [(source: DogeCache, row: Int)?](repeating: nil, count: prefixes.count)
        for run in Self.runsOfSimilarLength(prefixes.map(\.count)) {
            let longest = run.map { prefixes[$0].count }.max()!
            let cache = model.makeCache(batch: run.count)
            if longest > 0 {
                var ids = [[Int]](), real = [[Bool]](), positions = [[Int]]()
                for p in run {
                    let pad = longest - prefixes[p].count
                    ids.append(Array(repeating: 0, count: pad) + prefixes[p])
                    real.append(Array(repeating: false, count: pad) + Array(repeating: true, count: prefixes[p].count))
                    positions.append(Array(repeating: 0, count: pad) + Array(0..<prefixes[p].count))
                }
                let layout = BatchLayout(batch: run.count, tokens: longest, isReal: real)
                _ = try model.model.hiddenStates(ids: ids, layout: layout, positions: positions, cache: cache, backend: backend)
            }
            for (r, p) in run.enumerated() { prefixCache[p] = (cache, r) }
        }
        var rows: [SuffixRow] = []
        for (d, g) in batch.enumerated() {
            for r in g.requests {
                rows.append(SuffixRow(prefixCache: prefixCache[prefixRow[d]]!, tokens: Array(r.input[g.prefix...]), start: g.prefix, continuation: r.continuation))
            }
        }
        var scored = [Scored](repeating: Scored(loglikelihood: 0, isGreedy: false), count: rows.count)
        for run in Self.runsOfSimilarLength(rows.map(\.tokens.count)) {
            try scoreContinuations(run.map { rows[$0] }).enumerated().forEach { scored[run[$0.offset]] = $0.element }
        }
        var out: [[Scored]] = []
        var row = 0
        for g in batch {
            out.append(Array(scored[row..<(row + g.requests.count)]))
            row += g.requests.count
        }
        return out
    }

    /// Continuation rows through the model together (right-padded to the longest), each from a
    /// copy of its prefix's cache; the LM head runs on the scored positions only.
    private func scoreContinuations(_ rows: [SuffixRow]) throws -> [Scored] {
        let S = rows.map(\.tokens.count).max()!
        var ids: [[Int]] = [], real: [[Bool]] = [], positions: [[Int]] = []
        for r in rows {
            let pad = S - r.tokens.count
            ids.append(r.tokens + Array(repeating: 0, count: pad))
            real.append(Array(repeating: true, count: r.tokens.count) + Array(repeating: false, count: pad))
            positions.append(Array(r.start..<(r.start + S)))
        }
        let cache = model.cache(gathering: rows.map(\.prefixCache))
        let layout = BatchLayout(batch: rows.count, tokens: S, isReal: real)
        let hidden = try model.model.hiddenStates(ids: ids, layout: layout, positions: positions, cache: cache, backend: backend)
        let H = model.config.hiddenSize, V = model.config.vocabSize
        let N = rows.reduce(0) { $0 + $1.continuation.count }
        var selected = Tensor(zeros: [N, H])
        var n = 0
        for (b, r) in rows.enumerated() {
            let first = b * S + r.tokens.count - r.continuation.count
            selected.data.replaceSubrange((n * H)..<((n + r.continuation.count) * H), with: hidden.data[(first * H)..<((first + r.continuation.count) * H)])
            n += r.continuation.count
        }
        let logits = model.head(selected, backend: backend)
        let scratch = UnsafeMutableBufferPointer<Float>.allocate(capacity: V)
        defer { scratch.deallocate() }
        var out: [Scored] = []
        n = 0
        logits.data.withUnsafeBufferPointer { buffer in
            for r in rows {
                var ll = 0.0
                var greedy = true
                for token in r.continuation {
                    let (logProb, isArgmax) = Self.logSoftmax(buffer.baseAddress! + n * V, count: V, at: token, scratch: scratch.baseAddress!)
                    ll += logProb
                    greedy = greedy && isArgmax
                    n += 1
                }
                out.append(Scored(loglikelihood: ll, isGreedy: greedy))
            }
        }
        return out
    }

    /// Padded tokens a forward call costs beyond its own (kernel calls, cache copies), and the
    /// fewest rows a call's matrix products run efficiently on.
    static let callOverheadTokens = 32, efficientRows = 24

    /// Splits rows into runs of similar length (indices, longest first) so right-padding each run
    /// to its longest row wastes little: the split minimising padded tokens plus a per-call cost.
    static func runsOfSimilarLength(_ lengths: [Int]) -> [[Int]] {
        guard !lengths.isEmpty else { return [] }
        let order = lengths.indices.sorted { lengths[$0] > lengths[$1] }
        let n = order.count
        // best[j]: the cheapest split of order[0..<j]; cut[j]: where its last run starts.
        var best = [Int](repeating: Int.max, count: n + 1), cut = [Int](repeating: 0, count: n + 1)
        best[0] = 0
        for j in 1...n {
            for i in 0..<j {
                let cost = best[i] + max((j - i) * lengths[order[i]], efficientRows) + callOverheadTokens
                if cost < best[j] { best[j] = cost; cut[j] = i }
            }
        }
        var runs: [[Int]] = []
        var j = n
        while j > 0 { runs.append(Array(order[cut[j]..<j])); j = cut[j] }
        return runs.reversed()
    }

    /// log_softmax(row)[token] and whether token is the first argmax (as torch.argmax);
    /// `scratch` holds `count` floats (the exponentials, by the SIMD kernel).
    static func logSoftmax(_ row: UnsafePointer<Float>, count: Int, at token: Int, scratch: UnsafeMutablePointer<Float>) -> (Double, Bool) {
        var best = row[0], bestIndex = 0
        for i in 1..<count where row[i] > best { best = row[i]; bestIndex = i }
        for i in 0..<count { scratch[i] = row[i] - best }
        VectorOps.exp(scratch, out: scratch, count: count)
        var sum = 0.0
        for i in 0..<count { sum += Double(scratch[i]) }
        return (Double(row[token]) - Double(best) - log(sum), bestIndex == token)
    }
}
