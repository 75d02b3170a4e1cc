import ArgumentParser
import DogePostTraining

struct SFTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sft",
        abstract: "Supervised fine-tuning with TRL SFTTrainer's semantics.",
        discussion: """
            Rows (JSON Lines): {"text"}, {"messages"[, "tools"]}, or {"prompt", "completion"} (strings or \
            message lists). Chat rows go through the tokenizer's chat template; text rows get EOS. \
            completion_only_loss (default for prompt/completion rows), truncation to max_length, packing \
            (bfd: documents never attend to each other, positions restart). Loss = token mean over the \
            whole optimizer step. Checkpoints, --resume and metrics.jsonl as in `doge train`.
            """
    )
    @OptionGroup var flags: PostTrainingFlags

    func run() throws {
        try flags.run(.sft) { setup, report in try setup.sftTask(report: report) }
    }
}
