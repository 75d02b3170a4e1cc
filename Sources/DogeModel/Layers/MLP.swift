import Foundation
import DogeKernels

/// `DogeMLP`: down_proj(act(gate_proj(h)) ⊙ up_proj(h)).
public struct MLP: Sendable {
    public var gateProj, upProj, downProj: Linear
    public let activation: Activation

    public init(gateProj: Linear, upProj: Linear, downProj: Linear, activation: Activation) {
        self.gateProj = gateProj; self.upProj = upProj; self.downProj = downProj
        self.activation = activation
    }

    /// h: [N, hidden] → [N, hidden].
    public func callAsFunction(_ h: Tensor, backend: ComputeBackend = .shared) -> Tensor {
        let gate = gateProj(h, backend: backend)
        var up = upProj(h, backend: backend)
        if activation == .silu {
            let width = up.shape[1]
            gate.data.withUnsafeBufferPointer { g in
                up.data.withUnsafeMutableBufferPointer { u in
                    let (g, u) = (g.baseAddress!, u.baseAddress!)
                    backend.pool.parallelRows(up.shape[0], minimumPerPart: 32) { r in
                        let start = r.lowerBound * width
                        VectorOps.siluMul(g + start, u + start, count: r.count * width, out: u + start)
                    }
                }
            }
        } else {
            for i in 0..<up.count { up.data[i] *= activation(gate.data[i]) }
        }
        return downProj(up, backend: backend)
    }
}

/// How CDMoE splits a token's router output into its two product-key score vectors.
public enum RouterSplit: String, Sendable, CaseIterable {
    /// transformers' `router_logits.view(2, N, K)`: reinterprets the [N, 2K] buffer, so with
    /// N > 1 a token's scores come from other tokens' router outputs. Exact parity with transformers.
    case transformersView = "view"
    /// The first K and last K values of the token's own router output (causal; equal to the
    /// default for one token at a time).
    case perToken = "per-token"
}

/// Cross Domain Mixture of Experts: the dense MLP plus product-key routed experts
/// (doge-architecture.md, "CDMoE").
public struct CDMoE: Sendable {
    public var shared: MLP
    public var routerGate: Linear          // [2K, hidden], no bias
    public var downEmbed: Tensor           // [num_experts, hidden]
    public var upEmbed: Tensor             // [num_experts, hidden]
    public let numKeys: Int
    public let topK: Int
    public let normTopkProb: Bool
    public var routerSplit: RouterSplit = .transformersView

    public init(shared: MLP, routerGate: Linear, downEmbed: Tensor, upEmbed: Tensor, config: DogeConfiguration) {
        self.shared = shared; self.routerGate = routerGate
        self.downEmbed = downEmbed; self.upEmbed = upEmbed
        numKeys = config.numKeys
        topK = config.numExpertsPerTok
        normTopkProb = config.normTopkProb
    }

    /// The experts and routing weights chosen for each of N tokens.
    public struct Routing: Sendable {
        public var experts: [[Int]]     // [N][topK]
        public var weights: [[Float]]   // [N][topK]
        public var routerLogits: Tensor // [N, 2K]
    }

    public func route(_ h: Tensor, backend: ComputeBackend = .shared) -> Routing {
        let n = h.count / routerGate.inFeatures
        let logits = routerGate(h, backend: backend)           // [N, 2K] flat
        let K = numKeys
        var experts: [[Int]] = [], weights: [[Float]] = []
        experts.reserveCapacity(n); weights.reserveCapacity(n)
        for t in 0..<n {
            let xStart: Int, yStart: Int
            switch routerSplit {
            case .transformersView: xStart = t * K; yStart = (n + t) * K
            case .perToken: xStart = t * 2 * K; yStart = t * 2 * K + K
            }
            let (sx, ix) = sortedDescending(logits.data[xStart..<(xStart + K)])
            let (sy, iy) = sortedDescending(logits.data[yStart..<(yStart + K)])
            // Candidates a·K + b with score sx[a] + sy[b]; the best topK of them, like torch.topk.
            var candidates: [(score: Float, position: Int)] = []
            candidates.reserveCapacity(K * K)
            for a in 0..<K { for b in 0..<K { candidates.append((sx[a] + sy[b], a * K + b)) } }
            let best = candidates.sorted { $0.score != $1.score ? $0.score > $1.score : $0.position < $1.position }.prefix(topK)
            let scores = best.map(\.score)
            let maxScore = scores.max() ?? 0
            var w = scores.map { expf($0 - maxScore) }
            let total = w.reduce(0, +)
            w = w.map { $0 / total }
            if normTopkProb {
                let s = w.reduce(0, +)
                w = w.map { $0 / s }
            }
            experts.append(best.map { ix[$0.position / K] * K + iy[$0.position % K] })
            weights.append(w)
        }
        return Routing(experts: experts, weights: weights, routerLogits: logits)
    }

    /// h: [N, hidden] → [N, hidden].
    public func callAsFunction(_ h: Tensor, backend: ComputeBackend = .shared) -> Tensor {
        var out = shared(h, backend: backend)
        let hidden = routerGate.inFeatures
        let routing = route(h, backend: backend)
        let activation = shared.activation
        h.data.withUnsafeBufferPointer { hp in
            downEmbed.data.withUnsafeBufferPointer { dp in
                upEmbed.data.withUnsafeBufferPointer { up in
                    out.data.withUnsafeMutableBufferPointer { op in
                        for t in 0..<routing.experts.count {
                            let x = hp.baseAddress! + t * hidden
                            for (e, w) in zip(routing.experts[t], routing.weights[t]) {
                                let score = activation(dot(dp.baseAddress! + e * hidden, x, hidden)) * w
                                VectorOps.axpy(score, up.baseAddress! + e * hidden, into: op.baseAddress! + t * hidden, count: hidden)
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}

/// Values and their indices, largest first (torch.topk with k = count, sorted).
func sortedDescending(_ values: ArraySlice<Float>) -> ([Float], [Int]) {
    let base = values.startIndex
    let order = values.indices.sorted { values[$0] != values[$1] ? values[$0] > values[$1] : $0 < $1 }
    return (order.map { values[$0] }, order.map { $0 - base })
}
