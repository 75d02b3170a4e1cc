#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DogeKernels

/// Which rows of a forward call belong together: B sequences of T new tokens each.
public struct BatchLayout: Sendable {
    public var batch: Int
    public var tokens: Int
    /// [B][T]: false for padding tokens (attention_mask == 0).
    public var isReal: [[Bool]]

    public init(batch: Int, tokens: Int, isReal: [[Bool]]? = nil) {
        self.batch = batch
        self.tokens = tokens
        self.isReal = isReal ?? Array(repeating: Array(repeating: true, count: tokens), count: batch)
    }
}

/// Dynamic Mask Attention (doge-architecture.md, "Dynamic Mask Attention").
public struct DynamicMaskAttention: Sendable {
    public var qProj, kProj, vProj, oProj, dtProj: Linear
    /// [dtHeads]: G in the native layout, H in the remote-code layout.
    public var a: Tensor
    /// Per-head RMSNorm of q and k (native layout only).
    public var qNorm, kNorm: RMSNorm?
    public let numHeads, numKVHeads, headDim: Int
    public let keepWindowSize: Int
    public let slidingWindow: Int?
    /// How each query's kept keys are found (`KeySelection`); both paths keep the same keys.
    public var keySelection: KeySelection = .automatic

    public init(qProj: Linear, kProj: Linear, vProj: Linear, oProj: Linear, dtProj: Linear, a: Tensor,
                qNorm: RMSNorm?, kNorm: RMSNorm?, config: DogeConfiguration) {
        self.qProj = qProj; self.kProj = kProj; self.vProj = vProj; self.oProj = oProj
        self.dtProj = dtProj; self.a = a; self.qNorm = qNorm; self.kNorm = kNorm
        numHeads = config.numAttentionHeads
        numKVHeads = config.numKeyValueHeads
        headDim = config.headDim
        keepWindowSize = config.keepWindowSize
        slidingWindow = config.slidingWindow
    }

    var dtHeads: Int { a.count }
    var groupSize: Int { numHeads / numKVHeads }

    /// The dt head that masks attention head h: its KV group (native) or its own (remote code).
    func dtHead(forHead h: Int) -> Int { dtHeads == numHeads ? h : h / groupSize }

