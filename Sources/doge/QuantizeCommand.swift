import ArgumentParser
import Foundation
import DogeKernels
import DogeModel

struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Write a q8_0 or q4_0 copy of a checkpoint that loads without re-quantizing.",
        discussion: """
            Matrices (Linear weights and the token embeddings) become blocks of 32 values with one \
            F16 scale, as llama.cpp's Q8_0 / Q4_0; norms and residual scales stay float32. \
            config.json records the type (quantization_config) and every command that runs a model \
            loads the result directly. The layout on disk is described in the README ("Quantized \
            checkpoints"). The output is written into a temporary directory and renamed into place; \
            tokenizer and generation files are copied along.

              doge quantize --model Models/doge-tiny --type q8_0 --output /tmp/doge-tiny-q8_0
              doge generate --model /tmp/doge-tiny-q8_0 "Once upon a time"
            """
    )

    @Option(name: .long, help: "Source model directory (F32, BF16 or F16 weights), or Hub name OWNER/NAME from the Hugging Face cache.")
    var model: String

    @Option(name: .long, help: "Branch, tag or commit of a Hub name given to --model (default: main).")
    var revision: String?

    @Option(name: .long, help: "Quantized type: q8_0 or q4_0.")
    var type: String

    @Option(name: .long, help: "Destination directory; must not exist yet (or be empty).")
    var output: String

    func validate() throws {
        guard let t = WeightStorage(rawValue: type.lowercased()), t.isQuantized else {
            throw ValidationError("--type \"\(type)\" is not a quantized type; use one of: \(WeightStorage.quantized.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let storage = WeightStorage(rawValue: type.lowercased())!
        let source = try ModelLocator.resolve(model, revision: revision).standardizedFileURL
        let destination = URL(fileURLWithPath: output).standardizedFileURL
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: destination.path, isDirectory: &isDirectory) {
            let empty = isDirectory.boolValue && ((try? fm.contentsOfDirectory(atPath: destination.path))?.isEmpty ?? false)
            guard empty else { throw RunError("\(output) already exists; choose a new --output directory") }
        }
        let lm = try DogeForCausalLM(directory: source, loading: WeightLoading(quantize: storage))
        // Everything goes into a sibling temporary directory first, renamed into place at the end.
        let staging = destination.deletingLastPathComponent()
            .appendingPathComponent(".\(destination.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        try? fm.removeItem(at: staging)
        do {
            try fm.createDirectory(at: staging, withIntermediateDirectories: true)
            try lm.saveQuantized(to: staging)
            for file in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json", "chat_template.jinja"] {
                let from = source.appendingPathComponent(file)
                if fm.fileExists(atPath: from.path) { try fm.copyItem(at: from, to: staging.appendingPathComponent(file)) }
            }
            if fm.fileExists(atPath: destination.path) { try fm.removeItem(at: destination) }  // empty, checked above
            try fm.moveItem(at: staging, to: destination)
        } catch {
            try? fm.removeItem(at: staging)
            throw error
        }
        let bytes = (try? fm.attributesOfItem(atPath: destination.appendingPathComponent("model.safetensors").path)[.size] as? Int) ?? 0
        FileHandle.standardError.write(Data("wrote \(storage.rawValue) checkpoint (\(String(format: "%.1f", Double(bytes) / 1e6)) MB) to \(output)\n".utf8))
    }
}
