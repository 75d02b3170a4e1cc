import ArgumentParser

@main
struct Doge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doge",
        abstract: "Doge small language models (SmallDoge), natively in Swift.",
        discussion: """
            Loads Doge checkpoints in Hugging Face layout and computes what transformers computes: \
            logits, tokenization, chat templates. Run `doge help <command>` for each command's options.
            """,
        version: dogeVersion,
        subcommands: [
            // One line per command; each command lives in its own file in this folder.
            InfoCommand.self,
            TokenizeCommand.self,
            DetokenizeCommand.self,
            TemplateCommand.self,
            LogitsCommand.self,
            ConvertCommand.self,
            BenchCommand.self,
            GenerateCommand.self,
            ChatCommand.self,
            TrainCommand.self,
            PlotCommand.self,
            TokenizerCommand.self,
            SFTCommand.self,
            DPOCommand.self,
            GRPOCommand.self,
            UpcycleCommand.self,
            EvalCommand.self,
            QuantizeCommand.self,
            DownloadCommand.self,
            ServeCommand.self,
        ]
    )

    /// Parses, warns about unusable DOGE_* values, then runs with one error style (CLIFailure.swift).
    static func main() async {
        CLIFailure.warnAboutEnvironment()
        let command: ParsableCommand
        do { command = try parseAsRoot() } catch { exit(withError: error) }
        await CLIFailure.run(command)
    }
}

/// `doge --version`.
let dogeVersion = "0.1.0"