    /// h: [B·T, hidden] → [B·T, hidden]. `cos`/`sin`: [B·T, D]. New keys go into `cache`.
    public func callAsFunction(_ h: Tensor, layout: BatchLayout, cos: [Float], sin: [Float],
                               cache: LayerKVCache, backend: ComputeBackend = .shared) -> Tensor {
        let (B, T, H, G, D) = (layout.batch, layout.tokens, numHeads, numKVHeads, headDim)
        var q = qProj(h, backend: backend)                       // [B·T, H·D]
        var k = kProj(h, backend: backend)                       // [B·T, G·D]
        let v = vProj(h, backend: backend)                       // [B·T, G·D]
        if let qNorm { q = qNorm(q, backend: backend) }
        if let kNorm { k = kNorm(k, backend: backend) }
        q.data.withUnsafeMutableBufferPointer { qp in
            k.data.withUnsafeMutableBufferPointer { kp in
                cos.withUnsafeBufferPointer { cp in
                    sin.withUnsafeBufferPointer { sp in
                        let (q, k, c, s) = (qp.baseAddress!, kp.baseAddress!, cp.baseAddress!, sp.baseAddress!)
                        backend.pool.parallelRows(B * T, minimumPerPart: 32) { rows in
                            for row in rows {
                                applyRotary(q + row * H * D, heads: H, dim: D, cos: c + row * D, sin: s + row * D)
                                applyRotary(k + row * G * D, heads: G, dim: D, cos: c + row * D, sin: s + row * D)
                            }
                        }
                    }
                }
            }
        }
        // dt = exp(A ⊙ softplus(dt_proj(v))), once per new key.
        var dt = dtProj(v, backend: backend)                     // [B·T, dtHeads]
        let dtHeads = self.dtHeads
        a.data.withUnsafeBufferPointer { ap in
            dt.data.withUnsafeMutableBufferPointer { dp in
                let (a, dt) = (ap.baseAddress!, dp.baseAddress!)
                backend.pool.parallelRows(B * T, minimumPerPart: 64) { rows in
                    for i in (rows.lowerBound * dtHeads)..<(rows.upperBound * dtHeads) {
                        dt[i] = expf(a[i % dtHeads] * softplus(dt[i]))
                    }
                }
            }
        }
        var attended = Tensor(zeros: [B * T, H * D])
        let pasts = cache.length
        for b in 0..<B {
            let past = pasts[b]
            // Padding keys are never visible to anyone, so they are never stored.
            k.data.withUnsafeBufferPointer { kp in
                v.data.withUnsafeBufferPointer { vp in
                    for t in 0..<T where layout.isReal[b][t] {
                        let row = b * T + t
                        for d in 0..<dtHeads {
                            let g = kvHead(forDtHead: d)
                            cache.stores[b][d].append(key: kp.baseAddress! + row * G * D + g * D,
                                                      value: vp.baseAddress! + row * G * D + g * D,
                                                      dt: dt.data[row * dtHeads + d], index: past + t)
                        }
                    }
                }
            }
            cache.length[b] = past + T
        }
        q.data.withUnsafeBufferPointer { qp in
            attended.data.withUnsafeMutableBufferPointer { op in
                let queries = qp.baseAddress!, out = op.baseAddress!
                // Row b reads only its own stores and writes only its own output rows.
                let attendRow = { (b: Int) in
                    let past = pasts[b]
                    let stores = cache.stores[b]
                    let streaming = (0..<dtHeads).map { self.usesStreaming(store: stores[$0], queries: T, limit: cache.limit) }
                    var kept = [[Bool]](repeating: [], count: dtHeads)
                    var schedules = [KeptKeySchedule?](repeating: nil, count: dtHeads)
                    for d in 0..<dtHeads {
                        if streaming[d] {
                            schedules[d] = KeptKeySchedule(store: stores[d], queries: T, past: past, limit: cache.limit,
                                                           slidingWindow: self.slidingWindow)
                        } else {
                            kept[d] = self.keptSlots(stores[d], queries: T, past: past, limit: cache.limit, backend: backend)
                        }
                    }
                    let work = { (head: Int) in
                        let d = self.dtHead(forHead: head)
                        if let schedule = schedules[d] {
                            self.attendStreaming(queries: queries, row: b * T, tokens: T, head: head, store: stores[d],
                                                 schedule: schedule, into: out, backend: backend)
                        } else {
                            self.attend(queries: queries, row: b * T, tokens: T, head: head, store: stores[d],
                                        kept: kept[d], into: out, backend: backend)
                        }
                    }
                    // Heads are independent: one per pool thread (their products then run single-threaded).
                    if T > 1 { backend.pool.parallel(parts: H, work) } else { for head in 0..<H { work(head) } }
                }
                // A decode step over several sequences: one row per pool thread at a time (a row's
                // products are too small to split). Otherwise the rows in turn, each split inside.
                if T == 1 && B > 1 { backend.pool.parallel(parts: B, attendRow) } else { for b in 0..<B { attendRow(b) } }
            }
        }
        // After attention, so no copy of a store is alive while it is mutated (no COW copy).
        if cache.bounded { for b in 0..<B { for d in 0..<dtHeads { cache.stores[b][d].keepStrongest(cache.limit) } } }
        return oProj(attended, backend: backend)
    }

    /// The KV head whose keys and values dt head d masks.
    func kvHead(forDtHead d: Int) -> Int { dtHeads == numHeads ? d / groupSize : d }

