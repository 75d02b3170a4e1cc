#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DogeKernels

/// What the MLP's backward needs: its input and both projections before the activation.
public struct MLPSaved: Sendable {
    var input: [Float]
    var gate: [Float]
    var up: [Float]
    var product: [Float]   // act(gate) ⊙ up, the down_proj input
}

extension MLP {
    public func zeroGradient() -> MLP {
        MLP(gateProj: gateProj.zeroGradient(), upProj: upProj.zeroGradient(), downProj: downProj.zeroGradient(), activation: activation)
    }

    public func forwardTraining(_ h: [Float], rows: Int, backend: ComputeBackend = .shared) -> (out: [Float], saved: MLPSaved) {
        let inter = gateProj.outFeatures
        var gate = [Float](repeating: 0, count: rows * inter)
        var up = gate
        gateProj.forward(h, rows: rows, into: &gate, backend: backend)
        upProj.forward(h, rows: rows, into: &up, backend: backend)
        var product = up
        if activation == .silu {
            gate.withUnsafeBufferPointer { g in
                product.withUnsafeMutableBufferPointer { u in
                    VectorOps.siluMul(g.baseAddress!, u.baseAddress!, count: u.count, out: u.baseAddress!)
                }
            }
        } else {
            for i in 0..<product.count { product[i] *= activation(gate[i]) }
        }
        var out = [Float](repeating: 0, count: rows * downProj.outFeatures)
        downProj.forward(product, rows: rows, into: &out, backend: backend)
        return (out, MLPSaved(input: h, gate: gate, up: up, product: product))
    }

    public func backward(_ dy: [Float], saved s: MLPSaved, rows: Int, grads: inout MLP, backend: ComputeBackend = .shared) -> [Float] {
        let dProduct = downProj.backward(dy, input: s.product, rows: rows, grads: &grads.downProj, backend: backend)
        let n = dProduct.count
        var dGate = [Float](repeating: 0, count: n), dUp = dGate
        let activation = self.activation
        dProduct.withUnsafeBufferPointer { dp in
            s.gate.withUnsafeBufferPointer { gp in
                s.up.withUnsafeBufferPointer { upp in
                    dGate.withUnsafeMutableBufferPointer { dgp in
                        dUp.withUnsafeMutableBufferPointer { dup in
                            let (d, gate, up, dg, du) = (dp.baseAddress!, gp.baseAddress!, upp.baseAddress!, dgp.baseAddress!, dup.baseAddress!)
                            // Independent per element: split across the pool (the same values either way).
                            backend.pool.parallelRows(n, minimumPerPart: 1 << 14) { range in
                                for i in range {
                                    let g = gate[i]
                                    du[i] = d[i] * activation(g)
                                    dg[i] = d[i] * up[i] * activation.derivative(g)
                                }
                            }
                        }
                    }
                }
            }
        }
        var dh = gateProj.backward(dGate, input: s.input, rows: rows, grads: &grads.gateProj, backend: backend)
        let dhUp = upProj.backward(dUp, input: s.input, rows: rows, grads: &grads.upProj, backend: backend)
        dhUp.withUnsafeBufferPointer { x in
            dh.withUnsafeMutableBufferPointer { y in VectorOps.add(x.baseAddress!, into: y.baseAddress!, count: y.count) }
        }
        return dh
    }
}

/// What CDMoE's backward needs.
public struct CDMoESaved: Sendable {
    var shared: MLPSaved
    var routerLogits: [Float]        // [N, 2K] flat, as router_gate wrote it
    var experts: [[Int]]             // [N][topK]
    var weights: [[Float]]           // routing weights after softmax (and norm_topk_prob)
    var rawWeights: [[Float]]        // softmax before norm_topk_prob
    var xPosition: [[Int]]           // flat router-logit index of each selected score's x part
    var yPosition: [[Int]]           // … and y part
    var expertScores: [[Float]]      // down_embed[e]·h before the activation
}

extension CDMoE {
    public func zeroGradient() -> CDMoE {
        var c = DogeConfiguration()
        c.numExperts = downEmbed.shape[0]; c.numExpertsPerTok = topK; c.normTopkProb = normTopkProb
        var m = CDMoE(shared: shared.zeroGradient(), routerGate: routerGate.zeroGradient(),
                      downEmbed: Tensor(zeros: downEmbed.shape), upEmbed: Tensor(zeros: upEmbed.shape), config: c)
        m.routerSplit = routerSplit
        return m
    }

