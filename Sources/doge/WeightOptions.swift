import ArgumentParser
import DogeKernels
import DogeModel

/// `--quantize`, shared by every command that runs a model: how its matrices are held in memory.
struct WeightOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Quantize the model's matrices at load: q8_0 or q4_0 (blocks of 32 with an F16 scale, as llama.cpp).",
        discussion: "Without it BF16/F16 checkpoints stay 16-bit in memory and quantized checkpoints (doge quantize) stay quantized."))
    var quantize: String?

    func validate() throws { _ = try loading() }

    /// The loading the options ask for (a usage error names the bad value).
    func loading() throws -> WeightLoading {
        guard let quantize else { return .inference }
        guard let type = WeightStorage(rawValue: quantize.lowercased()), type.isQuantized else {
            throw ValidationError("--quantize \"\(quantize)\" is not a quantized type; use one of: \(WeightStorage.quantized.map(\.rawValue).joined(separator: ", "))")
        }
        return WeightLoading(quantize: type)
    }
}
