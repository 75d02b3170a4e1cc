import Foundation
import DogeKernels

/// Loss figures of one training forward/backward.
public struct TrainingLoss: Sendable {
    /// Σ of the per-token cross entropy over counted tokens (labels ≠ −100, after the shift).
    public var lossSum: Double
    /// Tokens that counted.
    public var countedTokens: Int
    /// The MoE load-balancing loss (before router_aux_loss_coef), when output_router_logits.
    public var auxLoss: Double?
}

extension DogeForCausalLM {
    /// A model of the same structure filled with zeros: the gradient holder ("gradients mirror parameters").
    public func zeroGradients() -> DogeForCausalLM {
        var weights: [String: Tensor] = [:]
        for spec in config.parameterSpecs(layout: layout) { weights[spec.key] = Tensor(zeros: spec.shape) }
        let g = DogeForCausalLM(config: config, layout: layout, weights: weights)
        g.model.routerSplit = model.routerSplit
        return g
    }

    /// Tokens whose label counts for the causal-LM loss: labels[b][t+1] ≠ −100 (transformers shifts
    /// labels left by one and pads with −100).
    public static func countedTokens(labels: [[Int]]) -> Int {
        labels.reduce(0) { $0 + $1.dropFirst().filter { $0 != -100 }.count }
    }

