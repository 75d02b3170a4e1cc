import ArgumentParser
import DogePostTraining

struct GRPOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grpo",
        abstract: "Group relative policy optimisation with TRL GRPOTrainer's semantics.",
        discussion: """
            Rows (JSON Lines): {"prompt"} (string or messages) plus any columns the rewards read (e.g. \
            "solution"). Each prompt gets num_generations sampled completions, decoded together; rewards from \
            reward_funcs (accuracy, format, reasoning_steps, length, cosine, repetition_penalty) and/or \
            reward_command (JSON lines in, one number per line out), weighted by reward_weights; advantages \
            per group (scale_rewards); loss_type dapo (default), grpo, bnpo, dr_grpo; beta > 0 adds the KL to \
            the initial model; num_iterations reuses each batch. per_device_train_batch_size counts completions.
            """
    )
    @OptionGroup var flags: PostTrainingFlags

    func run() throws {
        try flags.run(.grpo) { setup, report in try setup.grpoTask(report: report) }
    }
}
