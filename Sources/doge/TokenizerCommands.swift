import ArgumentParser
import DogeJinja
import DogeTokenizers
import Foundation

/// Loads a tokenizer from a model directory or a tokenizer.json path.
private func loadTokenizer(_ path: String) throws -> Tokenizer {
    try Tokenizer(directory: URL(fileURLWithPath: path))
}

/// Writes text to stdout exactly (no newline added) in one write.
private func writeStdout(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}

/// Appends the decimal digits of `value` (ids can be many; this avoids a String per id).
private func appendDecimal(_ value: Int, to out: inout [UInt8]) {
    if value < 0 { out.append(UInt8(ascii: "-")) }
    var magnitude = value.magnitude
    let start = out.count
    repeat {
        out.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
        magnitude /= 10
    } while magnitude > 0
    out[start...].reverse()
}

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the token ids of a text, exactly as Hugging Face tokenizers encodes it.",
        discussion: """
            Reads tokenizer.json (and tokenizer_config.json beside it) from PATH, a model directory \
            or a tokenizer.json file. The text comes from --text or, byte for byte, from --file \
            (nothing is trimmed; bytes that are not UTF-8 are an error naming the offset). \
            Special tokens the tokenizer adds (such as BOS) are included unless --no-special is given.

            Examples (the bundled model's tokenizer):
              doge tokenize --tokenizer Models/doge-tiny --text "Once upon a time"
              0 1663 318 808 262 659
              doge tokenize --tokenizer Models/doge-tiny/tokenizer.json --file prompt.txt --no-special --json
            """
    )

    @Option(name: .long, help: ArgumentHelp("Model directory or tokenizer.json.", valueName: "path"))
    var tokenizer: String

    @Option(name: .long, help: "Text to encode.")
    var text: String?

    @Option(name: .long, help: ArgumentHelp("File whose exact bytes are encoded.", valueName: "path"))
    var file: String?

    @Flag(name: .customLong("no-special"), help: "Do not add the post-processor's special tokens (BOS, EOS...).")
    var noSpecial = false

    @Flag(name: .long, help: "Print a JSON array instead of space-separated ids.")
    var json = false

    func validate() throws {
        if (text == nil) == (file == nil) { throw ValidationError("Give exactly one of --text or --file.") }
    }

    func run() throws {
        let tokenizer = try loadTokenizer(self.tokenizer)
        let ids: [Int]
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else { throw TokenizerError.fileNotFound(path: file) }
            ids = try tokenizer.encode(bytes: data, addSpecialTokens: !noSpecial)
        } else {
            ids = tokenizer.encode(text ?? "", addSpecialTokens: !noSpecial)
        }
        var out: [UInt8] = []
        out.reserveCapacity(ids.count * 6 + 2)
        let json = self.json  // read the property wrapper once, not per id
        let separator = json ? UInt8(ascii: ",") : UInt8(ascii: " ")
        if json { out.append(UInt8(ascii: "[")) }
        for (index, id) in ids.enumerated() {
            if index > 0 { out.append(separator) }
            appendDecimal(id, to: &out)
        }
        if json { out.append(UInt8(ascii: "]")) }
        out.append(UInt8(ascii: "\n"))
        FileHandle.standardOutput.write(Data(out))
    }
}

struct DetokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detokenize",
        abstract: "Print the text of a list of token ids, as Hugging Face tokenizers decodes it.",
        discussion: """
            PATH is a model directory or a tokenizer.json file. Ids are separated by commas and/or \
            spaces. The text is printed exactly, with no newline added. An id outside the \
            vocabulary is an error.

            Example (the bundled model's tokenizer):
              doge detokenize --tokenizer Models/doge-tiny --ids "0,1663,318,808,262,659" --skip-special
              Once upon a time
            """
    )

    @Option(name: .long, help: ArgumentHelp("Model directory or tokenizer.json.", valueName: "path"))
    var tokenizer: String

    @Option(name: .long, help: ArgumentHelp("Token ids, e.g. \"1,2,3\".", valueName: "ids"))
    var ids: String

    @Flag(name: .customLong("skip-special"), help: "Leave out special tokens.")
    var skipSpecial = false

    func validate() throws { _ = try tokenIds() }

    private func tokenIds() throws -> [Int] {
        let parts = ids.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\n" || $0 == "\t" })
        return try parts.map { part -> Int in
            guard let id = Int(part) else { throw ValidationError("\"\(part)\" is not a token id.") }
            return id
        }
    }

    func run() throws {
        let tokenizer = try loadTokenizer(self.tokenizer)
        writeStdout(try tokenizer.decode(tokenIds(), skipSpecialTokens: skipSpecial))
    }
}

