import ArgumentParser
import Foundation
import DogeModel

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Re-save a checkpoint (F32 or BF16) in the layout it was loaded in.",
        discussion: """
            Loads and validates every tensor, then writes config.json and one model.safetensors \
            that transformers loads unchanged (shards are merged). Tokenizer and generation files \
            are copied along.

              doge convert --model Models/doge-tiny --output doge-tiny-f32 --dtype f32
            """
    )

    @Option(name: .long, help: "Source model directory, or Hub name OWNER/NAME from the Hugging Face cache.")
    var model: String

    @Option(name: .long, help: "Branch, tag or commit of a Hub name given to --model (default: main).")
    var revision: String?

    @Option(name: .long, help: "Destination directory (created; must not hold a sharded checkpoint).")
    var output: String

    @Option(name: .long, help: "Weight type on disk: f32 or bf16.")
    var dtype: String = "f32"

    func validate() throws {
        guard WeightDType(rawValue: dtype.uppercased()) != nil else {
            throw ValidationError("--dtype must be f32 or bf16, not \"\(dtype)\"")
        }
    }

    func run() throws {
        let weightType = WeightDType(rawValue: dtype.uppercased())!
        let source = try ModelLocator.resolve(model, revision: revision), destination = URL(fileURLWithPath: output)
        let lm = try DogeForCausalLM(directory: source)
        try lm.save(to: destination, dtype: weightType)
        for file in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"] {
            let from = source.appendingPathComponent(file), to = destination.appendingPathComponent(file)
            guard FileManager.default.fileExists(atPath: from.path), from.standardizedFileURL != to.standardizedFileURL else { continue }
            // Read, then written under a temporary name and renamed: never a half-copied tokenizer.
            try AtomicFile.write(try Data(contentsOf: from), to: to)
        }
        FileHandle.standardError.write(Data("wrote \(lm.layout) checkpoint (\(weightType.rawValue)) to \(output)\n".utf8))
    }
}
