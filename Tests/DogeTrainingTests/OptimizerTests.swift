import Foundation
import Testing
import DogeModel
@testable import DogeTraining

/// Schedules, AdamW, clipping and decay names against transformers / torch
/// (scripts/training_fixtures/make_optimizer_fixtures.py).
@Suite struct OptimizerTests {
    nonisolated(unsafe) static let fixture = try! Fixtures.json(Fixtures.url("optimizer.json"))

    @Test func schedulesMatchTransformers() throws {
        for case let s as [String: Any] in Self.fixture["schedules"] as! [Any] {
            var values: [String: Any] = ["model_name_or_path": "x", "datasets_and_ratios": [["d": 1.0]], "learning_rate": 1.0,
                                         "lr_scheduler_type": s["type"]!, "warmup_steps": s["warmup"]!, "max_steps": s["total"]!]
            values["lr_scheduler_kwargs"] = s["kwargs"]!
            let options = try TrainingOptions.from(values)
            let schedule = try options.schedule(totalSteps: s["total"] as! Int)
            for (step, expected) in (s["lr"] as! [Double]).enumerated() {
                let got = schedule.factor(step: step)
                #expect(abs(got - expected) < 1e-12, "\(s["type"]!) \(s["kwargs"]!) step \(step): \(got) vs \(expected)")
            }
        }
    }

    @Test func adamwMatchesTorch() {
        let f = Self.fixture["adamw"] as! [String: Any]
        var opt = AdamW(beta1: f["beta1"] as! Double, beta2: f["beta2"] as! Double, epsilon: f["eps"] as! Double,
                        weightDecay: f["weight_decay"] as! Double)
        var p = Tensor(shape: [37], data: (f["start"] as! [Double]).map(Float.init))
        for (g, expected) in zip(f["grads"] as! [[Double]], f["values"] as! [[Double]]) {
            opt.step += 1
            opt.apply(name: "p", parameter: &p, gradient: Tensor(shape: [37], data: g.map(Float.init)),
                      learningRate: f["lr"] as! Double, decays: true)
            #expect(relativeError(p.data, expected.map(Float.init)) < 1e-6)
        }
    }

    @Test func clippingMatchesTorch() {
        let f = Self.fixture["clip"] as! [String: Any]
        var grads = ["a": Tensor(shape: [50], data: (f["a"] as! [Double]).map(Float.init)),
                     "b": Tensor(shape: [7], data: (f["b"] as! [Double]).map(Float.init))]
        let norm = clipGradientNorm(&grads, maxNorm: f["max_norm"] as! Double)
        #expect(abs(norm - (f["norm"] as! Double)) / norm < 1e-6)
        #expect(relativeError(grads["a"]!.data, (f["a_after"] as! [Double]).map(Float.init)) < 1e-6)
        #expect(relativeError(grads["b"]!.data, (f["b_after"] as! [Double]).map(Float.init)) < 1e-6)
    }

    @Test(arguments: ["dense", "moe"])
    func decayNamesMatchTrainer(_ name: String) {
        let f = (Self.fixture["decay"] as! [String: Any])[name] as! [String: Any]
        let all = f["all"] as! [String], decayed = Set(f["decayed"] as! [String])
        for n in all { #expect(AdamW.decayed(n) == decayed.contains(n), "\(n)") }
        #expect(AdamW.decayed("model.layers.0.input_residual") && AdamW.decayed("model.layers.0.self_attn.A"))
    }
}
