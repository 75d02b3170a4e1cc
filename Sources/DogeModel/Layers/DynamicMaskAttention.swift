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

    /// h: [B·T, hidden] → [B·T, hidden]. `cos`/`sin`: [B·T, D]. New keys are appended to `cache`.
    public func callAsFunction(_ h: Tensor, layout: BatchLayout, cos: [Float], sin: [Float],
                               cache: LayerKVCache, backend: ComputeBackend = .shared) -> Tensor {
        let (B, T, H, G, D) = (layout.batch, layout.tokens, numHeads, numKVHeads, headDim)
        var q = qProj(h, backend: backend)                       // [B·T, H·D]
        var k = kProj(h, backend: backend)                       // [B·T, G·D]
        let v = vProj(h, backend: backend)                       // [B·T, G·D]
        if let qNorm { q = qNorm(q) }
        if let kNorm { k = kNorm(k) }
        q.data.withUnsafeMutableBufferPointer { qp in
            k.data.withUnsafeMutableBufferPointer { kp in
                cos.withUnsafeBufferPointer { cp in
                    sin.withUnsafeBufferPointer { sp in
                        for row in 0..<(B * T) {
                            applyRotary(qp.baseAddress! + row * H * D, heads: H, dim: D, cos: cp.baseAddress! + row * D, sin: sp.baseAddress! + row * D)
                            applyRotary(kp.baseAddress! + row * G * D, heads: G, dim: D, cos: cp.baseAddress! + row * D, sin: sp.baseAddress! + row * D)
                        }
                    }
                }
            }
        }
        // dt = exp(A ⊙ softplus(dt_proj(v))), once per new key.
        var dt = dtProj(v, backend: backend)                     // [B·T, dtHeads]
        for i in 0..<dt.count {
            dt.data[i] = expf(a.data[i % dtHeads] * softplus(dt.data[i]))
        }
        let pastLength = cache.length(0)
        for b in 0..<B {
            let rows = (b * T)..<((b + 1) * T)
            cache.append(row: b, keys: k.data[(rows.lowerBound * G * D)..<(rows.upperBound * G * D)],
                         values: v.data[(rows.lowerBound * G * D)..<(rows.upperBound * G * D)],
                         dt: Array(dt.data[(rows.lowerBound * dtHeads)..<(rows.upperBound * dtHeads)]),
                         isReal: layout.isReal[b][...])
        }
        var attended = Tensor(zeros: [B * T, H * D])
        for b in 0..<B {
            attend(queries: q.data, batchRow: b, tokens: T, pastLength: pastLength, cache: cache,
                   into: &attended.data, backend: backend)
        }
        return oProj(attended, backend: backend)
    }

    /// Softmax attention of batch row b's T queries over all of its cached keys.
    private func attend(queries q: [Float], batchRow b: Int, tokens T: Int, pastLength: Int,
                        cache: LayerKVCache, into out: inout [Float], backend: ComputeBackend) {
        let (H, G, D) = (numHeads, numKVHeads, headDim)
        let S = cache.length(b)
        let keys = cache.keys[b], values = cache.values[b], dt = cache.dt[b]
        let keyIsReal = cache.isReal[b]
        let scale = 1 / Float(D).squareRoot()
        var scores = [Float](repeating: 0, count: T * S)
        var kept: [Bool] = []
        var keptForDtHead = -1
        for head in 0..<H {
            let g = head / groupSize
            let dtHead = dtHead(forHead: head)
            if dtHead != keptForDtHead {
                kept = keptKeys(dt: dt, dtHead: dtHead, keyIsReal: keyIsReal, queries: T, pastLength: pastLength)
                keptForDtHead = dtHead
            }
            q.withUnsafeBufferPointer { qp in
                keys.withUnsafeBufferPointer { kp in
                    scores.withUnsafeMutableBufferPointer { sp in
                        backend.gemm(GemmShape(transB: true, m: T, n: S, k: D, lda: H * D, ldb: G * D, ldc: S), alpha: scale,
                                     qp.baseAddress! + (b * T) * H * D + head * D, kp.baseAddress! + g * D, sp.baseAddress!)
                    }
                }
            }
            scores.withUnsafeMutableBufferPointer { sp in
                for t in 0..<T {
                    let row = sp.baseAddress! + t * S
                    var anyKept = false
                    for j in 0..<S {
                        if kept[t * S + j] { row[j] += dt[j * dtHeads + dtHead]; anyKept = true }
                        else { row[j] = -Float.infinity }
                    }
                    if anyKept {
                        VectorOps.softmaxInPlace(row, count: S)
                    } else {
                        // Every key masked: transformers' scores are all equal to MIN, so softmax is uniform.
                        for j in 0..<S { row[j] = 1 / Float(S) }
                    }
                }
            }
            values.withUnsafeBufferPointer { vp in
                scores.withUnsafeBufferPointer { sp in
                    out.withUnsafeMutableBufferPointer { op in
                        backend.gemm(GemmShape(m: T, n: D, k: S, lda: S, ldb: G * D, ldc: H * D),
                                     sp.baseAddress!, vp.baseAddress! + g * D, op.baseAddress! + (b * T) * H * D + head * D)
                    }
                }
            }
        }
    }

    /// [T][S] flags: key j is visible to query t (causal by cache index, not padding, inside the
    /// sliding window) and, when there are more than keep_window_size keys, among the
    /// keep_window_size visible keys with the largest dt. Ties: the earlier key wins.
    func keptKeys(dt: [Float], dtHead: Int, keyIsReal: [Bool], queries T: Int, pastLength: Int) -> [Bool] {
        let S = keyIsReal.count
        var kept = [Bool](repeating: false, count: T * S)
        let needsSelection = S > keepWindowSize
        let order: [Int] = needsSelection
            ? (0..<S).sorted { i, j in
                let a = dt[i * dtHeads + dtHead], c = dt[j * dtHeads + dtHead]
                return a != c ? a > c : i < j
            }
            : []
        for t in 0..<T {
            let position = pastLength + t
            let first = slidingWindow.map { max(0, position - $0 + 1) } ?? 0
            func visible(_ j: Int) -> Bool { j <= position && j >= first && keyIsReal[j] }
            if needsSelection {
                var taken = 0
                for j in order where visible(j) {
                    kept[t * S + j] = true
                    taken += 1
                    if taken == keepWindowSize { break }
                }
            } else {
                for j in first..<min(position + 1, S) where keyIsReal[j] { kept[t * S + j] = true }
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
