import Foundation
import Testing
import DogeKernels
@testable import DogeModel

/// Logits equal to transformers' DogeForCausalLM within 1e-4 on every committed fixture,
/// through the BLAS backend (when the machine has one) and the built-in kernels.
@Suite struct ParityTests {
    static let tolerance: Float = 1e-4

    @Test(arguments: Fixtures.parityCases, Array(Set([ComputeBackend.firstBLAS, ComputeBackend.builtin].map(\.name))).sorted())
    func logitsMatchTransformers(caseName: String, backendName: String) throws {
        let backend = backendName == ComputeBackend.builtin.name ? ComputeBackend.builtin : ComputeBackend.firstBLAS
        let reference = try Reference(caseName: caseName)
        let dir = Fixtures.url(caseName)
        let logits: Tensor
        if reference.head == "sequence_classification" {
            let model = try DogeForSequenceClassification(directory: dir)
            logits = try model.logits(ids: reference.inputIds, attentionMask: reference.attentionMask, backend: backend)
        } else {
            let model = try DogeForCausalLM(directory: dir)
            logits = try model.logits(ids: reference.inputIds, attentionMask: reference.attentionMask, backend: backend)
        }
        #expect(logits.shape == reference.logits.shape)
        let diff = maxAbsDifference(logits, reference.logits, rows: reference.compareRows)
        #expect(diff <= Self.tolerance, "\(caseName) [\(backendName)]: max |Δlogit| = \(diff)")
    }

    @Test func fixturesArePresent() {
        // A missing fixture directory must fail loudly, not turn the parity test into zero cases.
        #expect(Fixtures.parityCases.count >= 20, "found \(Fixtures.parityCases)")
    }
}
