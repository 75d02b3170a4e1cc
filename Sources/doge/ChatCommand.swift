import ArgumentParser
import Foundation
import DogeGeneration

struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Talk with the model through its chat template, replies streamed as they are generated.",
        discussion: """
            Type a message and press Enter; end a line with \\ to continue the message on the next line.
            Commands: /reset (forget the conversation), /system TEXT (set the system message and reset), \
            /exit (or end of input). Ctrl-C stops the current reply; press it twice to quit. Works with \
            stdin from a pipe too: each line is one user message.
            """
    )

    @Option(name: .long, help: "System message that starts the conversation.")
    var system: String?

    @OptionGroup var options: SamplingOptions

    func run() throws {
        let generator = try options.loadGenerator()
        let config = try options.generationConfig(defaults: generator.defaults)
        var systemMessage = system
        var history: [ChatMessage] = []
        let interactive = isatty(STDIN_FILENO) != 0
        let interrupt = InterruptFlag.install()
        let out = FileHandle.standardOutput
        func say(_ text: String) { out.write(Data(text.utf8)) }
        if interactive { say("Chatting with \(generator.model.config.numHiddenLayers)-layer Doge. /exit to quit, /reset to start over.\n") }
        while true {
            if interactive { say("> ") }
            guard let message = readMessage() else { break }
            if message.isEmpty { continue }
            if message == "/exit" || message == "/quit" { break }
            if message == "/reset" { history = []; if interactive { say("(conversation reset)\n") }; continue }
            if message.hasPrefix("/system") {
                systemMessage = String(message.dropFirst("/system".count)).trimmingCharacters(in: .whitespaces)
                history = []
                if interactive { say("(system message set; conversation reset)\n") }
                continue
            }
            history.append(.user(message))
            let conversation = (systemMessage.map { [ChatMessage.system($0)] } ?? []) + history
            interrupt.clear()
            let result = try generator.generate(.chat(conversation), config: config, isCancelled: { interrupt.isSet }) { chunk in
                say(chunk.text)
            }
            say(result.finishReason == .cancelled ? " [stopped]\n" : "\n")
            interrupt.clear()
            history.append(.assistant(result.text))
            if options.verbose { reportSpeed(result) }
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
