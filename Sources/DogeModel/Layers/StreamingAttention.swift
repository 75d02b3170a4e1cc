import DogeKernels

extension DynamicMaskAttention {
    /// Softmax attention of T queries of one head over the keys its `schedule` keeps, in blocks of
    /// queries. A block multiplies only the keys kept at its start plus those that join during it
    /// (at most keep_window_size + a few per query), so prefill costs O(T·W) instead of O(T·n).
    /// Kept keys live in rows of a working buffer that persist from block to block: a key is
    /// copied once when it joins, and its row is reused after it leaves.
    func attendStreaming(queries q: UnsafePointer<Float>, row firstRow: Int, tokens T: Int, head: Int, store: KeyStore,
                         schedule: KeptKeySchedule, block: Int = 64,
                         into out: UnsafeMutablePointer<Float>, backend: ComputeBackend) {
        let (H, D) = (numHeads, headDim)
        let n = store.count
        guard n > 0 else { return }
        if schedule.joinsInSlotOrder {
            attendInSlotOrder(queries: q, row: firstRow, tokens: T, head: head, store: store, schedule: schedule,
                              block: block, into: out, backend: backend)
            return
        }
        var window = KeptRows(slots: n, headDim: D, reserve: min(n, keepWindowSize + 2 * block))
        var member = [Bool](repeating: false, count: n)
        var members = 0
        var leftLastBlock: [Int32] = [], leftThisBlock: [Int32] = []
        var scores: [Float] = []
        store.keys.withUnsafeBufferPointer { keysBuffer in
            store.values.withUnsafeBufferPointer { valuesBuffer in
                store.dt.withUnsafeBufferPointer { dtBuffer in
                    let (keys, values, dt) = (keysBuffer.baseAddress!, valuesBuffer.baseAddress!, dtBuffer.baseAddress!)
                    for t0 in stride(from: 0, to: T, by: block) {
                        let rows = min(block, T - t0)
                        // Rows of keys that left during the previous block and did not come back are free again.
                        for s in leftLastBlock where !member[Int(s)] { window.release(slot: s) }
                        let blockEvents = schedule.events[schedule.stepStart[t0]..<schedule.stepStart[t0 + rows]]
                        for e in blockEvents where e > 0 {
                            window.ensure(slot: e - 1, key: keys, value: values, dt: dt)
                        }
                        let width = window.rows
                        guard width > 0 else {
                            for e in blockEvents { if e > 0 { member[Int(e - 1)] = true; members += 1 } else { member[Int(-e - 1)] = false; members -= 1 } }
                            continue
                        }
                        if scores.count < rows * width { scores = [Float](repeating: 0, count: rows * width) }
                        window.keys.withUnsafeBufferPointer { kp in
                            scores.withUnsafeMutableBufferPointer { sp in
                                blockScores(q + (firstRow + t0) * H * D + head * D, rows: rows, keys: kp.baseAddress!, width: width,
                                            into: sp.baseAddress!, backend: backend)
                            }
                        }
                        scores.withUnsafeMutableBufferPointer { sp in
                            for r in 0..<rows {
                                let t = t0 + r
                                for i in schedule.stepStart[t]..<schedule.stepStart[t + 1] {
                                    let e = schedule.events[i]
                                    if e > 0 {
                                        let s = Int(e - 1)
                                        member[s] = true; members += 1
                                        window.setBias(slot: s, dt[s])
                                    } else {
                                        let s = Int(-e - 1)
                                        member[s] = false; members -= 1
                                        window.setBias(slot: s, -.infinity)
                                        leftThisBlock.append(Int32(s))
                                    }
                                }
                                window.bias.withUnsafeBufferPointer {
                                    Self.maskedSoftmax(sp.baseAddress! + r * width, bias: $0.baseAddress!, width: width, anyKept: members > 0)
                                }
                            }
                        }
                        window.values.withUnsafeBufferPointer { vp in
                            scores.withUnsafeBufferPointer { sp in
                                blockOutput(sp.baseAddress!, rows: rows, values: vp.baseAddress!, width: width,
                                            into: out + (firstRow + t0) * H * D + head * D, backend: backend)
                            }
                        }
                        swap(&leftLastBlock, &leftThisBlock)
                        leftThisBlock.removeAll(keepingCapacity: true)
                    }
                }
            }
        }
    }
}

extension DynamicMaskAttention {
    /// `attendStreaming` when keys only ever join, in slot order (no key leaves: every visible
    /// key is kept, as in any sequence shorter than keep_window_size): its working buffer would
    /// hold exactly the store's first rows, so the products read the store itself, nothing is
    /// copied, and the numbers are the same.
    private func attendInSlotOrder(queries q: UnsafePointer<Float>, row firstRow: Int, tokens T: Int, head: Int,
                                   store: KeyStore, schedule: KeptKeySchedule, block: Int,
                                   into out: UnsafeMutablePointer<Float>, backend: ComputeBackend) {
        let (H, D) = (numHeads, headDim)
        var bias = [Float](repeating: -.infinity, count: store.count)   // dt once joined
        var scores: [Float] = []
        store.keys.withUnsafeBufferPointer { keys in
            store.values.withUnsafeBufferPointer { values in
                for t0 in stride(from: 0, to: T, by: block) {
                    let rows = min(block, T - t0)
                    let width = schedule.stepStart[t0 + rows]   // keys joined by the block's last query
                    guard width > 0 else { continue }
                    if scores.count < rows * width { scores = [Float](repeating: 0, count: rows * width) }
                    scores.withUnsafeMutableBufferPointer { sp in
                        blockScores(q + (firstRow + t0) * H * D + head * D, rows: rows, keys: keys.baseAddress!, width: width,
                                    into: sp.baseAddress!, backend: backend)
                        for r in 0..<rows {
                            let t = t0 + r
                            for s in schedule.stepStart[t]..<schedule.stepStart[t + 1] { bias[s] = store.dt[s] }
                            bias.withUnsafeBufferPointer {
                                Self.maskedSoftmax(sp.baseAddress! + r * width, bias: $0.baseAddress!, width: width,
                                                   anyKept: schedule.stepStart[t + 1] > 0)
                            }
                        }
                        blockOutput(sp.baseAddress!, rows: rows, values: values.baseAddress!, width: width,
                                    into: out + (firstRow + t0) * H * D + head * D, backend: backend)
                    }
                }
            }
        }
    }
}