struct TemplateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "template",
        abstract: "Render a chat template as transformers' apply_chat_template does.",
        discussion: """
            The template is the tokenizer's chat_template (from tokenizer_config.json or \
            chat_template.jinja in PATH) or the Jinja file given with --template. The context file \
            is a JSON object: "messages", "tools", "documents" and "add_generation_prompt" are \
            passed like transformers passes them; any other key becomes a template variable. With \
            --tokenizer, bos_token, eos_token, unk_token and pad_token are defined too. The prompt \
            is printed exactly, with no newline added; a failing template prints its error and \
            exits non-zero. --now freezes strftime_now (ISO 8601, e.g. 2024-07-26T10:00:00Z).

            Example:
              echo '{"messages": [{"role": "user", "content": "Hi"}], "add_generation_prompt": true}' > chat.json
              doge template --tokenizer Models/doge-tiny --context chat.json
            """
    )

    @Option(name: .long, help: ArgumentHelp("Model directory or tokenizer.json whose chat template is used.", valueName: "path"))
    var tokenizer: String?

    @Option(name: .long, help: ArgumentHelp("A Jinja chat template file (instead of the tokenizer's).", valueName: "file"))
    var template: String?

    @Option(name: .long, help: ArgumentHelp("Name of the template when chat_template is a list.", valueName: "name"))
    var templateName: String?

    @Option(name: .long, help: ArgumentHelp("JSON file with messages and other variables.", valueName: "file"))
    var context: String

    @Option(name: .long, help: ArgumentHelp("Frozen time for strftime_now, ISO 8601.", valueName: "time"))
    var now: String?

    func validate() throws {
        if tokenizer == nil && template == nil { throw ValidationError("Give --tokenizer or --template.") }
        if let now, Self.parseDate(now) == nil { throw ValidationError("--now \"\(now)\" is not an ISO 8601 time.") }
    }

    static func parseDate(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withFullDate]
        return formatter.date(from: text)
    }

    func run() throws {
        guard let data = FileManager.default.contents(atPath: context) else { throw TokenizerError.fileNotFound(path: context) }
        guard case let .object(object) = try JinjaValue(jsonData: data) else {
            throw RunError("\(context): the context file must hold a JSON object (with \"messages\" and other variables)")
        }
        var messages: [JinjaValue] = []
        var tools: [JinjaValue]?
        var documents: [JinjaValue]?
        var addGenerationPrompt = false
        var extra: [String: JinjaValue] = [:]
        for (key, value) in object.entries {
            guard case let .string(name) = key else { continue }
            switch (name, value) {
            case let ("messages", .array(list)): messages = list
            case let ("tools", .array(list)): tools = list
            case let ("documents", .array(list)): documents = list
            case let ("add_generation_prompt", .bool(flag)): addGenerationPrompt = flag
            default: extra[name] = value
            }
        }
        let date = now.flatMap(Self.parseDate)
        let loaded = try tokenizer.map(loadTokenizer)
        let source: String
        if let template {
            guard let text = try? String(contentsOfFile: template, encoding: .utf8) else { throw TokenizerError.fileNotFound(path: template) }
            source = text
        } else {
            source = try loaded!.chatTemplate(named: templateName)
        }
        let prompt = try Tokenizer.renderChat(
            source: source, specialTokens: loaded?.specialTokenVariables ?? [:], messages: messages, tools: tools,
            documents: documents, addGenerationPrompt: addGenerationPrompt, extraContext: extra, now: date)
        writeStdout(prompt)
    }
}
