import Foundation
import Testing
import DogeModel

/// Swift gradients against PyTorch autograd for every parameter (fixtures from
/// scripts/training_fixtures/make_grad_fixtures.py). Relative error per tensor is
/// max|Δ| / max|reference|; the bound is 1e-4.
@Suite struct GradientParityTests {
    @Test(arguments: ["dense", "moe", "moe_norm"])
    func gradientsMatchPyTorch(_ name: String) throws {
        let dir = Fixtures.url("grad_\(name)")
        let model = try DogeForCausalLM(directory: dir)
        let batch = try Fixtures.json(dir.appendingPathComponent("batch.json"))
        let ids = batch["input_ids"] as! [[Int]], labels = batch["labels"] as! [[Int]]
        let grads = model.zeroGradients()
        let count = DogeForCausalLM.countedTokens(labels: labels)
        let coef = model.config.outputRouterLogits ? Float(model.config.routerAuxLossCoef) : 0
        let result = try model.accumulateGradients(ids: ids, labels: labels, lossScale: 1 / Float(count), auxLossScale: coef, into: grads)
        var loss = result.lossSum / Double(count)
        if let aux = result.auxLoss { loss += Double(coef) * aux }
        let expected = batch["loss"] as! Double
        #expect(abs(loss - expected) / abs(expected) < 1e-5, "loss \(loss) vs \(expected)")
        if let aux = batch["aux_loss"] as? Double {
            #expect(abs(result.auxLoss! - aux) / aux < 1e-5, "aux \(result.auxLoss!) vs \(aux)")
        }
        let reference = try SafeTensorsFile(path: dir.appendingPathComponent("grads.safetensors").path)
        let mine = grads.namedParameters()
        #expect(Set(mine.keys) == Set(reference.tensors.keys))
        var worst = (0.0, "")
        for key in reference.tensors.keys.sorted() {
            let ref = try reference.floatTensor(key)
            guard let got = mine[key] else { continue }
            let err = relativeError(got.data, ref.data)
            if err > worst.0 { worst = (err, key) }
            #expect(err <= 1e-4, "\(name): \(key) relative error \(err)")
        }
        print("gradient parity \(name): worst relative error \(worst.0) (\(worst.1)) over \(reference.tensors.count) tensors")
    }
}
