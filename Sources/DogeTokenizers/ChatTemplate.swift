import DogeJinja
import Foundation

/// Chat templates, rendered the way transformers' `apply_chat_template` renders them:
/// jinja2 with `trim_blocks` and `lstrip_blocks`, the variables `messages`, `tools`,
/// `documents`, `add_generation_prompt`, and the special tokens (`bos_token`, `eos_token`,
/// `unk_token`, `pad_token`) as strings.
extension Tokenizer {
    /// The chat template source: `name` if given, else the default one.
    public func chatTemplate(named name: String? = nil) throws -> String {
        guard let template = config.chatTemplate(named: name) else { throw TokenizerError.noChatTemplate(name: name) }
        return template
    }

    /// Renders a conversation to the prompt text.
    ///
    /// - Parameters:
    ///   - messages: objects such as `["role": "user", "content": "Hi"]`; keys whose value is
    ///     `null` are dropped, as transformers does before rendering.
    ///   - tools, documents: passed through as JSON values (`None` in the template when nil).
    ///   - addGenerationPrompt: ask the template to open the assistant's turn.
    ///   - extraContext: more template variables (they override the defaults above).
    ///   - templateName: a named template from a list-valued `chat_template`.
    ///   - now: freezes `strftime_now` (UTC); nil uses the current time.
    /// - Throws: `TokenizerError.noChatTemplate`, or the template's `TemplateError`.
    public func applyChatTemplate(
        messages: [JinjaValue],
        tools: [JinjaValue]? = nil,
        documents: [JinjaValue]? = nil,
        addGenerationPrompt: Bool = false,
        extraContext: [String: JinjaValue] = [:],
        templateName: String? = nil,
        now: Date? = nil
    ) throws -> String {
        let source = try chatTemplate(named: templateName)
        return try Self.renderChat(source: source, specialTokens: specialTokenVariables, messages: messages, tools: tools,
                                   documents: documents, addGenerationPrompt: addGenerationPrompt,
                                   extraContext: extraContext, now: now)
    }

    /// Renders, then encodes without adding special tokens (the template writes them), as
    /// `apply_chat_template(tokenize=True)` does.
    public func applyChatTemplateIDs(
        messages: [JinjaValue],
        tools: [JinjaValue]? = nil,
        documents: [JinjaValue]? = nil,
        addGenerationPrompt: Bool = false,
        extraContext: [String: JinjaValue] = [:],
        templateName: String? = nil,
        now: Date? = nil
    ) throws -> [Int] {
        let text = try applyChatTemplate(messages: messages, tools: tools, documents: documents,
                                         addGenerationPrompt: addGenerationPrompt, extraContext: extraContext,
                                         templateName: templateName, now: now)
        return encode(text, addSpecialTokens: false)
    }

    /// `bos_token`, `eos_token`, `unk_token`, `pad_token`: the ones the config defines.
    public var specialTokenVariables: [String: JinjaValue] {
        var out: [String: JinjaValue] = [:]
        if let bosToken { out["bos_token"] = .string(bosToken) }
        if let eosToken { out["eos_token"] = .string(eosToken) }
        if let unk = config.unkToken { out["unk_token"] = .string(unk) }
        if let padToken { out["pad_token"] = .string(padToken) }
        return out
    }

    /// Renders any chat template source with transformers' variables (no tokenizer needed).
    public static func renderChat(
        source: String,
        specialTokens: [String: JinjaValue] = [:],
        messages: [JinjaValue],
        tools: [JinjaValue]? = nil,
        documents: [JinjaValue]? = nil,
        addGenerationPrompt: Bool = false,
        extraContext: [String: JinjaValue] = [:],
        now: Date? = nil
    ) throws -> String {
        let template = try Template(source, options: TemplateOptions(now: now))
        var context = specialTokens
        context["messages"] = .array(messages.map(droppingNullKeys))
        context["tools"] = tools.map { .array($0) } ?? .null
        context["documents"] = documents.map { .array($0) } ?? .null
        context["add_generation_prompt"] = .bool(addGenerationPrompt)
        for (key, value) in extraContext { context[key] = value }
        return try template.render(context)
    }

    /// A message object without its `null`-valued keys.
    static func droppingNullKeys(_ message: JinjaValue) -> JinjaValue {
        guard case let .object(object) = message else { return message }
        var pairs: [(String, JinjaValue)] = []
        for (key, value) in object.entries {
            guard case let .string(name) = key else { return message }
            if case .null = value { continue }
            pairs.append((name, value))
        }
        return .object(pairs)
    }
}
