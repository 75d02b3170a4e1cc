import Foundation
import Testing
import DogeKernels
@testable import DogeModel

@Suite struct TypedWeightsTests {
    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("doge-typed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Backends at every instruction-set level this CPU has, 1 and default threads.
    var backends: [(String, ComputeBackend)] {
        var list: [(String, ComputeBackend)] = []
        var isa = KernelISA.detected
        let one = ComputePool(threads: 1)
        while true {
            list.append(("builtin-\(isa.name)", ComputeBackend(choice: "builtin", isaLimit: isa)))
            list.append(("builtin-\(isa.name)-1T", ComputeBackend(choice: "builtin", pool: one, isaLimit: isa)))
            if isa == .portable { break }
            isa = KernelISA(rawValue: isa.rawValue - 1)!
        }
        return list
    }

    @Test func bf16CheckpointStays16BitWithTheSameLogits() throws {
        let reference = try Reference(caseName: "bf16_weights")
        let resident = try DogeForCausalLM(directory: Fixtures.url("bf16_weights"))
        let widened = try DogeForCausalLM(directory: Fixtures.url("bf16_weights"), loading: .float32)
        #expect(resident.weightStorage == "bf16")
        #expect(widened.weightStorage == "f32")
        #expect(resident.lmHead?.typed != nil && resident.model.embedTokens.count == 0)
        for (name, backend) in backends {
            // Prefill (GEMM) and single-token steps (GEMV) through the cache.
            let a = try resident.logits(ids: reference.inputIds, attentionMask: reference.attentionMask, backend: backend)
            let b = try widened.logits(ids: reference.inputIds, attentionMask: reference.attentionMask, backend: backend)
            #expect(a.data.map(\.bitPattern) == b.data.map(\.bitPattern), "\(name) prefill")
            let ca = resident.makeCache(), cb = widened.makeCache()
            for id in [3, 17, 5, 90] {
                let sa = try resident.logits(ids: [[id]], cache: ca, backend: backend)
                let sb = try widened.logits(ids: [[id]], cache: cb, backend: backend)
                #expect(sa.data.map(\.bitPattern) == sb.data.map(\.bitPattern), "\(name) decode \(id)")
            }
        }
    }

    @Test(arguments: [WeightStorage.q8_0, .q4_0])
    func quantizedCheckpointReloadsWithoutRequantizing(type: WeightStorage) throws {
        let reference = try Reference(caseName: "dense_gqa")
        let source = Fixtures.url("dense_gqa")
        let quantized = try DogeForCausalLM(directory: source, loading: WeightLoading(quantize: type))
        #expect(quantized.weightStorage.contains(type.rawValue))
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        try quantized.saveQuantized(to: out)
        let config = try JSONValue.readObject(at: out.appendingPathComponent("config.json"))
        guard case .object(let q)? = config["quantization_config"] else { Issue.record("no quantization_config"); return }
        #expect(q["weight_type"] == .string(type.rawValue) && q["block_size"] == .int(32))
        let file = try SafeTensorsFile(path: out.appendingPathComponent("model.safetensors").path)
        let w = file.tensors["model.layers.0.self_attn.q_proj.weight"]!
        #expect(w.dtype == (type == .q8_0 ? .I8 : .U8))
        #expect(file.tensors["model.layers.0.self_attn.q_proj.weight.scales"]?.dtype == .F16)

        let reloaded = try DogeForCausalLM(directory: out)
        #expect(reloaded.weightStorage == quantized.weightStorage)
        let a = try quantized.logits(ids: reference.inputIds, attentionMask: reference.attentionMask)
        let b = try reloaded.logits(ids: reference.inputIds, attentionMask: reference.attentionMask)
        #expect(a == b)
        // Near the float32 model. Measured on this random 32-wide fixture (one block per row, the
        // worst case for 4-bit): the worst logit moves by 1.3 % (q8_0) and 27 % (q4_0) of the
        // logit range. Quality on a trained model is measured by perplexity (README).
        let f = try DogeForCausalLM(directory: source).logits(ids: reference.inputIds, attentionMask: reference.attentionMask)
        let range = f.data.max()! - f.data.min()!
        let worst = zip(a.data, f.data).map { abs($0 - $1) }.max()!
        #expect(worst <= range * (type == .q8_0 ? 0.02 : 0.4), "worst \(worst) of range \(range)")
        // Training loads dequantize to float32.
        let training = try DogeForCausalLM(directory: out, loading: .float32)
        #expect(training.weightStorage == "f32")
        #expect(throws: ModelError.self) {
            try reloaded.accumulateGradients(ids: [[1, 2, 3]], labels: [[1, 2, 3]], lossScale: 1, into: training.zeroGradients())
        }
    }

