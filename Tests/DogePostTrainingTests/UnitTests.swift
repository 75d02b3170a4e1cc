import XCTest
import DogeModel
@testable import DogePostTraining

final class PostTrainingUnitTests: XCTestCase {
    /// TRL's docstring example of `pack_dataset(strategy="bfd")`, seq_length 4.
    func testBFDMatchesTRLDocstring() {
        let bins = SFTData.packBFD(lengths: [5, 2, 3, 1], capacity: 4)
        XCTAssertEqual(bins, [[0], [2, 3], [1]])
    }

    func testBFDPrefersTightestBinAndOldestFirst() {
        // 6 → bin0 (space 4); 5 → bin1 (5); 4 → bin0 (exact fit 4, tighter than 5); 3 → bin1 (space 5, leaves 2); 2 → bin1.
        XCTAssertEqual(SFTData.packBFD(lengths: [3, 6, 2, 5, 4], capacity: 10), [[1, 4], [3, 0, 2]])
    }

    func tinyDense() -> DogeForCausalLM {
        var c = DogeConfiguration()
        c.vocabSize = 50; c.hiddenSize = 16; c.intermediateSize = 24; c.numHiddenLayers = 2
        c.numAttentionHeads = 2; c.numKeyValueHeads = 1; c.maxPositionEmbeddings = 64
        return DogeForCausalLM(config: c, layout: .native, seed: 3)
    }

    /// --zero-init: the upcycled CDMoE model computes the dense model's logits (≤ 1e-6).
    func testZeroInitUpcycleKeepsLogits() throws {
        let dense = tinyDense()
        let moe = try Upcycle.moe(from: dense, experts: 16, perToken: 4, zeroInit: true)
        XCTAssertTrue(moe.config.isMoE)
        let ids = [[1, 7, 3, 9, 12, 40, 2, 5]]
        let a = try dense.logits(ids: ids), b = try moe.logits(ids: ids)
        var worst: Float = 0
        for i in 0..<a.count { worst = max(worst, abs(a.data[i] - b.data[i])) }
        XCTAssertLessThanOrEqual(worst, 1e-6)
        // Without zero-init the routed term moves the logits.
        let random = try Upcycle.moe(from: dense, experts: 16, perToken: 4, zeroInit: false)
        let c = try random.logits(ids: ids)
        var moved: Float = 0
        for i in 0..<a.count { moved = max(moved, abs(a.data[i] - c.data[i])) }
        XCTAssertGreaterThan(moved, 1e-6)
        XCTAssertThrowsError(try Upcycle.moe(from: dense, experts: 15, perToken: 4, zeroInit: true))
    }

    /// The general objective pass with L = −Σ logp·s equals the causal-LM gradient path.
    func testTokenObjectiveMatchesCrossEntropyGradient() throws {
        let model = tinyDense()
        let ids = [[1, 7, 3, 9, 12, 40], [2, 5, 8, 11, 30, 31]]
        let labels = [[-100, 7, 3, 9, -100, 40], [-100, -100, 8, 11, 30, 31]]
        let counted = DogeForCausalLM.countedTokens(labels: labels)
        let g1 = model.zeroGradients(), g2 = model.zeroGradients()
        let r = try model.accumulateGradients(ids: ids, labels: labels, lossScale: 1 / Float(counted), into: g1)
        var sum = 0.0
        _ = try model.accumulateTokenObjective(ids: ids, labels: labels, into: g2) { s in
            for b in 0..<2 { for t in 0..<6 where s.counted[b][t] { sum -= Double(s.logProbs[b][t]) } }
            return s.counted.map { $0.map { $0 ? -1 / Float(counted) : 0 } }
        }
        XCTAssertEqual(sum, r.lossSum, accuracy: 1e-4 * abs(r.lossSum))
        let a = g1.namedParameters(), b = g2.namedParameters()
        for (name, t) in a {
            var worst: Float = 0, scale: Float = 0
            for i in 0..<t.count { worst = max(worst, abs(t.data[i] - b[name]!.data[i])); scale = max(scale, abs(t.data[i])) }
            XCTAssertLessThanOrEqual(worst, 1e-5 * max(scale, 1e-3), name)
        }
    }
}
