import ArgumentParser
import Foundation
import DogeKernels
import DogeModel

struct LogitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logits",
        abstract: "Write the float32 logits of a token sequence as a NumPy .npy file.",
        discussion: """
            The inspection tool for comparing implementations: runs one forward pass of the model \
            over the given token ids and writes the logits, shape [tokens, vocab], as float32 .npy \
            that numpy.load reads. Compare with transformers:

              doge logits --model Models/doge-tiny --ids "0,1663,318,808,262,659" --output ours.npy
              python3 -c "import numpy, torch, transformers as t; \
            m = t.AutoModelForCausalLM.from_pretrained('Models/doge-tiny', dtype=torch.float32); \
            ref = m(torch.tensor([[0,1663,318,808,262,659]])).logits[0].detach().numpy(); \
            print(abs(numpy.load('ours.npy') - ref).max())"
            """
    )

    @Option(name: .long, help: "Model directory in Hugging Face layout (config.json + model.safetensors), or Hub name OWNER/NAME from the Hugging Face cache.")
    var model: String

    @Option(name: .long, help: "Branch, tag or commit of a Hub name given to --model (default: main).")
    var revision: String?

    @Option(name: .long, help: "Comma-separated token ids, e.g. \"1,2,3\".")
    var ids: String

    @Option(name: .long, help: "Where to write the .npy file.")
    var output: String

    @Option(name: .long, help: "CDMoE routing: 'view' (transformers' exact behaviour, the default) or 'per-token'.")
    var router: String = RouterSplit.transformersView.rawValue

    @OptionGroup var weights: WeightOptions

    func validate() throws {
        _ = try parseIds(ids)
        guard RouterSplit(rawValue: router) != nil else {
            throw ValidationError("--router must be one of: \(RouterSplit.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let tokenIds = try parseIds(ids)
        let split = RouterSplit(rawValue: router)!
        let lm = try DogeForCausalLM(directory: ModelLocator.resolve(model, revision: revision), loading: weights.loading())
        lm.model.routerSplit = split
        let logits = try lm.logits(ids: [tokenIds])
        try NumpyFile.write(logits.reshaped([tokenIds.count, lm.config.vocabSize]), to: URL(fileURLWithPath: output))
        FileHandle.standardError.write(Data("wrote logits [\(tokenIds.count), \(lm.config.vocabSize)] to \(output)\n".utf8))
    }
}

/// "1, 2,3" → [1, 2, 3], with an error that points at the bad item.
func parseIds(_ text: String) throws -> [Int] {
    let items = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    guard !(items.count == 1 && items[0].isEmpty) else { throw ValidationError("--ids is empty: give comma-separated token ids such as \"1,2,3\"") }
    return try items.enumerated().map { index, item in
        guard let id = Int(item), id >= 0 else {
            throw ValidationError("--ids item \(index + 1) (\"\(item)\") is not a non-negative integer")
        }
        return id
    }
}