    /// Writes a copy of `dense_gqa` quantized as q8_0 and lets `edit` change its tensors.
    func brokenCheckpoint(_ edit: (inout [RawTensor], inout [String: JSONValue]) -> Void) throws -> URL {
        let out = try temporaryDirectory()
        let model = try DogeForCausalLM(directory: Fixtures.url("dense_gqa"), loading: WeightLoading(quantize: .q8_0))
        try model.saveQuantized(to: out)
        let file = try SafeTensorsFile(path: out.appendingPathComponent("model.safetensors").path)
        var tensors = file.tensors.map { name, info in
            RawTensor(name: name, dtype: info.dtype, shape: info.shape, bytes: Data(file.bytes(of: name)!))
        }
        var config = try JSONValue.readObject(at: out.appendingPathComponent("config.json"))
        edit(&tensors, &config)
        try SafeTensorsWriter.write(raw: tensors, to: out.appendingPathComponent("model.safetensors"))
        try AtomicFile.write(JSONValue.encodeObject(config), to: out.appendingPathComponent("config.json"))
        return out
    }

    func loadError(_ dir: URL, loading: WeightLoading = .inference) -> String {
        defer { try? FileManager.default.removeItem(at: dir) }
        do { _ = try DogeForCausalLM(directory: dir, loading: loading); return "loaded" } catch { return "\(error)" }
    }

    @Test func badQuantizedCheckpointsGiveClearErrors() throws {
        let key = "model.layers.1.mlp.up_proj.weight"
        // Scales for a different block count.
        var message = loadError(try brokenCheckpoint { t, _ in
            let i = t.firstIndex { $0.name == key + ".scales" }!
            t[i].shape = [t[i].shape[0] * 2, t[i].shape[1] / 2]
        })
        #expect(message.contains(key) && message.contains("scales") && message.contains("F16"), "\(message)")
        // Values whose shape does not match the config.
        message = loadError(try brokenCheckpoint { t, _ in
            let i = t.firstIndex { $0.name == key }!
            t[i].shape = [t[i].shape[1], t[i].shape[0]]
        })
        #expect(message.contains(key) && message.contains("I8"), "\(message)")
        // Missing scales.
        message = loadError(try brokenCheckpoint { t, _ in t.removeAll { $0.name == key + ".scales" } })
        #expect(message.contains("\(key).scales") && message.contains("missing"), "\(message)")
        // A value q8_0 never writes.
        message = loadError(try brokenCheckpoint { t, _ in
            let i = t.firstIndex { $0.name == key }!
            t[i].bytes[5] = 0x80
        })
        #expect(message.contains("-128") && message.contains(key), "\(message)")
        // Unknown type and unknown method in config.json.
        message = loadError(try brokenCheckpoint { _, c in
            c["quantization_config"] = .object(["quant_method": .string("swift-doge"), "weight_type": .string("q5_k")])
        })
        #expect(message.contains("q5_k") && message.contains("q8_0, q4_0"), "\(message)")
        message = loadError(try brokenCheckpoint { _, c in
            c["quantization_config"] = .object(["quant_method": .string("gptq"), "bits": .int(4)])
        })
        #expect(message.contains("gptq"), "\(message)")
        // --quantize on a checkpoint that is already quantized.
        message = loadError(try brokenCheckpoint { _, _ in }, loading: WeightLoading(quantize: .q4_0))
        #expect(message.contains("already quantized") && message.contains("q8_0"), "\(message)")
    }

    @Test func holdingMatricesAsBF16MatchesAWidenedCopy() throws {
        var config = DogeConfiguration()
        (config.vocabSize, config.hiddenSize, config.intermediateSize, config.numHiddenLayers) = (128, 64, 96, 2)
        (config.numAttentionHeads, config.numKeyValueHeads, config.tieWordEmbeddings) = (4, 2, true)
        let random = DogeForCausalLM(config: config, seed: 5)
        let bf16 = random.holdingMatrices(as: .bf16)
        #expect(bf16.weightStorage == "bf16")
        let widened = DogeForCausalLM(config: config, layout: .native, weights: bf16.namedParameters())
        let ids = [[1, 9, 33, 100, 7]]
        #expect(try bf16.logits(ids: ids).data.map(\.bitPattern) == widened.logits(ids: ids).data.map(\.bitPattern))
    }
}
