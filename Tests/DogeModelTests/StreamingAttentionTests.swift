import Foundation
import Testing
import DogeKernels
@testable import DogeModel

/// The streaming key selection (long prefill in O(T·W)) against the per-query definition and
/// against the full-mask path, on sequences longer than twice keep_window_size.
@Suite struct StreamingAttentionTests {
    /// Kept slots of query t by the definition: visible keys sorted by (dt desc, index asc), first `limit`.
    static func bruteForceKept(dt: [Float], index: [Int], position: Int, limit: Int, slidingWindow: Int?) -> Set<Int> {
        let first = slidingWindow.map { position - $0 + 1 } ?? Int.min
        let visible = dt.indices.filter { index[$0] <= position && index[$0] >= first }
        let order = visible.sorted { dt[$0] != dt[$1] ? dt[$0] > dt[$1] : index[$0] < index[$1] }
        return Set(order.prefix(limit))
    }

    @Test(arguments: [nil, 3, 7, 12] as [Int?])
    func scheduleKeepsWhatEachQueryKeeps(slidingWindow: Int?) {
        var rng = SeededGenerator(seed: 7 + UInt64(slidingWindow ?? 0))
        for trial in 0..<40 {
            let limit = 1 + Int(rng.next() % 6)
            let pastCount = Int(rng.next() % 9)          // keys of earlier calls, slots in shuffled order
            let past = pastCount + Int(rng.next() % 4)   // padding left gaps in the indices
            let T = 1 + Int(rng.next() % 30)
            var indices = Array((0..<past).shuffled(using: &rng).prefix(pastCount))
            for t in 0..<T where rng.next() % 5 != 0 { indices.append(past + t) }   // some new tokens are padding
            var store = KeyStore(headDim: 1)
            let distinctValues = 1 + Int(rng.next() % 5)   // few values: ties at the cutoff are common
            var zero: Float = 0
            for i in indices {
                let d = trial % 2 == 0 ? Float(rng.next() % UInt64(distinctValues)) : rng.nextGaussian()
                store.append(key: &zero, value: &zero, dt: d, index: i)
            }
            let schedule = KeptKeySchedule(store: store, queries: T, past: past, limit: limit, slidingWindow: slidingWindow)
            let attention = Self.attention(limit: limit, slidingWindow: slidingWindow)
            let flags = attention.keptSlots(store, queries: T, past: past, limit: limit)
            var kept = Set<Int>()
            for t in 0..<T {
                for e in schedule.events[schedule.stepStart[t]..<schedule.stepStart[t + 1]] {
                    if e > 0 { #expect(kept.insert(Int(e - 1)).inserted) } else { #expect(kept.remove(Int(-e - 1)) != nil) }
                }
                let expected = Self.bruteForceKept(dt: store.dt, index: store.index, position: past + t, limit: limit,
                                                   slidingWindow: slidingWindow)
                #expect(kept == expected, "trial \(trial), query \(t)")
                let masked = Set((0..<store.count).filter { flags[t * store.count + $0] })
                #expect(masked == expected, "full mask, trial \(trial), query \(t)")
            }
        }
    }

    static func attention(limit: Int, slidingWindow: Int?) -> DynamicMaskAttention {
        var config = DogeConfiguration()
        config.hiddenSize = 8; config.numAttentionHeads = 1; config.numKeyValueHeads = 1
        config.keepWindowSize = limit; config.slidingWindow = slidingWindow
        let linear = Linear(weight: Tensor(zeros: [8, 8]))
        return DynamicMaskAttention(qProj: linear, kProj: linear, vProj: linear, oProj: linear, dtProj: linear,
                                    a: Tensor(zeros: [1]), qNorm: nil, kNorm: nil, config: config)
    }

    /// A tiny random model whose dt varies per key (A, norms and residuals randomised).
    static func model(layout: CheckpointLayout = .native, keepWindow: Int, slidingWindow: Int? = nil,
                      heads: Int = 4, kvHeads: Int = 2, tiedDt: Bool = false, seed: UInt64) throws -> DogeForCausalLM {
        var config = DogeConfiguration()
        config.vocabSize = 97; config.hiddenSize = 32; config.intermediateSize = 48; config.numHiddenLayers = 2
        config.numAttentionHeads = heads; config.numKeyValueHeads = kvHeads
        config.keepWindowSize = keepWindow; config.slidingWindow = slidingWindow
        config.maxPositionEmbeddings = 256; config.padTokenId = 0
        try config.validate()
        let model = DogeForCausalLM(config: config, layout: layout, seed: seed)
        var rng = SeededGenerator(seed: seed &+ 99)
        for i in model.model.layers.indices {
            let count = model.model.layers[i].selfAttention.a.count
            model.model.layers[i].selfAttention.a = Tensor(shape: [count], data: (0..<count).map { _ in tiedDt ? 0 : rng.nextGaussian() })
            for j in 0..<model.model.layers[i].inputResidual.count { model.model.layers[i].inputResidual.data[j] = 0.5 + abs(rng.nextGaussian()) }
        }
        return model
    }

    static func ids(_ count: Int, seed: UInt64, vocab: Int = 97) -> [Int] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { _ in 1 + Int(rng.next() % UInt64(vocab - 1)) }
    }