    /// Training forward for N token rows (transformers' `.view` routing unless `routerSplit` says otherwise).
    public func forwardTraining(_ h: [Float], rows n: Int, backend: ComputeBackend = .shared) -> (out: [Float], saved: CDMoESaved) {
        var (out, sharedSaved) = shared.forwardTraining(h, rows: n, backend: backend)
        let hidden = routerGate.inFeatures, K = numKeys
        var logits = [Float](repeating: 0, count: n * 2 * K)
        routerGate.forward(h, rows: n, into: &logits, backend: backend)
        var experts: [[Int]] = [], weights: [[Float]] = [], rawWeights: [[Float]] = []
        var xPos: [[Int]] = [], yPos: [[Int]] = [], scores: [[Float]] = []
        for t in 0..<n {
            let xStart: Int, yStart: Int
            switch routerSplit {
            case .transformersView: xStart = t * K; yStart = (n + t) * K
            case .perToken: xStart = t * 2 * K; yStart = t * 2 * K + K
            }
            let (sx, ix) = sortedDescending(logits[xStart..<(xStart + K)])
            let (sy, iy) = sortedDescending(logits[yStart..<(yStart + K)])
            var candidates: [(score: Float, position: Int)] = []
            candidates.reserveCapacity(K * K)
            for a in 0..<K { for b in 0..<K { candidates.append((sx[a] + sy[b], a * K + b)) } }
            let best = Array(candidates.sorted { $0.score != $1.score ? $0.score > $1.score : $0.position < $1.position }.prefix(topK))
            let maxScore = best.map(\.score).max() ?? 0
            var w = best.map { expf($0.score - maxScore) }
            let total = w.reduce(0, +)
            w = w.map { $0 / total }
            rawWeights.append(w)
            if normTopkProb { let s = w.reduce(0, +); w = w.map { $0 / s } }
            experts.append(best.map { ix[$0.position / K] * K + iy[$0.position % K] })
            xPos.append(best.map { xStart + ix[$0.position / K] })
            yPos.append(best.map { yStart + iy[$0.position % K] })
            weights.append(w)
        }
        let activation = shared.activation
        h.withUnsafeBufferPointer { hp in
            downEmbed.data.withUnsafeBufferPointer { dp in
                upEmbed.data.withUnsafeBufferPointer { up in
                    out.withUnsafeMutableBufferPointer { op in
                        for t in 0..<n {
                            let x = hp.baseAddress! + t * hidden
                            var rowScores: [Float] = []
                            for (e, w) in zip(experts[t], weights[t]) {
                                let d = dot(dp.baseAddress! + e * hidden, x, hidden)
                                rowScores.append(d)
                                VectorOps.axpy(activation(d) * w, up.baseAddress! + e * hidden, into: op.baseAddress! + t * hidden, count: hidden)
                            }
                            scores.append(rowScores)
                        }
                    }
                }
            }
        }
        return (out, CDMoESaved(shared: sharedSaved, routerLogits: logits, experts: experts, weights: weights,
                                rawWeights: rawWeights, xPosition: xPos, yPosition: yPos, expertScores: scores))
    }

    /// out = shared(h) + Σ_i act(down[e_i]·h)·w_i · up[e_i]; the router gradient flows through the
    /// selected scores (softmax over the top-k) into the router logits they were read from.
    /// `routerLogitGradient` adds an outside gradient of the router logits (the aux loss).
    public func backward(_ dy: [Float], saved s: CDMoESaved, rows n: Int, routerLogitGradient: [Float]? = nil,
                         grads: inout CDMoE, backend: ComputeBackend = .shared) -> [Float] {
        var dh = shared.backward(dy, saved: s.shared, rows: n, grads: &grads.shared, backend: backend)
        let hidden = routerGate.inFeatures
        var dLogits = routerLogitGradient ?? [Float](repeating: 0, count: s.routerLogits.count)
        let activation = shared.activation
        s.shared.input.withUnsafeBufferPointer { hp in
        dy.withUnsafeBufferPointer { dyp in
        downEmbed.data.withUnsafeBufferPointer { dp in
        upEmbed.data.withUnsafeBufferPointer { up in
        grads.downEmbed.data.withUnsafeMutableBufferPointer { gd in
        grads.upEmbed.data.withUnsafeMutableBufferPointer { gu in
        dh.withUnsafeMutableBufferPointer { dhp in
            for t in 0..<n {
                let x = hp.baseAddress! + t * hidden, g = dyp.baseAddress! + t * hidden
                let k = s.experts[t].count
                var dw = [Float](repeating: 0, count: k)
                for i in 0..<k {
                    let e = s.experts[t][i], d = s.expertScores[t][i], w = s.weights[t][i]
                    let coefficient = activation(d) * w
                    let de = dot(up.baseAddress! + e * hidden, g, hidden)
                    VectorOps.axpy(coefficient, g, into: gu.baseAddress! + e * hidden, count: hidden)
                    dw[i] = de * activation(d)
                    let dd = de * w * activation.derivative(d)
                    VectorOps.axpy(dd, x, into: gd.baseAddress! + e * hidden, count: hidden)
                    VectorOps.axpy(dd, dp.baseAddress! + e * hidden, into: dhp.baseAddress! + t * hidden, count: hidden)
                }
                // norm_topk_prob: w = p / Σp.
                var dProb = dw
                if normTopkProb {
                    let p = s.rawWeights[t], total = p.reduce(0, +)
                    let inner = zip(dw, s.weights[t]).reduce(Float(0)) { $0 + $1.0 * $1.1 }
                    dProb = dw.map { ($0 - inner) / total }
                }
                let p = s.rawWeights[t]
                let inner = zip(dProb, p).reduce(Float(0)) { $0 + $1.0 * $1.1 }
                for i in 0..<k {
                    let ds = p[i] * (dProb[i] - inner)
                    dLogits[s.xPosition[t][i]] += ds
                    dLogits[s.yPosition[t][i]] += ds
                }
            }
        }}}}}}}
        let dhRouter = routerGate.backward(dLogits, input: s.shared.input, rows: n, grads: &grads.routerGate, backend: backend)
        for i in 0..<dh.count { dh[i] += dhRouter[i] }
        return dh
    }
}
