#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DogeKernels

/// What Dynamic Mask Attention's backward needs from its training forward.
public struct AttentionSaved: Sendable {
    var input: [Float]          // h [B·T, hidden]
    var qRaw, kRaw: [Float]     // projections before q/k-norm
    var qRstd, kRstd: [Float]   // per (token, head) norm scales
    var q, k, v: [Float]        // after norm and RoPE (q, k); v as projected
    var dtLogits: [Float]       // z = dt_proj(v) [B·T, dtHeads]
    var dt: [Float]             // exp(A ⊙ softplus(z))
    var probs: [Float]          // [B, H, T, T] softmax rows (0 where masked)
    var attended: [Float]       // [B·T, H·D], the o_proj input
}

extension DynamicMaskAttention {
    public func zeroGradient() -> DynamicMaskAttention {
        DynamicMaskAttention(qProj: qProj.zeroGradient(), kProj: kProj.zeroGradient(), vProj: vProj.zeroGradient(),
                             oProj: oProj.zeroGradient(), dtProj: dtProj.zeroGradient(), a: Tensor(zeros: a.shape),
                             qNorm: qNorm?.zeroGradient(), kNorm: kNorm?.zeroGradient(),
                             config: trainingConfig)
    }

    var trainingConfig: DogeConfiguration {
        var c = DogeConfiguration()
        c.numAttentionHeads = numHeads; c.numKeyValueHeads = numKVHeads; c.explicitHeadDim = headDim
        c.keepWindowSize = keepWindowSize; c.slidingWindow = slidingWindow
        return c
    }

    var trainingDtHeads: Int { a.count }
    func trainingDtHead(forHead h: Int) -> Int { a.count == numHeads ? h : h / (numHeads / numKVHeads) }

    /// Training forward over B rows of T tokens at positions 0..<T, no cache, no padding.
    /// `cos`/`sin`: [B·T, D]. Returns the output [B·T, hidden] and what backward needs.
    public func forwardTraining(_ h: [Float], batch B: Int, tokens T: Int, cos: [Float], sin: [Float],
                                backend: ComputeBackend = .shared) -> (out: [Float], saved: AttentionSaved) {
        let (H, G, D) = (numHeads, numKVHeads, headDim)
        let rows = B * T
        let dtHeads = trainingDtHeads
        var qRaw = [Float](repeating: 0, count: rows * H * D)
        var kRaw = [Float](repeating: 0, count: rows * G * D)
        var v = [Float](repeating: 0, count: rows * G * D)
        qProj.forward(h, rows: rows, into: &qRaw, backend: backend)
        kProj.forward(h, rows: rows, into: &kRaw, backend: backend)
        vProj.forward(h, rows: rows, into: &v, backend: backend)
        var q = qRaw, k = kRaw
        var qRstd: [Float] = [], kRstd: [Float] = []
        if let qNorm { (q, qRstd) = qNorm.forwardTraining(qRaw) }
        if let kNorm { (k, kRstd) = kNorm.forwardTraining(kRaw) }
        q.withUnsafeMutableBufferPointer { qp in
            k.withUnsafeMutableBufferPointer { kp in
                cos.withUnsafeBufferPointer { cp in
                    sin.withUnsafeBufferPointer { sp in
                        for row in 0..<rows {
                            applyRotary(qp.baseAddress! + row * H * D, heads: H, dim: D, cos: cp.baseAddress! + row * D, sin: sp.baseAddress! + row * D)
                            applyRotary(kp.baseAddress! + row * G * D, heads: G, dim: D, cos: cp.baseAddress! + row * D, sin: sp.baseAddress! + row * D)
                        }
                    }
                }
            }
        }
        var z = [Float](repeating: 0, count: rows * dtHeads)
        dtProj.forward(v, rows: rows, into: &z, backend: backend)
        var dt = z
        for i in 0..<dt.count { dt[i] = expf(a.data[i % dtHeads] * trainingSoftplus(z[i])) }

        var probs = [Float](repeating: 0, count: B * H * T * T)
        var attended = [Float](repeating: 0, count: rows * H * D)
        let scale = 1 / Float(D).squareRoot()
        let kept = (0..<B).map { b in (0..<dtHeads).map { keptMask(dt: dt, batchRow: b, tokens: T, dtHead: $0) } }
        let pairs = B * H
        q.withUnsafeBufferPointer { qp in
            k.withUnsafeBufferPointer { kp in
                v.withUnsafeBufferPointer { vp in
                    probs.withUnsafeMutableBufferPointer { pp in
                        attended.withUnsafeMutableBufferPointer { op in
                            let (qb, kb, vb, pb, ob) = (qp.baseAddress!, kp.baseAddress!, vp.baseAddress!, pp.baseAddress!, op.baseAddress!)
                            backend.pool.parallel(parts: min(pairs, backend.pool.threads)) { part in
                                var pair = part
                                while pair < pairs {
                                    let b = pair / H, head = pair % H, g = head / (H / G)
                                    let dh = trainingDtHead(forHead: head)
                                    let p = pb + pair * T * T
                                    backend.gemm(GemmShape(transB: true, m: T, n: T, k: D, lda: H * D, ldb: G * D, ldc: T), alpha: scale,
                                                 qb + b * T * H * D + head * D, kb + b * T * G * D + g * D, p)
                                    let mask = kept[b][dh]
                                    for t in 0..<T {
                                        let row = p + t * T
                                        for j in 0..<T {
                                            if mask[t * T + j] { row[j] += dt[(b * T + j) * dtHeads + dh] } else { row[j] = -Float.infinity }
                                        }
                                        VectorOps.softmaxInPlace(row, count: T)
                                    }
                                    backend.gemm(GemmShape(m: T, n: D, k: T, lda: T, ldb: G * D, ldc: H * D),
                                                 p, vb + b * T * G * D + g * D, ob + b * T * H * D + head * D)
                                    pair += backend.pool.threads
                                }
                            }
                        }
                    }
                }
            }
        }
        var out = [Float](repeating: 0, count: rows * oProj.outFeatures)
        oProj.forward(attended, rows: rows, into: &out, backend: backend)
        return (out, AttentionSaved(input: h, qRaw: qRaw, kRaw: kRaw, qRstd: qRstd, kRstd: kRstd, q: q, k: k, v: v,
                                    dtLogits: z, dt: dt, probs: probs, attended: attended))
    }

