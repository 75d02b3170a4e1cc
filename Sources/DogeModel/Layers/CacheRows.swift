/// Copying cache rows: several continuations of one prefix run from copies of the prefix's cache
/// (evaluation scores every answer of a question after a single forward over the question).
extension DogeForCausalLM {
    /// A new cache whose row r holds a copy of row `rows[r]` of `source` (rows may repeat; the
    /// key stores are copy-on-write, so shared prefixes cost nothing until a row appends).
    public func cache(gathering rows: [Int], from source: DogeCache) -> DogeCache {
        let cache = makeCache(batch: rows.count, bounded: source.layers.first?.bounded ?? true)
        for (target, layer) in zip(cache.layers, source.layers) {
            target.stores = rows.map { layer.stores[$0] }
            target.length = rows.map { layer.length[$0] }
        }
        return cache
    }
}