    /// One forward and backward pass over ids [B][T] (rectangular, no padding, positions 0..<T),
    /// accumulating into `grads` the gradient of
    ///     lossScale · Σ_counted CE  +  auxLossScale · aux
    /// Use lossScale = 1 / (counted tokens of the whole accumulated batch), as the HF Trainer does
    /// with num_items_in_batch, and auxLossScale = router_aux_loss_coef.
    public func accumulateGradients(ids: [[Int]], labels: [[Int]], lossScale: Float, auxLossScale: Float = 0,
                                    into grads: DogeForCausalLM, backend: ComputeBackend = .shared) throws -> TrainingLoss {
        if weightStorage != WeightStorage.f32.rawValue {
            throw ModelError.invalidInput("training needs float32 weights, but this model holds its matrices as \(weightStorage); load it with DogeForCausalLM(directory:loading: .float32)")
        }
        let B = ids.count
        guard let T = ids.first?.count, T > 0, ids.allSatisfy({ $0.count == T }) else {
            throw ModelError.invalidInput("training batch must be non-empty rows of one length")
        }
        guard labels.count == B, labels.allSatisfy({ $0.count == T }) else {
            throw ModelError.invalidInput("labels shape \(labels.map(\.count)) does not match the ids \(ids.map(\.count))")
        }
        let hidden = config.hiddenSize, V = config.vocabSize
        let rows = B * T
        // Embedding lookup.
        var x = [Float](repeating: 0, count: rows * hidden)
        for (b, row) in ids.enumerated() {
            for (t, id) in row.enumerated() {
                guard id >= 0 && id < V else {
                    throw ModelError.invalidInput("token id \(id) at batch row \(b), position \(t) is outside the vocabulary (0..<\(V))")
                }
                let dst = (b * T + t) * hidden
                x.replaceSubrange(dst..<(dst + hidden), with: model.embedTokens.data[(id * hidden)..<((id + 1) * hidden)])
            }
        }
        for (b, row) in labels.enumerated() {
            for (t, label) in row.enumerated() where label != -100 && (label < 0 || label >= V) {
                throw ModelError.invalidInput("label \(label) at batch row \(b), position \(t) is outside the vocabulary and is not -100")
            }
        }
        let positions = Array((0..<B).map { _ in Array(0..<T) }.joined())
        let (cos, sin) = model.rotary.cosSin(positions: positions)
        var saved: [DecoderLayerSaved] = []
        saved.reserveCapacity(model.layers.count)
        for layer in model.layers {
            let r = layer.forwardTraining(x, batch: B, tokens: T, cos: cos, sin: sin, backend: backend)
            x = r.out
            saved.append(r.saved)
        }
        let (normed, finalRstd) = model.norm.forwardTraining(x)

        // LM head and cross entropy, chunk by chunk so the [rows, vocab] logits never exist at once.
        let head = lmHead ?? Linear(weight: model.embedTokens)
        var headGrad = lmHead != nil ? grads.lmHead! : Linear(weight: grads.model.embedTokens)
        if lmHead != nil { grads.lmHead = nil } else { grads.model.embedTokens = Tensor(zeros: [0]) }   // sole owner while updating
        var dNormed = [Float](repeating: 0, count: rows * hidden)
        var lossSum = 0.0, counted = 0
        let chunk = min(rows, 512)
        var logits = [Float](repeating: 0, count: chunk * V)
        var start = 0
        while start < rows {
            let n = min(chunk, rows - start)
            let input = Array(normed[(start * hidden)..<((start + n) * hidden)])
            head.forward(input, rows: n, into: &logits, backend: backend)
            // Softmax cross entropy, rows split across threads; logits become dLogits in place.
            let threads = backend.pool.threads
            var partLoss = [Double](repeating: 0, count: threads), partCount = [Int](repeating: 0, count: threads)
            logits.withUnsafeMutableBufferPointer { lp in
                partLoss.withUnsafeMutableBufferPointer { plp in
                    partCount.withUnsafeMutableBufferPointer { pcp in
                        let base = lp.baseAddress!, pl = plp.baseAddress!, pc = pcp.baseAddress!
                        backend.pool.parallel(parts: min(threads, n)) { part in
                            var r = part
                            while r < n {
                                let row = start + r, b = row / T, t = row % T
                                let label = t + 1 < T ? labels[b][t + 1] : -100
                                let z = base + r * V
                                if label == -100 {
                                    z.update(repeating: 0, count: V)
                                } else {
                                    pc[part] += 1
                                    var m = -Float.infinity
                                    for j in 0..<V where z[j] > m { m = z[j] }
                                    let target = z[label]
                                    for j in 0..<V { z[j] -= m }
                                    VectorOps.exp(z, out: z, count: V)
                                    var sum = 0.0
                                    var j = 0
                                    while j < V {
                                        var partial: Float = 0
                                        for k in j..<min(j + 256, V) { partial += z[k] }
                                        sum += Double(partial)
                                        j += 256
                                    }
                                    pl[part] += Foundation.log(sum) + Double(m) - Double(target)
                                    VectorOps.scale(Float(1 / sum) * lossScale, z, out: z, count: V)
                                    z[label] -= lossScale
                                }
                                r += threads
                            }
                        }
                    }
                }
            }
            lossSum += partLoss.reduce(0, +)
            counted += partCount.reduce(0, +)
            let dLogits = n == chunk ? logits : Array(logits[0..<(n * V)])
            let dInput = head.backward(dLogits, input: input, rows: n, grads: &headGrad, backend: backend)
            dNormed.replaceSubrange((start * hidden)..<((start + n) * hidden), with: dInput)
            start += n
        }
        if lmHead != nil { grads.lmHead = headGrad } else { grads.model.embedTokens = headGrad.weight }

        // MoE load-balancing loss over every layer's routing.
        var auxLoss: Double? = nil
        var routerGradients: [[Float]?] = Array(repeating: nil, count: model.layers.count)
        if config.isMoE && config.outputRouterLogits {
            let (value, gradients) = loadBalancingLoss(saved: saved, rows: rows, scale: auxLossScale)
            auxLoss = value
            routerGradients = gradients
        }

        var dx = model.norm.backward(dNormed, input: x, rstd: finalRstd, grads: &grads.model.norm)
        for l in stride(from: model.layers.count - 1, through: 0, by: -1) {
            var g = grads.model.layers[l]
            grads.model.layers[l] = placeholderLayer
            dx = model.layers[l].backward(dx, saved: saved[l], batch: B, tokens: T, cos: cos, sin: sin,
                                          routerLogitGradient: routerGradients[l], grads: &g, backend: backend)
            grads.model.layers[l] = g
            saved[l] = placeholderSaved
        }
        grads.model.embedTokens.data.withUnsafeMutableBufferPointer { gp in
            dx.withUnsafeBufferPointer { dp in
                for (b, row) in ids.enumerated() {
                    for (t, id) in row.enumerated() {
                        VectorOps.add(dp.baseAddress! + (b * T + t) * hidden, into: gp.baseAddress! + id * hidden, count: hidden)
                    }
                }
            }
        }
        return TrainingLoss(lossSum: lossSum, countedTokens: counted, auxLoss: auxLoss)
    }

