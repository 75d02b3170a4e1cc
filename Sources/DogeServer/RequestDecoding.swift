import Foundation
import DogeGeneration
import DogeJinja
import DogeTokenizers

/// One prompt of a request, ready for the engine.
struct PreparedPrompt {
    var ids: [Int]
    var text: String
}

/// What a completion request is checked against: the model's defaults and sizes.
struct RequestLimits {
    var defaults: GenerationConfig
    var slots: Int
    var vocabSize: Int
    var maxPromptTokens: Int
    /// `Tokenizer.maxTokenBytes`: a text over `maxPromptTokens × maxTokenBytes` bytes cannot fit
    /// the context, so it is refused before it is encoded.
    var maxTokenBytes: Int
}

/// A chat-completions or completions body decoded and validated into what the engine runs:
/// JSON → parameters → messages rendered by the chat template (or prompts) → token ids. Pure (no
/// HTTP, no engine), so the server route stays thin and the fuzz harness (scripts/fuzz, target
/// `server-request`) and tests call it directly. Errors are `APIError`s naming the parameter.
struct CompletionRequest {
    var sampling: SamplingRequest
    var prompts: [PreparedPrompt]
    /// nil: no log-probabilities; k: each token's and the k most likely.
    var topLogprobs: Int?
    var echo = false

    init(body: [UInt8], chat: Bool, tokenizer: Tokenizer, limits: RequestLimits) throws {
        let f = try RequestFields(body)
        sampling = try SamplingRequest(f, defaults: limits.defaults, slots: limits.slots)
        prompts = try Self.prompts(f, chat: chat, tokenizer: tokenizer, limits: limits)
        if chat {
            let top = try f.int("top_logprobs")
            if let top, !(0...20).contains(top) { throw APIError.outOfRange("top_logprobs", "must be between 0 and 20, got \(top)") }
            if try f.bool("logprobs") == true { topLogprobs = top ?? 0 } else if top != nil {
                throw APIError.invalid("'top_logprobs' needs 'logprobs': true", param: "top_logprobs")
            }
        } else {
            if let lp = try f.int("logprobs") {
                guard (0...20).contains(lp) else { throw APIError.outOfRange("logprobs", "must be between 0 and 20, got \(lp)") }
                topLogprobs = lp
            }
            echo = try f.bool("echo") ?? false
            if echo && topLogprobs != nil {
                throw APIError.invalid("'echo' together with 'logprobs' (log-probabilities of the prompt) is not supported", param: "echo")
            }
        }
    }

    /// A request's `messages` (through the chat template) or `prompt` as token ids, each within the context.
    static func prompts(_ f: RequestFields, chat: Bool, tokenizer: Tokenizer, limits: RequestLimits) throws -> [PreparedPrompt] {
        let param = chat ? "messages" : "prompt"
        func tooLong(_ tokens: Int, atLeast: Bool = false) -> APIError {
            APIError.invalid("the prompt has \(atLeast ? "at least " : "")\(tokens) tokens but this model's context is \(limits.maxPromptTokens) tokens; shorten it",
                             param: param, code: "context_length_exceeded")
        }
        func encode(_ text: String, addSpecialTokens: Bool) throws -> [Int] {
            let bytes = text.utf8.count
            if bytes > limits.maxPromptTokens, bytes / max(1, limits.maxTokenBytes) > limits.maxPromptTokens {
                throw tooLong(bytes / max(1, limits.maxTokenBytes), atLeast: true)
            }
            return tokenizer.encode(text, addSpecialTokens: addSpecialTokens)
        }
        var prompts: [PreparedPrompt] = []
        if chat {
            let messages = try MessageParser.parse(f.value("messages"))
            let values: [JinjaValue] = messages.map { .object([("role", .string($0.role)), ("content", .string($0.content))]) }
            let text: String
            do {
                text = try tokenizer.applyChatTemplate(messages: values, addGenerationPrompt: true)
            } catch {
                throw APIError.invalid("the chat template rejected the messages: \(error)", param: "messages")
            }
            prompts = [PreparedPrompt(ids: try encode(text, addSpecialTokens: false), text: text)]
        } else {
            for item in try PromptParser.parse(f.value("prompt")) {
                switch item {
                case .text(let s):
                    guard !s.isEmpty else { throw APIError.outOfRange("prompt", "must not be an empty string") }
                    prompts.append(PreparedPrompt(ids: try encode(s, addSpecialTokens: true), text: s))
                case .ids(let ids):
                    guard !ids.isEmpty else { throw APIError.outOfRange("prompt", "must not be an empty list of token ids") }
                    if let bad = ids.first(where: { $0 < 0 || $0 >= limits.vocabSize }) {
                        throw APIError.outOfRange("prompt", "holds token id \(bad), outside the vocabulary (0..<\(limits.vocabSize))")
                    }
                    if ids.count > limits.maxPromptTokens { throw tooLong(ids.count) }
                    prompts.append(PreparedPrompt(ids: ids, text: (try? tokenizer.decode(ids)) ?? ""))
                }
            }
        }
        for p in prompts where p.ids.count > limits.maxPromptTokens { throw tooLong(p.ids.count) }
        guard !prompts.isEmpty, prompts.allSatisfy({ !$0.ids.isEmpty }) else { throw APIError.invalid("the prompt is empty", param: param) }
        return prompts
    }
}
