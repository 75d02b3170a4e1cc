import ArgumentParser
import DogePostTraining

struct DPOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dpo",
        abstract: "Direct preference optimisation with TRL DPOTrainer's semantics.",
        discussion: """
            Rows (JSON Lines): {"prompt", "chosen", "rejected"} as strings or message lists; without \
            "prompt" the shared prefix of chosen and rejected is the prompt. The reference is the initial \
            model, frozen; its log-probabilities are computed once. loss_type sigmoid (default, beta 0.1), \
            ipo, hinge, robust (label_smoothing). Metrics rewards/*, logps/*, logits/* go to metrics.jsonl.
            """
    )
    @OptionGroup var flags: PostTrainingFlags

    func run() throws {
        try flags.run(.dpo) { setup, report in try setup.dpoTask(report: report) }
    }
}