extension DynamicMaskAttention {
    /// scores[rows, width] = (queries of one head, row stride H·D) · keysᵀ / √D.
    private func blockScores(_ queries: UnsafePointer<Float>, rows: Int, keys: UnsafePointer<Float>, width: Int,
                             into scores: UnsafeMutablePointer<Float>, backend: ComputeBackend) {
        let (H, D) = (numHeads, headDim)
        backend.gemm(GemmShape(transB: true, m: rows, n: width, k: D, lda: H * D, ldb: D, ldc: width),
                     alpha: 1 / Float(D).squareRoot(), queries, keys, scores)
    }

    /// One query's weights: softmax(scores + bias), all zero when it keeps no key.
    private static func maskedSoftmax(_ row: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, width: Int, anyKept: Bool) {
        guard anyKept else { row.update(repeating: 0, count: width); return }
        VectorOps.add(bias, into: row, count: width)
        VectorOps.softmaxInPlace(row, count: width)
    }

    /// out[rows, D] (row stride H·D) = weights[rows, width] · values[width, D].
    private func blockOutput(_ weights: UnsafePointer<Float>, rows: Int, values: UnsafePointer<Float>, width: Int,
                             into out: UnsafeMutablePointer<Float>, backend: ComputeBackend) {
        let (H, D) = (numHeads, headDim)
        backend.gemm(GemmShape(m: rows, n: D, k: width, lda: width, ldb: D, ldc: H * D), weights, values, out)
    }
}

/// The working buffer of `attendStreaming`: keys and values of the kept keys (and of keys that
/// join or leave during the current block) in rows, and per row the additive mask: the key's dt
/// while it is kept, −∞ otherwise (free rows included).
struct KeptRows {
    let headDim: Int
    private(set) var keys: [Float] = []
    private(set) var values: [Float] = []
    private(set) var bias: [Float] = []
    private var rowOfSlot: [Int32]
    private var free: [Int32] = []

    init(slots: Int, headDim: Int, reserve: Int) {
        self.headDim = headDim
        rowOfSlot = [Int32](repeating: -1, count: slots)
        keys.reserveCapacity(reserve * headDim); values.reserveCapacity(reserve * headDim); bias.reserveCapacity(reserve)
    }

    var rows: Int { bias.count }

    @inline(__always) mutating func setBias(slot: Int, _ value: Float) { bias[Int(rowOfSlot[slot])] = value }

    /// Gives the slot a row holding its key and value (masked until it joins), unless it has one.
    mutating func ensure(slot: Int32, key: UnsafePointer<Float>, value: UnsafePointer<Float>, dt: UnsafePointer<Float>) {
        let s = Int(slot)
        guard rowOfSlot[s] < 0 else { return }
        let D = headDim
        let r: Int
        if let reused = free.popLast() {
            r = Int(reused)
            keys.withUnsafeMutableBufferPointer { $0.baseAddress!.advanced(by: r * D).update(from: key + s * D, count: D) }
            values.withUnsafeMutableBufferPointer { $0.baseAddress!.advanced(by: r * D).update(from: value + s * D, count: D) }
        } else {
            r = bias.count
            keys.append(contentsOf: UnsafeBufferPointer(start: key + s * D, count: D))
            values.append(contentsOf: UnsafeBufferPointer(start: value + s * D, count: D))
            bias.append(-.infinity)
        }
        bias[r] = -.infinity
        rowOfSlot[s] = Int32(r)
    }

    /// Frees the row of a slot that is no longer kept.
    mutating func release(slot: Int32) {
        let r = rowOfSlot[Int(slot)]
        guard r >= 0 else { return }
        rowOfSlot[Int(slot)] = -1
        free.append(r)   // its stale key scores finite + (−∞): weight 0
    }
}

/// How Dynamic Mask Attention finds the keys each query keeps. Both give the same kept sets.
public enum KeySelection: Sendable {
    /// Streaming for multi-token calls and long stores, the mask for a decode step over a bounded cache.
    case automatic
    /// A `KeptKeySchedule` per dt head and attention over the kept keys only: O(T·W).
    case streaming
    /// A [T, n] flag mask over the whole store (the original path): O(T·n).
    case fullMask
}

extension DynamicMaskAttention {
    /// Streaming for every multi-token call (measured 20 % faster than the mask at 512 and 2,048
    /// tokens, and O(T·W) beyond), and for a decode step over more than limit + 1 keys; a decode
    /// step over a bounded cache (limit + 1 keys: drop the weakest) keeps the mask, which copies nothing.
    func usesStreaming(store: KeyStore, queries T: Int, limit: Int) -> Bool {
        switch keySelection {
        case .automatic: return T > 1 || store.count > limit + 1
        case .streaming: return true
        case .fullMask: return false
        }
    }
}

extension DogeBackbone {
    /// The key selection of every attention layer (tests compare the two paths).
    public var keySelection: KeySelection {
        get { layers.first?.selfAttention.keySelection ?? .automatic }
        set { for i in layers.indices { layers[i].selfAttention.keySelection = newValue } }
    }
}
