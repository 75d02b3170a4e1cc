import Foundation
import DogeKernels

/// Per-token figures of a forward pass over right-padded rows, for losses that are functions of
/// the target log-probabilities (DPO, GRPO). Position t of row b scores the target labels[b][t+1];
/// entries whose target is −100 (and the last position) are 0.
public struct TokenStatistics: Sendable {
    /// log softmax(logits[t] / temperature)[labels[t+1]].
    public var logProbs: [[Float]]
    /// Σ over the vocabulary of the raw logits at t (TRL's `logits/*` metrics average these).
    public var logitSums: [[Float]]
    /// Entropy of softmax(logits[t] / temperature).
    public var entropies: [[Float]]
    /// Whether position t has a target.
    public var counted: [[Bool]]
    /// Whether the target is the most likely token (TRL's mean_token_accuracy).
    public var top1: [[Bool]] = []
}

extension DogeForCausalLM {
    /// Forward only: the token statistics of `ids` ([B][T], rectangular, positions 0..<T).
    public func tokenStatistics(ids: [[Int]], labels: [[Int]], temperature: Float = 1,
                                backend: ComputeBackend = .shared) throws -> TokenStatistics {
        let (normed, _, _, _, _, _) = try trainingForward(ids: ids, labels: labels, keepActivations: false, backend: backend)
        let (stats, _, _) = headStatistics(normed, labels: labels, temperature: temperature, backend: backend)
        return stats
    }

