import ArgumentParser
import Foundation
import DogeGeneration

struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Talk with the model through its chat template, replies streamed as they are generated.",
        discussion: """
            Type a message and press Enter; end a line with \\ to continue the message on the next line.
            Commands: /help, /reset (forget the conversation), /system TEXT (set the system message and \
            reset), /exit (or end of input); start a message with // to send one that begins with /. \
            When the conversation would no longer fit the model's context, the oldest turns are left \
            out (the system message stays), with a note. Ctrl-C stops the current reply; press it \
            twice to quit. Works with stdin from a pipe too: each line is one user message, and when \
            the output is not a terminal each reply is followed by an empty line.
            """
    )

    static let commands = [
        ("/help", "list these commands"),
        ("/reset", "forget the conversation"),
        ("/system TEXT", "set the system message (empty: none) and start over"),
        ("/exit", "quit (also /quit, or end of input)"),
    ]

    @Option(name: .long, help: "System message that starts the conversation.")
    var system: String?

    @OptionGroup var options: SamplingOptions

    func run() throws {
        let generator = try options.loadGenerator(bundled: .instruct)
        let config = try options.generationConfig(defaults: generator.defaults)
        let contextLimit = TokenGenerator(model: generator.model).maxPromptTokens
        var systemMessage = system
        var history: [ChatMessage] = []
        let interactive = isatty(STDIN_FILENO) != 0
        let separateReplies = isatty(STDOUT_FILENO) == 0
        let interrupt = InterruptFlag.install()
        let out = FileHandle.standardOutput
        func say(_ text: String) { out.write(Data(text.utf8)) }
        func note(_ text: String) { FileHandle.standardError.write(Data("(\(text))\n".utf8)) }
        if interactive { say("Chatting with \(generator.model.config.numHiddenLayers)-layer Doge. /help lists the commands, /exit quits.\n") }
        while true {
            if interactive { say("> ") }
            guard var message = readMessage() else { break }
            if message.isEmpty { continue }
            if message.hasPrefix("//") {
                message.removeFirst()
            } else if message.hasPrefix("/") {
                let word = String(message.prefix { !$0.isWhitespace })
                let argument = message.dropFirst(word.count).trimmingCharacters(in: .whitespaces)
                switch word {
                case "/exit", "/quit": return
                case "/help":
                    for (name, what) in Self.commands { say("  \(name.padding(toLength: 14, withPad: " ", startingAt: 0)) \(what)\n") }
                case "/reset":
                    history = []
                    if interactive { say("(conversation reset)\n") }
                case "/system":
                    systemMessage = argument.isEmpty ? nil : argument
                    history = []
                    if interactive { say("(system message \(argument.isEmpty ? "cleared" : "set"); conversation reset)\n") }
                default:
                    note("unknown command \(word); /help lists the commands, // sends a message that starts with /")
                }
                continue
            }
            history.append(.user(message))
            let system = systemMessage.map { [ChatMessage.system($0)] } ?? []
            do {
                // Oldest turns go first when the prompt and the reply would not fit the context.
                var dropped = 0
                while history.count > 1,
                      try generator.promptIds(.chat(system + history)).count + config.maxNewTokens > contextLimit {
                    history.removeFirst(history.count > 2 && history[1].role == "assistant" ? 2 : 1)
                    dropped += 1
                }
                if dropped > 0 {
                    note("left out the oldest \(dropped) turn\(dropped == 1 ? "" : "s") to fit the model's context of \(contextLimit) tokens")
                }
                interrupt.clear()
                let result = try generator.generate(.chat(system + history), config: config, isCancelled: { interrupt.isSet }) { chunk in
                    say(chunk.text)
                }
                say(result.finishReason == .cancelled ? " [stopped]\n" : "\n")
                if separateReplies { say("\n") }
                interrupt.clear()
                history.append(.assistant(result.text))
                if options.verbose { reportSpeed(result) }
            } catch {
                // The message could not be answered (template or length): say why, keep the session.
                history.removeLast()
                FileHandle.standardError.write(Data("Error: \(CLIFailure.message(for: error))\n".utf8))
            }
        }
    }

    /// One user message: a line, or several joined where a line ends with a backslash.
    private func readMessage() -> String? {
        var lines: [String] = []
        while let line = readLine(strippingNewline: true) {
            if line.hasSuffix("\\") {
                lines.append(String(line.dropLast()))
                continue
            }
            lines.append(line)
            return lines.joined(separator: "\n").trimmingCharacters(in: .whitespaces)
        }
        return lines.isEmpty ? nil : lines.joined(separator: "\n")
    }
}
