import Foundation
import Testing
import DogeModel
@testable import DogeTraining

/// Central finite differences of the loss — computed by the inference forward
/// (DogeForCausalLM.logits, independent of the training code) with the cross entropy in Double —
/// against the analytic gradient, for entries of every parameter tensor of each layer kind:
/// embedding, RMSNorms, q/k norms, projections and biases, residuals, A, dt_proj, MLP, and
/// CDMoE's router, expert embeddings and shared MLP. keep_window_size < sequence length.
@Suite struct FiniteDifferenceTests {
    static func model(_ config: DogeConfiguration, layout: CheckpointLayout = .native) -> DogeForCausalLM {
        let m = DogeForCausalLM(config: config, layout: layout, seed: 9)
        var rng = SeededGenerator(seed: 21)
        m.forEachParameter { name, t in
            for i in 0..<t.count {
                let n = rng.nextGaussian()
                if name.hasSuffix(".A") { t.data[i] = 0.7 * n }
                else if name.contains("norm") || name.contains("residual") { t.data[i] = 1 + 0.3 * n }
                else if name.hasSuffix("bias") { t.data[i] = 0.1 * n }
                else { t.data[i] = 0.3 * n }
            }
        }
        return m
    }

    static func loss(_ m: DogeForCausalLM, ids: [[Int]]) throws -> Double {
        let logits = try m.logits(ids: ids)
        let V = m.config.vocabSize, T = ids[0].count
        var sum = 0.0, n = 0
        for (b, row) in ids.enumerated() {
            for t in 0..<(T - 1) {
                let base = (b * T + t) * V
                let values = (0..<V).map { Double(logits.data[base + $0]) }
                let mx = values.max()!
                sum += log(values.reduce(0) { $0 + exp($1 - mx) }) + mx - values[row[t + 1]]
                n += 1
            }
        }
        return sum / Double(n)
    }

    /// (moe, small-doge remote-code layout: no q/k norm, one dt per attention head)
    @Test(arguments: [(false, false), (true, false), (false, true)])
    func analyticGradientsMatchFiniteDifferences(_ variant: (Bool, Bool)) throws {
        let (moe, remote) = variant
        let config = tinyConfig(moe: moe, tie: moe, bias: !moe)
        let m = Self.model(config, layout: remote ? .remoteCode : .native)
        // Non-repeating ids per row: no dt ties at the keep-window cutoff.
        let ids = [[3, 17, 9, 30, 1, 22, 14, 5, 38, 11], [7, 2, 25, 33, 19, 0, 12, 36, 28, 6]]
        let grads = m.zeroGradients()
        let count = DogeForCausalLM.countedTokens(labels: ids)
        _ = try m.accumulateGradients(ids: ids, labels: ids, lossScale: 1 / Float(count), into: grads)
        let analytic = grads.namedParameters()
        let h: Float = 2e-3
        var checked = 0, worst = 0.0
        for name in m.namedParameters().keys.sorted() {
            let g = analytic[name]!.data
            // The entry with the largest gradient, and one more.
            let top = g.indices.max { abs(g[$0]) < abs(g[$1]) }!
            for index in Set([top, g.count / 2]) {
                func perturbed(_ delta: Float) throws -> Double {
                    m.forEachParameter { n, t in if n == name { t.data[index] += delta } }
                    defer { m.forEachParameter { n, t in if n == name { t.data[index] -= delta } } }
                    return try Self.loss(m, ids: ids)
                }
                let fd = (try perturbed(h) - perturbed(-h)) / Double(2 * h)
                let err = abs(fd - Double(g[index]))
                let tolerance = 2e-3 + 0.03 * abs(fd)
                worst = max(worst, err / max(abs(fd), 1e-3))
                #expect(err <= tolerance, "\(name)[\(index)]: finite difference \(fd), analytic \(g[index])")
                checked += 1
            }
        }
        print("finite differences (\(moe ? "CDMoE" : "dense")\(remote ? ", remote-code layout" : "")): \(checked) entries, worst relative error \(worst)")
    }
}