    /// transformers' `load_balancing_loss_func` (no attention mask): with f_e the share of the
    /// top-k selections (all layers, all tokens) that went to expert e and P_e the mean over
    /// layers and tokens of softmax(x)[i]·softmax(y)[j] for e = i·K + j,
    /// aux = num_experts · Σ_e f_e · P_e. Returns the value and ∂(scale·aux)/∂router logits per layer.
    func loadBalancingLoss(saved: [DecoderLayerSaved], rows n: Int, scale: Float) -> (Double, [[Float]?]) {
        let K = config.numKeys, E = config.numExperts
        var moe: [(Int, CDMoESaved)] = []
        for (l, s) in saved.enumerated() { if case .moe(let m) = s.feedForward { moe.append((l, m)) } }
        let L = moe.count
        guard L > 0 else { return (0, Array(repeating: nil, count: saved.count)) }
        var f = [Double](repeating: 0, count: max(E, K * K))
        var selections = 0
        for (_, m) in moe { for row in m.experts { for e in row { f[e] += 1; selections += 1 } } }
        for e in f.indices { f[e] /= Double(selections) }
        let split = model.routerSplit
        func starts(_ t: Int) -> (Int, Int) {
            split == .transformersView ? (t * K, (n + t) * K) : (t * 2 * K, t * 2 * K + K)
        }
        func softmax(_ v: ArraySlice<Float>) -> [Double] {
            let m = Double(v.max()!)
            let e = v.map { Foundation.exp(Double($0) - m) }
            let s = e.reduce(0, +)
            return e.map { $0 / s }
        }
        var total = 0.0
        var gradients: [[Float]?] = Array(repeating: nil, count: saved.count)
        let c = Double(scale) * Double(E) / Double(L * n)
        for (l, m) in moe {
            var g = [Float](repeating: 0, count: m.routerLogits.count)
            for t in 0..<n {
                let (xs, ys) = starts(t)
                let px = softmax(m.routerLogits[xs..<(xs + K)]), py = softmax(m.routerLogits[ys..<(ys + K)])
                var dpx = [Double](repeating: 0, count: K), dpy = [Double](repeating: 0, count: K)
                for i in 0..<K {
                    for j in 0..<K {
                        let fe = f[i * K + j]
                        total += fe * px[i] * py[j]
                        dpx[i] += fe * py[j]
                        dpy[j] += fe * px[i]
                    }
                }
                let ix = zip(px, dpx).reduce(0) { $0 + $1.0 * $1.1 }, iy = zip(py, dpy).reduce(0) { $0 + $1.0 * $1.1 }
                for i in 0..<K {
                    g[xs + i] += Float(c * px[i] * (dpx[i] - ix))
                    g[ys + i] += Float(c * py[i] * (dpy[i] - iy))
                }
            }
            gradients[l] = g
        }
        return (Double(E) * total / Double(L * n), gradients)
    }
}

/// Stand-ins parked while a layer's gradient is updated in place (so it is never copied).
let placeholderLayer = DecoderLayer(
    inputLayernorm: RMSNorm(weight: Tensor(zeros: [0]), eps: 1), selfAttention: placeholderAttention,
    inputResidual: Tensor(zeros: [0]), postAttentionLayernorm: RMSNorm(weight: Tensor(zeros: [0]), eps: 1),
    feedForward: placeholderFeedForward, postAttentionResidual: Tensor(zeros: [0]))

let placeholderAttention: DynamicMaskAttention = {
    let empty = Linear(weight: Tensor(zeros: [0, 0]))
    var c = DogeConfiguration()
    c.numAttentionHeads = 1; c.numKeyValueHeads = 1; c.explicitHeadDim = 2
    return DynamicMaskAttention(qProj: empty, kProj: empty, vProj: empty, oProj: empty, dtProj: empty,
                                a: Tensor(zeros: [1]), qNorm: nil, kNorm: nil, config: c)
}()

let placeholderSaved = DecoderLayerSaved(
    input: [], inputRstd: [],
    attention: AttentionSaved(input: [], qRaw: [], kRaw: [], qRstd: [], kRstd: [], q: [], k: [], v: [], dtLogits: [], dt: [], probs: [], attended: []),
    afterAttention: [], postRstd: [],
    feedForward: .mlp(MLPSaved(input: [], gate: [], up: [], product: [])))
