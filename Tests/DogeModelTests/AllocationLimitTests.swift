import Foundation
import Testing
@testable import DogeModel

/// Sizes declared by untrusted files (a safetensors header, config.json) are checked before the
/// program allocates anything for them (RELIABILITY.md, "Allocation limits").
@Suite struct AllocationLimitTests {
    func safetensorsFile(header: String, data: [UInt8] = []) throws -> String {
        var d = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { d.append(contentsOf: $0) }
        d.append(contentsOf: Array(header.utf8))
        d.append(contentsOf: data)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("doge-limit-\(UUID().uuidString).safetensors").path
        try d.write(to: URL(fileURLWithPath: path))
        return path
    }

    func expectCorrupt(_ header: String, mentioning needle: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let path = try safetensorsFile(header: header, data: [UInt8](repeating: 0, count: 16))
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try SafeTensorsFile(path: path)
            Issue.record("opened a file declaring \(header)", sourceLocation: sourceLocation)
        } catch let ModelError.corruptSafetensors(_, problem) {
            #expect(problem.contains(needle), "\(problem)", sourceLocation: sourceLocation)
        }
    }

    @Test func hugeShapesAreRefusedWithoutOverflow() throws {
        // 2^62 elements of 8 bytes: the byte count overflows Int (this trapped before).
        try expectCorrupt(#"{"w": {"dtype": "F64", "shape": [4611686018427387904], "data_offsets": [0, 16]}}"#, mentioning: "2^63")
        try expectCorrupt(#"{"w": {"dtype": "F32", "shape": [65536, 65536, 65536, 65536], "data_offsets": [0, 16]}}"#, mentioning: "2^63")
        try expectCorrupt(#"{"w": {"dtype": "F32", "shape": [1000000000], "data_offsets": [0, 16]}}"#, mentioning: "4000000000 bytes")
    }

    @Test func hugeOffsetsAreRefused() throws {
        try expectCorrupt(#"{"w": {"dtype": "F32", "shape": [4], "data_offsets": [9223372036854775791, 9223372036854775807]}}"#, mentioning: "truncated")
        try expectCorrupt(#"{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 1e300]}}"#, mentioning: "data_offsets")
    }

    @Test func headerLengthOverTheSafetensorsLimitIsRefused() throws {
        var d = Data()
        withUnsafeBytes(of: UInt64.max.littleEndian) { d.append(contentsOf: $0) }
        d.append(contentsOf: Array("{}".utf8))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("doge-limit-\(UUID().uuidString).safetensors").path
        try d.write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: ModelError.self) { _ = try SafeTensorsFile(path: path) }
    }

    @Test(arguments: [
        ("hidden_size", JSONValue.int(1 << 40)),
        ("vocab_size", .int(Int.max)),
        ("intermediate_size", .int(1 << 50)),
        ("num_hidden_layers", .int(1_000_000_000)),
        ("head_dim", .int(1 << 40)),
        ("num_labels", .int(1 << 40)),
    ])
    func absurdConfigSizesAreConfigErrors(_ c: (String, JSONValue)) throws {
        var json: [String: JSONValue] = ["hidden_size": .int(64), "num_attention_heads": .int(2), "num_key_value_heads": .int(2)]
        json[c.0] = c.1
        if c.0 == "hidden_size" { json["head_dim"] = .int(32) }
        do {
            _ = try DogeConfiguration(json: json)
            Issue.record("accepted \(c.0) = \(c.1)")
        } catch let ModelError.invalidConfig(_, field, problem) {
            #expect([c.0, "hidden_size"].contains(field), "\(field): \(problem)")
        }
    }

    @Test func parameterCountMatchesTheTensorList() throws {
        var config = try DogeConfiguration(json: ["hidden_size": .int(64), "intermediate_size": .int(96), "num_hidden_layers": .int(3),
            "num_attention_heads": .int(4), "num_key_value_heads": .int(2), "vocab_size": .int(100), "tie_word_embeddings": .bool(false)])
        let listed = config.parameterSpecs(layout: .native).reduce(0) { $0 + $1.shape.reduce(1, *) }
        #expect(config.parameterCount == listed)
        config.isMoE = true
        config.numExperts = 64
        #expect(config.parameterCount == config.parameterSpecs(layout: .native).reduce(0) { $0 + $1.shape.reduce(1, *) })
    }

    @Test func aNewModelLargerThanMemoryIsRefusedBeforeAllocating() throws {
        // ~2^38 parameters: valid as a config, far more than any test machine's memory at 16 bytes each.
        let config = try DogeConfiguration(json: ["hidden_size": .int(65536), "intermediate_size": .int(65536), "num_hidden_layers": .int(20),
            "num_attention_heads": .int(512), "num_key_value_heads": .int(512), "vocab_size": .int(32768)])
        #expect(throws: ModelError.self) { try config.checkFitsInMemory(bytesPerParameter: 16, what: "training a new model") }
        let small = try DogeConfiguration(json: ["hidden_size": .int(64), "num_attention_heads": .int(2), "num_key_value_heads": .int(2),
            "num_hidden_layers": .int(2), "intermediate_size": .int(128), "vocab_size": .int(256)])
        try small.checkFitsInMemory(bytesPerParameter: 16, what: "training a new model")
    }
}
