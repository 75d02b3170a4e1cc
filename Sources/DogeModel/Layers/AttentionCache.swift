/// Keys, values and dt of every token seen so far by one attention layer, per batch row.
///
/// Keys are stored after q/k-norm and RoPE, as transformers' DynamicCache holds them; dt is
/// computed once per key when it enters (see doge-architecture.md: a key's dt depends on that
/// key alone).
public final class LayerKVCache: @unchecked Sendable {
    public let kvWidth: Int      // G · D
    public let dtHeads: Int
    public private(set) var keys: [[Float]]
    public private(set) var values: [[Float]]
    public private(set) var dt: [[Float]]
    /// false where the key is padding (attention_mask == 0).
    public private(set) var isReal: [[Bool]]

    public init(batch: Int, kvWidth: Int, dtHeads: Int) {
        self.kvWidth = kvWidth
        self.dtHeads = dtHeads
        keys = Array(repeating: [], count: batch)
        values = keys
        dt = keys
        isReal = Array(repeating: [], count: batch)
    }

    public var batch: Int { keys.count }
    /// Keys held for batch row `b`.
    public func length(_ b: Int) -> Int { isReal[b].count }

    func append(row b: Int, keys k: ArraySlice<Float>, values v: ArraySlice<Float>, dt d: [Float], isReal real: ArraySlice<Bool>) {
        keys[b].append(contentsOf: k)
        values[b].append(contentsOf: v)
        dt[b].append(contentsOf: d)
        isReal[b].append(contentsOf: real)
    }
}

/// One cache per decoder layer, plus the number of tokens already processed.
public final class DogeCache: @unchecked Sendable {
    public let layers: [LayerKVCache]

    public init(config: DogeConfiguration, layout: CheckpointLayout, batch: Int) {
        layers = (0..<config.numHiddenLayers).map { _ in
            LayerKVCache(batch: batch, kvWidth: config.numKeyValueHeads * config.headDim, dtHeads: layout.dtHeads(config))
        }
    }

    /// Tokens already in the cache (the same for every batch row).
    public var length: Int { layers.first?.length(0) ?? 0 }
}
