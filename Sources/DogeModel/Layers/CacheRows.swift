// Cache rows.

/// Row bookkeeping for continuous batching: a `DogeCache` with one row per decoding slot, where
/// sequences join (their prefilled one-row cache moves in) and leave (the last row moves into the
/// gap) between steps. Rows move by reference: no key or value is copied.
extension DogeCache {
    /// Rows (slots) this cache holds.
    public var rows: Int { layers.first?.batch ?? 0 }

    /// Tokens processed so far by one row: the next token's cache index.
    public func length(ofRow row: Int) -> Int { layers.first?.length[row] ?? 0 }

    /// Moves row `sourceRow` of `source` into row `row` of this cache; `source` loses it.
    public func adoptRow(_ row: Int, from source: DogeCache, sourceRow: Int = 0) {
        precondition(source.layers.count == layers.count, "caches of different models")
        for (mine, theirs) in zip(layers, source.layers) {
            precondition(theirs.limit == mine.limit && theirs.bounded == mine.bounded, "caches with different bounds")
            let empty = theirs.stores[sourceRow].map { KeyStore(headDim: $0.headDim) }
            let moved = theirs.stores[sourceRow]
            theirs.stores[sourceRow] = empty
            mine.stores[row] = moved
            mine.length[row] = theirs.length[sourceRow]
            theirs.length[sourceRow] = 0
        }
    }

    /// Exchanges two rows.
    public func swapRows(_ i: Int, _ j: Int) {
        guard i != j else { return }
        for layer in layers {
            layer.stores.swapAt(i, j)
            layer.length.swapAt(i, j)
        }
    }

    /// Empties one row, releasing its keys.
    public func clearRow(_ row: Int) {
        for layer in layers {
            layer.stores[row] = layer.stores[row].map { KeyStore(headDim: $0.headDim) }
            layer.length[row] = 0
        }
    }
}

/// Copying cache rows: several continuations of one prefix run from copies of the prefix's cache
/// (evaluation scores every answer of a question after a single forward over the question).
extension DogeForCausalLM {
    /// A new cache whose row r holds a copy of row `rows[r]` of `source` (rows may repeat; the
    /// key stores are copy-on-write, so shared prefixes cost nothing until a row appends).
    public func cache(gathering rows: [Int], from source: DogeCache) -> DogeCache {
        cache(gathering: rows.map { (source, $0) })
    }

    /// The same with each row from a cache of its own choosing (caches of this model).
    public func cache(gathering rows: [(source: DogeCache, row: Int)]) -> DogeCache {
        let cache = makeCache(batch: rows.count, bounded: rows.first?.source.layers.first?.bounded ?? true)
        for (l, target) in cache.layers.enumerated() {
            target.stores = rows.map { $0.source.layers[l].stores[$0.row] }
            target.length = rows.map { $0.source.layers[l].length[$0.row] }
        }
        return cache
    }
}