    /// Logits of the same calls through both paths.
    static func compare(_ model: DogeForCausalLM, calls: [[[Int]]], attentionMask: [[Int]]? = nil, bounded: Bool = true,
                        tolerance: Float = 1e-6, label: String) throws {
        var results: [[Tensor]] = []
        for selection in [KeySelection.fullMask, .streaming] {
            model.model.keySelection = selection
            let cache = model.makeCache(batch: calls[0].count, bounded: bounded)
            results.append(try calls.enumerated().map { (i, ids) in
                try model.logits(ids: ids, attentionMask: i == 0 ? attentionMask : nil, cache: cache)
            })
        }
        model.model.keySelection = .automatic
        for (call, (a, b)) in zip(results[0], results[1]).enumerated() {
            #expect(a.shape == b.shape)
            let diff = zip(a.data, b.data).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
            #expect(diff <= tolerance, "\(label), call \(call): max |Δlogit| = \(diff)")
        }
    }

    @Test func longPrefillMatchesFullMask() throws {
        let model = try Self.model(keepWindow: 5, seed: 1)
        try Self.compare(model, calls: [[Self.ids(40, seed: 2)]], label: "GQA, T = 8·W")
        let mqa = try Self.model(keepWindow: 6, heads: 2, kvHeads: 1, seed: 3)
        try Self.compare(mqa, calls: [[Self.ids(150, seed: 4)]], label: "MQA, T = 25·W (more than one query block)")
        let remote = try Self.model(layout: .remoteCode, keepWindow: 4, seed: 5)
        try Self.compare(remote, calls: [[Self.ids(33, seed: 6)]], label: "remote-code layout (dt per attention head)")
    }

    @Test func tiesAreBrokenTheSameWay() throws {
        // A = 0: every dt is 1, so the earliest keys win; repeated ids tie in layer 0 with any A.
        let tied = try Self.model(keepWindow: 5, tiedDt: true, seed: 7)
        try Self.compare(tied, calls: [[Self.ids(30, seed: 8)]], label: "A = 0")
        let repeats = try Self.model(keepWindow: 4, seed: 9)
        try Self.compare(repeats, calls: [[Self.ids(40, seed: 10, vocab: 6)]], label: "repeated ids")
    }

    @Test(arguments: [3, 9, 30])
    func slidingWindowsMatchFullMask(window: Int) throws {
        let model = try Self.model(keepWindow: 6, slidingWindow: window, seed: 11)
        try Self.compare(model, calls: [[Self.ids(45, seed: 12)]], label: "sliding window \(window)")
        try Self.compare(model, calls: [[Self.ids(20, seed: 13)], [Self.ids(17, seed: 14)], [[5]], [[6]]],
                         label: "sliding window \(window), in calls")
    }

    @Test func leftPaddedBatchMatchesFullMask() throws {
        let model = try Self.model(keepWindow: 5, seed: 15)
        let long = Self.ids(26, seed: 16), short = Self.ids(17, seed: 17)
        let ids = [long, Array(repeating: 0, count: 9) + short]
        let mask = [Array(repeating: 1, count: 26), Array(repeating: 0, count: 9) + Array(repeating: 1, count: 17)]
        try Self.compare(model, calls: [ids, [[3], [4]], [[5], [6]]], attentionMask: mask, label: "left-padded batch")
    }

    @Test(arguments: [true, false])
    func laterCallsOverACacheMatchFullMask(bounded: Bool) throws {
        let model = try Self.model(keepWindow: 5, seed: 19)
        try Self.compare(model, calls: [[Self.ids(13, seed: 20)], [Self.ids(21, seed: 21)], [[7]], [[8]], [Self.ids(12, seed: 22)]],
                         bounded: bounded, label: bounded ? "bounded cache" : "full cache")
    }

    @Test func automaticSelectionMasksOnlyBoundedDecodeSteps() {
        let attention = Self.attention(limit: 4, slidingWindow: nil)
        var store = KeyStore(headDim: 1)
        var zero: Float = 0
        for i in 0..<5 { store.append(key: &zero, value: &zero, dt: 1, index: i) }
        #expect(!attention.usesStreaming(store: store, queries: 1, limit: 4))
        #expect(attention.usesStreaming(store: store, queries: 2, limit: 4))
        store.append(key: &zero, value: &zero, dt: 1, index: 5)
        #expect(attention.usesStreaming(store: store, queries: 1, limit: 4))
    }
}
