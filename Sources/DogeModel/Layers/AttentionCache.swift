/// The keys one dt head (one KV head in the native layout, one attention head in the remote-code
/// layout) can attend to in one batch row: key and value vectors (after q/k-norm and RoPE, as
/// transformers' cache holds them), each key's dt — computed once, when the key enters
/// (doge-architecture.md: a key's dt depends on that key alone) — and its cache index.
public struct KeyStore: Sendable {
    public let headDim: Int
    public private(set) var keys: [Float] = []      // [count, D]
    public private(set) var values: [Float] = []    // [count, D]
    public private(set) var dt: [Float] = []
    /// Position of the key in the sequence (its cache index), for causality and windows.
    public private(set) var index: [Int] = []

    public init(headDim: Int) { self.headDim = headDim }

    public var count: Int { dt.count }

    mutating func append(key: UnsafePointer<Float>, value: UnsafePointer<Float>, dt d: Float, index i: Int) {
        keys.append(contentsOf: UnsafeBufferPointer(start: key, count: headDim))
        values.append(contentsOf: UnsafeBufferPointer(start: value, count: headDim))
        dt.append(d)
        index.append(i)
    }

    /// Slot that loses first: smallest dt, and among equal dt the later key (earlier keys win ties).
    func weakestSlot() -> Int {
        var weakest = 0
        for s in 1..<count where dt[s] < dt[weakest] || (dt[s] == dt[weakest] && index[s] > index[weakest]) {
            weakest = s
        }
        return weakest
    }

    /// Drops one slot by moving the last slot into it (order of slots carries no meaning).
    mutating func remove(slot s: Int) {
        let last = count - 1
        if s != last {
            let D = headDim
            for j in 0..<D {
                keys[s * D + j] = keys[last * D + j]
                values[s * D + j] = values[last * D + j]
            }
            dt[s] = dt[last]
            index[s] = index[last]
        }
        keys.removeLast(headDim)
        values.removeLast(headDim)
        dt.removeLast()
        index.removeLast()
    }

    /// Keeps only the `limit` strongest keys (largest dt, earlier key on ties).
    mutating func keepStrongest(_ limit: Int) {
        guard count > limit else { return }
        if count == limit + 1 { remove(slot: weakestSlot()); return }   // a decode step
        let order = (0..<count).sorted { dt[$0] != dt[$1] ? dt[$0] > dt[$1] : index[$0] < index[$1] }
        let chosen = order.prefix(limit).sorted()
        let D = headDim
        var newKeys = [Float](), newValues = [Float](), newDt = [Float](), newIndex = [Int]()
        newKeys.reserveCapacity(limit * D); newValues.reserveCapacity(limit * D)
        for s in chosen {
            newKeys.append(contentsOf: keys[(s * D)..<((s + 1) * D)])
            newValues.append(contentsOf: values[(s * D)..<((s + 1) * D)])
            newDt.append(dt[s]); newIndex.append(index[s])
        }
        (keys, values, dt, index) = (newKeys, newValues, newDt, newIndex)
    }
}

/// What one attention layer remembers between forward calls, per batch row and dt head.
///
/// `bounded` keeps only keep_window_size keys per dt head, evicting the smallest dt: identical
/// logits to the full cache when there is no sliding window (doge-architecture.md), with memory
/// and time per token flat however long the text. With a sliding window every key is kept.
public final class LayerKVCache: @unchecked Sendable {
    public let bounded: Bool
    public let limit: Int
    public internal(set) var stores: [[KeyStore]]     // [batch][dtHead]
    /// Tokens processed so far per batch row (padding included): the next token's cache index.
    public internal(set) var length: [Int]

    public init(batch: Int, dtHeads: Int, headDim: Int, bounded: Bool, limit: Int) {
        self.bounded = bounded
        self.limit = limit
        stores = Array(repeating: Array(repeating: KeyStore(headDim: headDim), count: dtHeads), count: batch)
        length = Array(repeating: 0, count: batch)
    }

    public var batch: Int { stores.count }

    /// Keys held, summed over batch rows and dt heads (for memory checks).
    public var storedKeys: Int { stores.reduce(0) { $0 + $1.reduce(0) { $0 + $1.count } } }
}

/// One cache per decoder layer.
public final class DogeCache: @unchecked Sendable {
    public let layers: [LayerKVCache]

    /// `bounded` defaults to on whenever the config allows it (no sliding window).
    public init(config: DogeConfiguration, layout: CheckpointLayout, batch: Int, bounded: Bool? = nil) {
        let canBound = config.slidingWindow == nil
        let useBound = (bounded ?? true) && canBound
        layers = (0..<config.numHiddenLayers).map { _ in
            LayerKVCache(batch: batch, dtHeads: layout.dtHeads(config), headDim: config.headDim,
                         bounded: useBound, limit: config.keepWindowSize)
        }
    }

    /// Tokens processed so far (the same for every batch row).
    public var length: Int { layers.first?.length.first ?? 0 }
}
