import Foundation
import Testing
import DogeKernels
@testable import DogeModel

@Suite struct CheckpointTests {
    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("doge-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test(arguments: ["dense_gqa", "remote_code_layout", "cdmoe", "sharded", "biases"])
    func saveAndReloadGivesSameLogits(caseName: String) throws {
        let reference = try Reference(caseName: caseName)
        let model = try DogeForCausalLM(directory: Fixtures.url(caseName))
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        try model.save(to: out)
        let reloaded = try DogeForCausalLM(directory: out)
        #expect(reloaded.layout == model.layout)
        #expect(reloaded.config.jsonObject()["rope_parameters"] == model.config.jsonObject()["rope_parameters"])
        let a = try model.logits(ids: reference.inputIds, attentionMask: reference.attentionMask)
        let b = try reloaded.logits(ids: reference.inputIds, attentionMask: reference.attentionMask)
        #expect(a == b)
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent(".model.safetensors.tmp-\(getpid())").path))
    }

    @Test func bf16SaveRoundsToNearestEven() throws {
        let model = try DogeForCausalLM(directory: Fixtures.url("bf16_weights"))
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        try model.save(to: out, dtype: .bf16)
        let file = try SafeTensorsFile(path: out.appendingPathComponent("model.safetensors").path)
        #expect(file.tensors.values.allSatisfy { $0.dtype == .BF16 })
        // Weights that were bf16 on disk survive a bf16 save exactly.
        let reloaded = try DogeForCausalLM(directory: out)
        #expect(reloaded.namedParameters() == model.namedParameters())
        #expect(BFloat16.fromFloat(1.00390625) == 0x3f80)      // tie → even
        #expect(BFloat16.fromFloat(1.01171875) == 0x3f82)      // tie → even (up)
        #expect(BFloat16.fromFloat(-2.5) == 0xc020)
    }

    @Test func configReadsBothRopeSpellingsAndEosForms() throws {
        let a = try DogeConfiguration(json: ["rope_theta": .double(500), "rope_scaling": .object(["type": .string("dynamic"), "factor": .double(4), "original_max_position_embeddings": .int(2048)]), "eos_token_id": .array([.int(1), .int(2)]), "some_future_key": .string("ignored")])
        #expect(a.rope.kind == .dynamic && a.rope.theta == 500 && a.rope.factor == 4 && a.eosTokenIds == [1, 2])
        let b = try DogeConfiguration(json: ["rope_parameters": .object(["rope_type": .string("linear"), "rope_theta": .int(1000), "factor": .int(2)]), "eos_token_id": .int(7)])
        #expect(b.rope.kind == .linear && b.rope.theta == 1000 && b.rope.factor == 2 && b.eosTokenIds == [7])
        let c = try DogeConfiguration(json: [:])
        #expect(c.rope.kind == .default && c.rope.theta == 10_000 && c.numKeyValueHeads == c.numAttentionHeads)
    }

    @Test func configJSONKeepsFloatsFloats() throws {
        // transformers' strict config classes reject `0` where a float belongs.
        let object: [String: JSONValue] = ["attention_dropout": .double(0), "rms_norm_eps": .double(1e-6), "n": .int(3),
                                           "s": .string("a\"b\\c\n\u{1}é"), "list": .array([.double(2.5), .null, .bool(true)])]
        let text = String(decoding: try JSONValue.encodeObject(object), as: UTF8.self)
        #expect(text.contains("\"attention_dropout\": 0.0"))
        #expect(text.contains("\"rms_norm_eps\": 1e-06"))
        #expect(text.contains("\"n\": 3"))
        #expect(try JSONParser.parse(Array(text.utf8)) == .object(object))
        #expect(try JSONParser.parse(Array(#"{"a": 1.0, "b": 1, "c": -2e-3, "d": "\u00e9\ud83d\ude00"}"#.utf8))
                == .object(["a": .double(1), "b": .int(1), "c": .double(-0.002), "d": .string("é😀")]))
    }

    @Test func npyHeaderIsWhatNumpyExpects() {
        let data = NumpyFile.encode(Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6]))
        #expect(Array(data.prefix(8)) == [0x93] + Array("NUMPY".utf8) + [1, 0])
        let headerLength = Int(data[8]) | Int(data[9]) << 8
        #expect((10 + headerLength) % 64 == 0)
        let header = String(decoding: data[10..<(10 + headerLength)], as: UTF8.self)
        #expect(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"))
        #expect(header.hasSuffix("\n"))
        #expect(data.count == 10 + headerLength + 24)
    }

    @Test func routerSplitAndKeepWindowAreExercisedByTheFixtures() throws {
        // Guards the fixtures themselves: if these options made no difference, the parity tests
        // could not catch a mistake in them.
        let reference = try Reference(caseName: "cdmoe")
        let moe = try DogeForCausalLM(directory: Fixtures.url("cdmoe"))
        moe.model.routerSplit = .perToken
        #expect(maxAbsDifference(try moe.logits(ids: reference.inputIds), reference.logits) > 1e-2)

        let windowed = try Reference(caseName: "keep_window")
        var config = try DogeConfiguration.load(from: Fixtures.url("keep_window").appendingPathComponent("config.json"))
        config.keepWindowSize = 1000
        let store = try WeightStore(directory: Fixtures.url("keep_window"))
        let wide = DogeForCausalLM(config: config, layout: .native, weights: try store.load(config.parameterSpecs(layout: .native)))
        #expect(maxAbsDifference(try wide.logits(ids: windowed.inputIds), windowed.logits) > 1e-2)
    }
}
