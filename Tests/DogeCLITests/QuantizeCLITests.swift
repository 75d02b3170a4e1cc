import Foundation
import Testing

/// `doge quantize` and `--quantize` as a user runs them.
@Suite struct QuantizeCLITests {
    @Test func quantizeWritesACheckpointThatGeneratesAndRefusesToRequantize() throws {
        let dir = try DogeBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("q8")
        let made = try DogeBinary.run(["quantize", "--model", "Models/doge-tiny", "--type", "q8_0", "--output", out.path])
        #expect(made.status == 0, "\(made.err)")
        for file in ["config.json", "model.safetensors", "tokenizer.json", "generation_config.json"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "\(file)")
        }
        // No temporary directory is left beside the output.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["q8"])
        let quantized = try DogeBinary.run(["generate", "--model", out.path, "--ids", "0,5,9", "--max-new-tokens", "4", "--greedy", "--json"])
        let atLoad = try DogeBinary.run(["generate", "--ids", "0,5,9", "--max-new-tokens", "4", "--greedy", "--json", "--quantize", "q8_0"])
        #expect(quantized.status == 0 && atLoad.status == 0, "\(quantized.err) \(atLoad.err)")
        #expect(quantized.out == atLoad.out)   // the saved checkpoint is exactly what quantizing at load gives

        // Run-time errors: one line, exit 1.
        let again = try DogeBinary.run(["generate", "--model", out.path, "--ids", "0,5", "--quantize", "q4_0"])
        #expect(again.status == 1 && again.err.contains("already quantized") && again.err.contains("q8_0"), "\(again.err)")
        let exists = try DogeBinary.run(["quantize", "--model", "Models/doge-tiny", "--type", "q4_0", "--output", out.path])
        #expect(exists.status == 1 && exists.err.contains("already exists"), "\(exists.err)")
    }

    /// Usage errors: exit 64 with the subcommand's usage.
    @Test(arguments: [
        (["quantize", "--model", "Models/doge-tiny", "--type", "q5_k", "--output", "/tmp/x"], "q5_k"),
        (["generate", "--quantize", "int3", "Hi"], "int3"),
        (["logits", "--model", "x", "--ids", "1", "--output", "y.npy", "--quantize", "f32"], "f32"),
        (["bench", "doge-20m", "decode", "--dtype", "q8_0"], "--dtype"),
        (["bench", "doge-20m", "train", "--quantize", "q8_0"], "train runs in float32"),
    ])
    func badTypesAreUsageErrors(arguments: [String], mention: String) throws {
        let r = try DogeBinary.run(arguments)
        #expect(r.status == 64, "\(arguments): \(r.err)")
        #expect(r.err.contains(mention) && r.err.contains("Usage: doge \(arguments[0])"), "\(r.err)")
    }
}