    /// Softmax attention of T queries of one head over the kept keys of its store. Queries go in
    /// blocks, each multiplying only the slots up to the last one it keeps: causal prefill then
    /// skips the masked upper triangle instead of computing and discarding it.
    private func attend(queries q: UnsafePointer<Float>, row firstRow: Int, tokens T: Int, head: Int, store: KeyStore,
                        kept: [Bool], into out: UnsafeMutablePointer<Float>, backend: ComputeBackend) {
        let (H, D) = (numHeads, headDim)
        let n = store.count
        guard n > 0 else { return }   // a padding query with nothing visible: its output is unused
        let scale = 1 / Float(D).squareRoot()
        let block = 64
        var scores = [Float](repeating: 0, count: min(T, block) * n)
        for t0 in stride(from: 0, to: T, by: block) {
            let rows = min(block, T - t0)
            var reach = 0
            for t in t0..<(t0 + rows) {
                var j = n
                while j > reach && !kept[t * n + j - 1] { j -= 1 }
                reach = max(reach, j)
            }
            guard reach > 0 else { continue }
            store.keys.withUnsafeBufferPointer { kp in
                scores.withUnsafeMutableBufferPointer { sp in
                    backend.gemm(GemmShape(transB: true, m: rows, n: reach, k: D, lda: H * D, ldb: D, ldc: reach), alpha: scale,
                                 q + (firstRow + t0) * H * D + head * D, kp.baseAddress!, sp.baseAddress!)
                }
            }
            scores.withUnsafeMutableBufferPointer { sp in
                kept.withUnsafeBufferPointer { kp in
                    store.dt.withUnsafeBufferPointer { dp in
                        let dt = dp.baseAddress!
                        for r in 0..<rows {
                            let row = sp.baseAddress! + r * reach
                            let flags = kp.baseAddress! + (t0 + r) * n
                            var anyKept = false
                            for j in 0..<reach {
                                if flags[j] { row[j] += dt[j]; anyKept = true } else { row[j] = -Float.infinity }
                            }
                            if anyKept { VectorOps.softmaxInPlace(row, count: reach) } else { for j in 0..<reach { row[j] = 0 } }
                        }
                    }
                }
            }
            store.values.withUnsafeBufferPointer { vp in
                scores.withUnsafeBufferPointer { sp in
                    backend.gemm(GemmShape(m: rows, n: D, k: reach, lda: reach, ldb: D, ldc: H * D),
                                 sp.baseAddress!, vp.baseAddress!, out + (firstRow + t0) * H * D + head * D)
                }
            }
        }
    }

    /// [T][slots] flags: slot j is visible to query t (cache index ≤ the query's, inside the
    /// sliding window) and, when more than `limit` (keep_window_size) keys are visible, among the
    /// `limit` visible keys with the largest dt. Ties: the earlier key wins.
    func keptSlots(_ store: KeyStore, queries T: Int, past: Int, limit: Int, backend: ComputeBackend = .shared) -> [Bool] {
        let n = store.count
        var kept = [Bool](repeating: false, count: T * n)
        // Sorting is only needed when some query can see more than limit + 1 keys.
        let mostVisible = min(n, slidingWindow ?? n)
        let strongestFirst: [Int] = mostVisible > limit + 1
            ? (0..<n).sorted { store.dt[$0] != store.dt[$1] ? store.dt[$0] > store.dt[$1] : store.index[$0] < store.index[$1] }
            : []
        store.index.withUnsafeBufferPointer { indexBuffer in
            store.dt.withUnsafeBufferPointer { dtBuffer in
                kept.withUnsafeMutableBufferPointer { keptBuffer in
                    let (index, dt, kept) = (indexBuffer.baseAddress!, dtBuffer.baseAddress!, keptBuffer.baseAddress!)
                    // Each query's row of flags is independent of the others.
                    backend.pool.parallelRows(T, minimumPerPart: 32) { queries in
                        for t in queries {
                            let row = kept + t * n
                            let position = past + t
                            let first = slidingWindow.map { position - $0 + 1 } ?? 0
                            var visibleCount = 0
                            for j in 0..<n where index[j] <= position && index[j] >= first {
                                row[j] = true
                                visibleCount += 1
                            }
                            if visibleCount <= limit { continue }
                            if visibleCount == limit + 1 {
                                // The common decode step: drop the single weakest visible key.
                                var weakest = -1
                                for j in 0..<n where row[j] {
                                    if weakest < 0 || dt[j] < dt[weakest] || (dt[j] == dt[weakest] && index[j] > index[weakest]) {
                                        weakest = j
                                    }
                                }
                                row[weakest] = false
                                continue
                            }
                            var taken = 0
                            for j in strongestFirst where row[j] {
                                if taken == limit { row[j] = false } else { taken += 1 }
                            }
                        }
                    }
                }
            }
        }
        return kept
    }
}

/// PyTorch's softplus: log(1 + exp(x)), and x itself above the threshold 20.
@inline(__always)
func softplus(_ x: Float) -> Float {
    x > 20 ? x : log1pf(expf(x))
}