    /// One forward and backward pass for a loss L(logp) of the target log-probabilities:
    /// `objective` receives the statistics and returns ∂L/∂logp[b][t] (0 where a position does
    /// not count). Accumulates ∂L/∂θ into `grads`, with ∂logp/∂z = (onehot − softmax(z/τ))/τ.
    /// The head runs twice (statistics, then gradients) so the [rows, vocab] logits never exist at once.
    @discardableResult
    public func accumulateTokenObjective(ids: [[Int]], labels: [[Int]], temperature: Float = 1,
                                         into grads: DogeForCausalLM, backend: ComputeBackend = .shared,
                                         objective: (TokenStatistics) throws -> [[Float]]) throws -> TokenStatistics {
        let (normed, finalRstd, x, saved, cos, sin) = try trainingForward(ids: ids, labels: labels, keepActivations: true, backend: backend)
        let B = ids.count, T = ids[0].count, V = config.vocabSize, hidden = config.hiddenSize, rows = B * T
        // Small batches keep pass 1's logits (≤ 256 MB) instead of running the head twice.
        let keep = rows * V <= 64 << 20
        let (stats, lse, keptLogits) = headStatistics(normed, labels: labels, temperature: temperature, backend: backend, keepLogits: keep)
        var kept = keptLogits
        let coefficients = try objective(stats)
        guard coefficients.count == B, coefficients.allSatisfy({ $0.count == T }) else {
            throw ModelError.invalidInput("objective returned \(coefficients.map(\.count)) coefficients for rows of \(T)")
        }
        let head = lmHead ?? Linear(weight: model.embedTokens)
        var headGrad = lmHead != nil ? grads.lmHead! : Linear(weight: grads.model.embedTokens)
        if lmHead != nil { grads.lmHead = nil } else { grads.model.embedTokens = Tensor(zeros: [0]) }
        var dNormed = [Float](repeating: 0, count: rows * hidden)
        let chunk = min(rows, 512)
        var logits = [Float](repeating: 0, count: chunk * V)
        let invT = 1 / temperature
        var start = 0, chunkIndex = 0
        while start < rows {
            let n = min(chunk, rows - start)
            let input = Array(normed[(start * hidden)..<((start + n) * hidden)])
            // Kept logits are already divided by the temperature on counted rows.
            let scale: Float
            if keep {
                logits = kept[chunkIndex]; kept[chunkIndex] = []
                if logits.count < chunk * V { logits += [Float](repeating: 0, count: chunk * V - logits.count) }
                scale = 1
            } else {
                head.forward(input, rows: n, into: &logits, backend: backend)
                scale = invT
            }
            chunkIndex += 1
            logits.withUnsafeMutableBufferPointer { lp in
                let base = lp.baseAddress!
                let threads = backend.pool.threads
                backend.pool.parallel(parts: min(threads, n)) { part in
                    var r = part
                    while r < n {
                        let row = start + r, b = row / T, t = row % T
                        let z = base + r * V
                        let g = stats.counted[b][t] ? coefficients[b][t] : 0
                        if g == 0 {
                            z.update(repeating: 0, count: V)
                        } else {
                            // ∂L/∂z = g/τ · (onehot − p),  p = exp(z/τ − lse)
                            let shift = lse[row]
                            for j in 0..<V { z[j] = z[j] * scale - shift }
                            VectorOps.exp(z, out: z, count: V)
                            VectorOps.scale(-g * invT, z, out: z, count: V)
                            z[labels[b][t + 1]] += g * invT
                        }
                        r += threads
                    }
                }
            }
            let dLogits = n == chunk ? logits : Array(logits[0..<(n * V)])
            let dInput = head.backward(dLogits, input: input, rows: n, grads: &headGrad, backend: backend)
            dNormed.replaceSubrange((start * hidden)..<((start + n) * hidden), with: dInput)
            start += n
        }
        if lmHead != nil { grads.lmHead = headGrad } else { grads.model.embedTokens = headGrad.weight }
        var savedLayers = saved
        var dx = model.norm.backward(dNormed, input: x, rstd: finalRstd, grads: &grads.model.norm)
        for l in stride(from: model.layers.count - 1, through: 0, by: -1) {
            var g = grads.model.layers[l]
            grads.model.layers[l] = placeholderLayer
            dx = model.layers[l].backward(dx, saved: savedLayers[l], batch: B, tokens: T, cos: cos, sin: sin,
                                          routerLogitGradient: nil, grads: &g, backend: backend)
            grads.model.layers[l] = g
            savedLayers[l] = placeholderSaved
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
        return stats
    }

    /// Embedding, decoder layers and final norm (training path): normed output, its rstd, the
    /// norm's input, the layers' saved activations (empty unless kept), cos and sin.
    func trainingForward(ids: [[Int]], labels: [[Int]], keepActivations: Bool, backend: ComputeBackend)
        throws -> ([Float], [Float], [Float], [DecoderLayerSaved], [Float], [Float]) {
        let B = ids.count
        guard let T = ids.first?.count, T > 0, ids.allSatisfy({ $0.count == T }) else {
            throw ModelError.invalidInput("training batch must be non-empty rows of one length")
        }
        guard labels.count == B, labels.allSatisfy({ $0.count == T }) else {
            throw ModelError.invalidInput("labels shape \(labels.map(\.count)) does not match the ids \(ids.map(\.count))")
        }
        let hidden = config.hiddenSize, V = config.vocabSize
        var x = [Float](repeating: 0, count: B * T * hidden)
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
        for layer in model.layers {
            let r = layer.forwardTraining(x, batch: B, tokens: T, cos: cos, sin: sin, backend: backend)
            x = r.out
            if keepActivations { saved.append(r.saved) }
        }
        let (normed, rstd) = model.norm.forwardTraining(x)
        return (normed, rstd, x, saved, cos, sin)
    }

    /// Chunked LM head: per-token statistics and log Σ exp(z/τ) of every row.
    func headStatistics(_ normed: [Float], labels: [[Int]], temperature: Float, backend: ComputeBackend,
                        keepLogits: Bool = false) -> (TokenStatistics, [Float], [[Float]]) {
        let B = labels.count, T = labels[0].count, V = config.vocabSize, hidden = config.hiddenSize, rows = B * T
        let head = lmHead ?? Linear(weight: model.embedTokens)
        var logProbs = [Float](repeating: 0, count: rows), logitSums = [Float](repeating: 0, count: rows)
        var entropies = [Float](repeating: 0, count: rows), lse = [Float](repeating: 0, count: rows)
        var top1 = [Bool](repeating: false, count: rows)
        var kept: [[Float]] = []
        let counted = (0..<rows).map { row -> Bool in
            let b = row / T, t = row % T
            return t + 1 < T && labels[b][t + 1] != -100
        }
        let chunk = min(rows, 512)
        var logits = [Float](repeating: 0, count: chunk * V)
        let invT = 1 / temperature
        var start = 0
        while start < rows {
            let n = min(chunk, rows - start)
            head.forward(Array(normed[(start * hidden)..<((start + n) * hidden)]), rows: n, into: &logits, backend: backend)
            logits.withUnsafeMutableBufferPointer { lp in
                logProbs.withUnsafeMutableBufferPointer { lpp in
                    logitSums.withUnsafeMutableBufferPointer { lsp in
                        entropies.withUnsafeMutableBufferPointer { ep in
                            lse.withUnsafeMutableBufferPointer { lsep in
                              top1.withUnsafeMutableBufferPointer { tp in
                                let base = lp.baseAddress!
                                let threads = backend.pool.threads
                                backend.pool.parallel(parts: min(threads, n)) { part in
                                    var r = part
                                    while r < n {
                                        let row = start + r, b = row / T, t = row % T
                                        if counted[row] {
                                            let z = base + r * V
                                            var raw = 0.0
                                            for j in 0..<V { raw += Double(z[j]); z[j] *= invT }
                                            var m = -Float.infinity
                                            for j in 0..<V where z[j] > m { m = z[j] }
                                            var sum = 0.0, weighted = 0.0
                                            for j in 0..<V {
                                                let e = Foundation.exp(Double(z[j] - m))
                                                sum += e
                                                weighted += e * Double(z[j] - m)
                                            }
                                            let logSum = Foundation.log(sum)
                                            lsep[row] = Float(logSum + Double(m))
                                            lpp[row] = Float(Double(z[labels[b][t + 1]] - m) - logSum)
                                            lsp[row] = Float(raw)
                                            ep[row] = Float(logSum - weighted / sum)
                                            tp[row] = z[labels[b][t + 1]] == m
                                        }
                                        r += threads
                                    }
                                }
                              }
                            }
                        }
                    }
                }
            }
            if keepLogits { kept.append(n == chunk ? logits : Array(logits[0..<(n * V)])) }
            start += n
        }
        func grid<E>(_ flat: [E]) -> [[E]] { (0..<B).map { Array(flat[($0 * T)..<(($0 + 1) * T)]) } }
        return (TokenStatistics(logProbs: grid(logProbs), logitSums: grid(logitSums), entropies: grid(entropies),
                                counted: grid(counted), top1: grid(top1)), lse, kept)
    }
}