    /// [T][T] flags of batch row b: key j visible to query t (j ≤ t, inside the sliding window) and,
    /// when T > keep_window_size, among the keep_window_size visible keys with the largest dt
    /// (ties: the earlier key wins, as the inference path).
    func keptMask(dt: [Float], batchRow b: Int, tokens T: Int, dtHead: Int) -> [Bool] {
        let dtHeads = trainingDtHeads
        var kept = [Bool](repeating: false, count: T * T)
        let value = { (j: Int) in dt[(b * T + j) * dtHeads + dtHead] }
        let order: [Int] = T > keepWindowSize
            ? (0..<T).sorted { i, j in value(i) != value(j) ? value(i) > value(j) : i < j } : []
        for t in 0..<T {
            let first = slidingWindow.map { max(0, t - $0 + 1) } ?? 0
            if T > keepWindowSize {
                var taken = 0
                for j in order where j <= t && j >= first {
                    kept[t * T + j] = true
                    taken += 1
                    if taken == keepWindowSize { break }
                }
            } else {
                for j in first...t { kept[t * T + j] = true }
            }
        }
        return kept
    }

    /// Backward of `forwardTraining`: accumulates every parameter gradient into `grads` and
    /// returns dh [B·T, hidden]. Masked keys get no gradient (their probabilities are exactly 0).
    public func backward(_ dOut: [Float], saved s: AttentionSaved, batch B: Int, tokens T: Int,
                         cos: [Float], sin: [Float], grads: inout DynamicMaskAttention,
                         backend: ComputeBackend = .shared) -> [Float] {
        let (H, G, D) = (numHeads, numKVHeads, headDim)
        let rows = B * T, dtHeads = trainingDtHeads
        let scale = 1 / Float(D).squareRoot()
        let dAttended = oProj.backward(dOut, input: s.attended, rows: rows, grads: &grads.oProj, backend: backend)
        var dq = [Float](repeating: 0, count: rows * H * D)
        // Per-head partial gradients of k, v and dt (heads of one group write the same rows, so
        // each head gets its own buffer and they are summed after).
        let pairs = B * H
        var dkHead = [Float](repeating: 0, count: pairs * T * D)
        var dvHead = [Float](repeating: 0, count: pairs * T * D)
        var ddtHead = [Float](repeating: 0, count: pairs * T)
        s.q.withUnsafeBufferPointer { qp in
        s.k.withUnsafeBufferPointer { kp in
        s.v.withUnsafeBufferPointer { vp in
        s.probs.withUnsafeBufferPointer { pp in
        dAttended.withUnsafeBufferPointer { dop in
        dq.withUnsafeMutableBufferPointer { dqp in
        dkHead.withUnsafeMutableBufferPointer { dkp in
        dvHead.withUnsafeMutableBufferPointer { dvp in
        ddtHead.withUnsafeMutableBufferPointer { ddp in
            let (qb, kb, vb, pb, dob) = (qp.baseAddress!, kp.baseAddress!, vp.baseAddress!, pp.baseAddress!, dop.baseAddress!)
            let (dqb, dkb, dvb, ddb) = (dqp.baseAddress!, dkp.baseAddress!, dvp.baseAddress!, ddp.baseAddress!)
            let threads = backend.pool.threads
            backend.pool.parallel(parts: min(pairs, threads)) { part in
                var dS = [Float](repeating: 0, count: T * T)
                var pair = part
                while pair < pairs {
                    let b = pair / H, head = pair % H, g = head / (H / G)
                    let p = pb + pair * T * T
                    let dO = dob + b * T * H * D + head * D
                    dS.withUnsafeMutableBufferPointer { dsp in
                        let ds = dsp.baseAddress!
                        // dP = dO · Vᵀ
                        backend.gemm(GemmShape(transB: true, m: T, n: T, k: D, lda: H * D, ldb: G * D, ldc: T),
                                     dO, vb + b * T * G * D + g * D, ds)
                        // dV_head = Pᵀ · dO
                        backend.gemm(GemmShape(transA: true, m: T, n: D, k: T, lda: T, ldb: H * D, ldc: D),
                                     p, dO, dvb + pair * T * D)
                        // dS = P ⊙ (dP − Σ_j P·dP); the logit of a kept key also carries + dt[j].
                        for t in 0..<T {
                            let pr = p + t * T, dr = ds + t * T
                            var sum: Float = 0
                            for j in 0...t { sum += pr[j] * dr[j] }
                            for j in 0..<T { dr[j] = pr[j] * (dr[j] - sum) }
                            for j in 0...t { ddb[pair * T + j] += dr[j] }
                        }
                        // dQ = scale · dS · K ; dK_head = scale · dSᵀ · Q
                        backend.gemm(GemmShape(m: T, n: D, k: T, lda: T, ldb: G * D, ldc: H * D), alpha: scale,
                                     ds, kb + b * T * G * D + g * D, dqb + b * T * H * D + head * D)
                        backend.gemm(GemmShape(transA: true, m: T, n: D, k: T, lda: T, ldb: H * D, ldc: D), alpha: scale,
                                     ds, qb + b * T * H * D + head * D, dkb + pair * T * D)
                    }
                    pair += threads
                }
            }
        }}}}}}}}}
        var dk = [Float](repeating: 0, count: rows * G * D)
        var dv = [Float](repeating: 0, count: rows * G * D)
        var ddt = [Float](repeating: 0, count: rows * dtHeads)
        for b in 0..<B {
            for head in 0..<H {
                let pair = b * H + head, g = head / (H / G), dh = trainingDtHead(forHead: head)
                for t in 0..<T {
                    let dst = (b * T + t) * G * D + g * D, src = (pair * T + t) * D
                    for d in 0..<D { dk[dst + d] += dkHead[src + d]; dv[dst + d] += dvHead[src + d] }
                    ddt[(b * T + t) * dtHeads + dh] += ddtHead[pair * T + t]
                }
            }
        }
        // dt = exp(A·softplus(z)): dA += Σ ddt·dt·softplus(z); dz = ddt·dt·A·softplus'(z).
        var dz = [Float](repeating: 0, count: ddt.count)
        for i in 0..<ddt.count {
            let hd = i % dtHeads, z = s.dtLogits[i]
            let g = ddt[i] * s.dt[i]
            grads.a.data[hd] += g * trainingSoftplus(z)
            dz[i] = g * a.data[hd] * (z > 20 ? 1 : 1 / (1 + expf(-z)))
        }
        let dvFromDt = dtProj.backward(dz, input: s.v, rows: rows, grads: &grads.dtProj, backend: backend)
        for i in 0..<dv.count { dv[i] += dvFromDt[i] }
        // RoPE, then q/k norm.
        dq.withUnsafeMutableBufferPointer { dqp in
            dk.withUnsafeMutableBufferPointer { dkp in
                cos.withUnsafeBufferPointer { cp in
                    sin.withUnsafeBufferPointer { sp in
                        for row in 0..<rows {
                            applyRotaryBackward(dqp.baseAddress! + row * H * D, heads: H, dim: D, cos: cp.baseAddress! + row * D, sin: sp.baseAddress! + row * D)
                            applyRotaryBackward(dkp.baseAddress! + row * G * D, heads: G, dim: D, cos: cp.baseAddress! + row * D, sin: sp.baseAddress! + row * D)
                        }
                    }
                }
            }
        }
        if let qNorm { dq = qNorm.backward(dq, input: s.qRaw, rstd: s.qRstd, grads: &grads.qNorm!) }
        if let kNorm { dk = kNorm.backward(dk, input: s.kRaw, rstd: s.kRstd, grads: &grads.kNorm!) }
        var dh = qProj.backward(dq, input: s.input, rows: rows, grads: &grads.qProj, backend: backend)
        let dhK = kProj.backward(dk, input: s.input, rows: rows, grads: &grads.kProj, backend: backend)
        let dhV = vProj.backward(dv, input: s.input, rows: rows, grads: &grads.vProj, backend: backend)
        for i in 0..<dh.count { dh[i] += dhK[i] + dhV[i] }
        return dh
    }
}

/// PyTorch's softplus (beta 1, threshold 20).
@inline(__always)
func trainingSoftplus(_ x: Float) -> Float { x > 20 ? x : log1pf(expf(x)) }
