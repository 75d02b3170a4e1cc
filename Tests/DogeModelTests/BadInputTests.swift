import Foundation
import Testing
@testable import DogeModel

/// Every kind of broken checkpoint gives a typed error that names the file, tensor or field.
@Suite struct BadInputTests {
    /// A copy of a good fixture that a test may break.
    func copyOfFixture(_ name: String = "dense_gqa") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("doge-bad-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: Fixtures.url(name), to: url)
        return url
    }

    func load(_ dir: URL) throws { _ = try DogeForCausalLM(directory: dir) }

    func safetensorsBytes(header: String, data: [UInt8] = []) -> Data {
        var d = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { d.append(contentsOf: $0) }
        d.append(contentsOf: Array(header.utf8))
        d.append(contentsOf: data)
        return d
    }

    func expectError(_ dir: URL, _ check: (ModelError) -> Bool, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try load(dir)
            Issue.record("loading succeeded but should have failed", sourceLocation: sourceLocation)
        } catch let error as ModelError {
            #expect(check(error), "unexpected error: \(error)", sourceLocation: sourceLocation)
            #expect(!error.description.isEmpty)
        } catch {
            Issue.record("not a ModelError: \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func truncatedSafetensors() throws {
        let dir = try copyOfFixture()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("model.safetensors")
        let data = try Data(contentsOf: file)
        try data.prefix(data.count - 100).write(to: file)
        expectError(dir) { if case .corruptSafetensors(let f, let p) = $0 { return f == "model.safetensors" && p.contains("truncated") }; return false }
    }

    @Test func headerLongerThanFile() throws {
        let dir = try copyOfFixture()
        defer { try? FileManager.default.removeItem(at: dir) }
        var d = Data(); withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { d.append(contentsOf: $0) }
        d.append(contentsOf: [0x7b, 0x7d])
        try d.write(to: dir.appendingPathComponent("model.safetensors"))
        expectError(dir) { if case .corruptSafetensors(_, let p) = $0 { return p.contains("header length") }; return false }
    }

    @Test func tinyFile() throws {
        let dir = try copyOfFixture()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data([1, 2, 3]).write(to: dir.appendingPathComponent("model.safetensors"))
        expectError(dir) { if case .corruptSafetensors = $0 { return true }; return false }
    }

    @Test func offsetsOutOfRangeOverlappingAndUnknownDtype() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("doge-st-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases: [(String, String)] = [
            (#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,64]}}"#, "past the end"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, "overlap"),
            (#"{"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}"#, "unknown dtype \"Q4\""),
            (#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, "needs 12 bytes"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, "begin ≤ end"),
            (#"{"a": [1, 2"#, "not valid JSON"),
        ]
        for (header, expected) in cases {
            try safetensorsBytes(header: header, data: Array(repeating: 0, count: 16)).write(to: dir)
            do {
                _ = try SafeTensorsFile(path: dir.path)
                Issue.record("accepted a corrupt header: \(header)")
            } catch let ModelError.corruptSafetensors(_, problem) {
                #expect(problem.contains(expected), "\(problem)")
            }
        }
    }

    @Test func missingUnexpectedAndMisShapedTensors() throws {
        let source = try SafeTensorsFile(path: Fixtures.url("dense_gqa").appendingPathComponent("model.safetensors").path)
        var tensors = try source.tensors.keys.map { ($0, try source.floatTensor($0)) }
        func write(_ t: [(String, Tensor)]) throws -> URL {
            let dir = try copyOfFixture()
            try SafeTensorsWriter.write(t, dtype: .f32, to: dir.appendingPathComponent("model.safetensors"))
            return dir
        }
        let missing = try write(tensors.filter { $0.0 != "model.layers.1.self_attn.A" })
        defer { try? FileManager.default.removeItem(at: missing) }
        expectError(missing) { $0 == .missingTensor(name: "model.layers.1.self_attn.A", file: "model.safetensors") }

        let extra = try write(tensors + [("model.layers.0.mlp.surprise", Tensor(zeros: [2]))])
        defer { try? FileManager.default.removeItem(at: extra) }
        expectError(extra) { $0 == .unexpectedTensor(name: "model.layers.0.mlp.surprise", file: "model.safetensors") }

        let i = tensors.firstIndex { $0.0 == "model.layers.0.mlp.up_proj.weight" }!
        tensors[i].1 = Tensor(zeros: [47, 32])
        let misShaped = try write(tensors)
        defer { try? FileManager.default.removeItem(at: misShaped) }
        expectError(misShaped) { $0 == .shapeMismatch(name: "model.layers.0.mlp.up_proj.weight", file: "model.safetensors", expected: [48, 32], found: [47, 32]) }
    }

    @Test func configNotJSON() throws {
        let dir = try copyOfFixture()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("{ \"hidden_size\": 32,".utf8).write(to: dir.appendingPathComponent("config.json"))
        expectError(dir) { if case .invalidJSON(let f, _) = $0 { return f == "config.json" }; return false }
    }

    @Test(arguments: [
        ("num_attention_heads", JSONValue.int(5), "do not divide hidden_size"),
        ("num_hidden_layers", .int(0), "positive"),
        ("num_key_value_heads", .int(3), "do not divide"),
        ("hidden_size", .string("big"), "expected an integer"),
        ("hidden_act", .string("swiglu9"), "unsupported activation"),
        ("rms_norm_eps", .double(-1), "positive"),
    ])
    func impossibleConfigValues(field: String, value: JSONValue, message: String) throws {
        let dir = try copyOfFixture()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("config.json")
        var json = try JSONValue.readObject(at: url)
        json[field] = value
        try JSONValue.encodeObject(json).write(to: url)
        expectError(dir) { if case .invalidConfig(let f, let got, let p) = $0 { return f == "config.json" && got == field && p.contains(message) }; return false }
    }

    @Test func unsupportedRopeTypeIsNamed() throws {
        #expect(throws: ModelError.self) {
            try DogeConfiguration(json: ["rope_parameters": .object(["rope_type": .string("longrope")])])
        }
    }

    @Test func directoryWithoutModel() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("doge-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        expectError(empty) { if case .noModel(_, let d) = $0 { return d.contains("config.json") }; return false }
        try FileManager.default.copyItem(at: Fixtures.url("dense_gqa").appendingPathComponent("config.json"), to: empty.appendingPathComponent("config.json"))
        expectError(empty) { if case .noModel(_, let d) = $0 { return d.contains("model.safetensors") }; return false }
        expectError(empty.appendingPathComponent("nope")) { if case .noModel = $0 { return true }; return false }
    }

    @Test func missingShard() throws {
        let dir = try copyOfFixture("sharded")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.removeItem(at: dir.appendingPathComponent("model-00002-of-00003.safetensors"))
        expectError(dir) { if case .noModel(_, let d) = $0 { return d.contains("model-00002-of-00003") }; return false }
    }

    @Test func badTokenIdsAndRaggedBatches() throws {
        let model = try DogeForCausalLM(directory: Fixtures.url("dense_gqa"))
        #expect(throws: ModelError.self) { try model.logits(ids: [[1, 96]]) }
        #expect(throws: ModelError.self) { try model.logits(ids: [[1, 2], [3]]) }
        #expect(throws: ModelError.self) { try model.logits(ids: [[]]) }
        #expect(throws: ModelError.self) { try model.logits(ids: [[1, 2]], attentionMask: [[1]]) }
    }
}
