import ArgumentParser
import Foundation
import DogeModel
import DogePostTraining
import DogeTraining

struct UpcycleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upcycle",
        abstract: "Turn a dense Doge checkpoint into a CDMoE one whose shared expert is the dense MLP.",
        discussion: """
            Copies every tensor; adds router_gate [2⌊√E⌋, hidden], down_embed and up_embed [E, hidden] per layer, \
            drawn N(0, initializer_range) as small-doge's from_pretrained does. --zero-init makes up_embed zero, so \
            the new model's logits equal the dense model's until training moves them. Continue with `doge train`.
            """
    )
    @Option(name: .long, help: "Dense checkpoint directory.") var model: String
    @Option(name: .long, help: "Number of experts E (a perfect square).") var numExperts: Int
    @Option(name: .long, help: "Experts per token (num_experts_per_tok).") var expertsPerToken: Int
    @Option(name: .long, help: "Output directory.") var output: String
    @Flag(name: .long, help: "Zero up_embed: logits equal the dense model's at step 0.") var zeroInit = false
    @Option(name: .long, help: "Seed of the new tables.") var seed: Int = 42

    func validate() throws {
        if numExperts < 1 { throw ValidationError("--num-experts must be positive, found \(numExperts)") }
        if expertsPerToken < 1 { throw ValidationError("--experts-per-token must be positive, found \(expertsPerToken)") }
    }

    func run() throws {
        let dense: DogeForCausalLM
        do { dense = try DogeForCausalLM(directory: URL(fileURLWithPath: model)) } catch {
            throw RunError("\(model): cannot load the dense model: \(error)")
        }
        do {
            let moe = try Upcycle.moe(from: dense, experts: numExperts, perToken: expertsPerToken, zeroInit: zeroInit,
                                      seed: UInt64(bitPattern: Int64(seed)))
            let out = URL(fileURLWithPath: output)
            try moe.save(to: out)
            let fm = FileManager.default
            for name in TrainingCheckpoint.tokenizerFiles {
                let src = URL(fileURLWithPath: model).appendingPathComponent(name), dst = out.appendingPathComponent(name)
                if fm.fileExists(atPath: src.path) && !fm.fileExists(atPath: dst.path) { try fm.copyItem(at: src, to: dst) }
            }
            print(out.path)
        } catch let e as PostTrainingError {
            throw RunError(e.description)
        }
    }
}
