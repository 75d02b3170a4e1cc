import Foundation
import DogeJinja
import DogeKernels
import DogeModel
import DogeTokenizers

/// What to generate from.
public enum Prompt: Sendable {
    /// Plain text, tokenized as `tokenizer(text)` does (special tokens such as BOS added).
    case text(String)
    /// Token ids, used as they are.
    case ids([Int])
    /// A conversation rendered through the model's chat template with the generation prompt.
    case chat([ChatMessage])
}

/// One message of a conversation.
public struct ChatMessage: Sendable, Equatable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }

    public static func system(_ text: String) -> ChatMessage { ChatMessage(role: "system", content: text) }
    public static func user(_ text: String) -> ChatMessage { ChatMessage(role: "user", content: text) }
    public static func assistant(_ text: String) -> ChatMessage { ChatMessage(role: "assistant", content: text) }
}

/// A piece of streamed output: new text (never a split UTF-8 character) and the ids behind it.
public struct GenerationChunk: Sendable, Equatable {
    public var text: String
    public var tokenIds: [Int]
}

/// Why generation ended.
public enum FinishReason: String, Sendable {
    case eos = "stop", stopString = "stop_string", length = "length", cancelled = "cancelled"
}

/// A whole generation.
public struct GenerationResult: Sendable {
    public var text: String
    /// The ids behind `text`. After a stop string they end before the token where it begins
    /// (that token and the ones after it are cut, as the text is); `generatedTokens` counts all.
    public var tokenIds: [Int]
    public var promptTokens: Int
    public var finishReason: FinishReason
    /// Seconds for the prompt (first token included) and for the rest.
    public var promptSeconds: Double
    public var generationSeconds: Double
    /// Tokens the model produced, including any cut with a stop string.
    public var generatedTokens = 0
}

/// Text in, text out: a model with its tokenizer and generation defaults.
public final class TextGenerator: @unchecked Sendable {
    public let model: DogeForCausalLM
    public let tokenizer: Tokenizer
    /// The model's `generation_config.json` (or transformers' defaults).
    public let defaults: GenerationConfig
    private let tokens: TokenGenerator
    /// One generation at a time: the model's dynamic-RoPE state and scratch are shared.
    private let lock = NSLock()

    public init(model: DogeForCausalLM, tokenizer: Tokenizer, defaults: GenerationConfig) {
        self.model = model
        self.tokenizer = tokenizer
        var d = defaults
        if d.eosTokenIds.isEmpty, let eos = tokenizer.eosTokenID { d.eosTokenIds = [eos] }
        if d.padTokenId == nil { d.padTokenId = tokenizer.padTokenID }
        self.defaults = d
        tokens = TokenGenerator(model: model)
    }

    /// Loads a model directory: weights, tokenizer.json (+ tokenizer_config.json), generation_config.json.
    /// `loading` says how the matrices are held (16-bit stays 16-bit by default; `--quantize`).
    public convenience init(directory: URL, loading: WeightLoading = .inference) throws {
        let model = try DogeForCausalLM(directory: directory, loading: loading)
        let tokenizer: Tokenizer
        do { tokenizer = try Tokenizer(directory: directory) } catch {
            throw GenerationError.noTokenizer("\(error)")
        }
        guard tokenizer.vocabularySize <= model.config.vocabSize else {
            throw GenerationError.noTokenizer("\(directory.appendingPathComponent("tokenizer.json").path) has ids up to \(tokenizer.vocabularySize - 1) but the model's vocabulary (config.json vocab_size) is \(model.config.vocabSize): it is not this model's tokenizer")
        }
        try self.init(model: model, tokenizer: tokenizer,
                      defaults: GenerationConfig.defaults(forModelAt: directory, config: model.config))
    }

    /// The token ids a prompt becomes.
    public func promptIds(_ prompt: Prompt) throws -> [Int] {
        let ids: [Int]
        switch prompt {
        case .ids(let given):
            for id in given where id < 0 || id >= model.config.vocabSize {
                throw GenerationError.invalidSetting("ids", "token id \(id) is outside the vocabulary (0..<\(model.config.vocabSize))")
            }
            ids = given
        case .text(let text):
            // A BOS-only prompt is unconditional generation: ask for it explicitly with .ids.
            guard !text.isEmpty else { throw GenerationError.emptyPrompt }
            // Encoding costs ~20 bytes of memory per text byte: refuse texts that cannot fit
            // the model's context whatever they encode to, before encoding them.
            let limit = tokens.maxPromptTokens
            if text.utf8.count > limit {
                let atLeast = text.utf8.count / tokenizer.maxTokenBytes
                if atLeast > limit { throw GenerationError.promptTooLong(tokens: atLeast, limit: limit) }
            }
            ids = tokenizer.encode(text)
        case .chat(let messages):
            guard (try? tokenizer.chatTemplate()) != nil else {
                throw GenerationError.noChatTemplate("tokenizer_config.json has no chat_template")
            }
            let values: [JinjaValue] = messages.map { .object([("role", .string($0.role)), ("content", .string($0.content))]) }
            ids = try tokenizer.applyChatTemplateIDs(messages: values, addGenerationPrompt: true)
        }
        guard !ids.isEmpty else { throw GenerationError.emptyPrompt }
        return ids
    }

    /// Streams the continuation of `prompt`. Cancelling the consuming task stops generation.
    public func stream(_ prompt: Prompt, config: GenerationConfig? = nil) -> AsyncThrowingStream<GenerationChunk, Error> {
        AsyncThrowingStream { continuation in
            let task = Task.detached { [self] in
                do {
                    _ = try self.run(prompt, config: config ?? self.defaults, isCancelled: { Task.isCancelled }) {
                        continuation.yield($0)
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Generates the whole continuation; `onChunk` sees it piece by piece as it is produced.
    @discardableResult
    public func generate(_ prompt: Prompt, config: GenerationConfig? = nil, isCancelled: () -> Bool = { false },
                         onChunk: (GenerationChunk) -> Void = { _ in }) throws -> GenerationResult {
        try run(prompt, config: config ?? defaults, isCancelled: isCancelled, onChunk: onChunk)
    }

    private func run(_ prompt: Prompt, config: GenerationConfig, isCancelled: () -> Bool,
                     onChunk: (GenerationChunk) -> Void) throws -> GenerationResult {
        lock.lock()
        defer { lock.unlock() }
        let ids = try promptIds(prompt)
        var detokenizer = StreamingDetokenizer(tokenizer: tokenizer, skipSpecialTokens: true)
        var stops = StopStringMatcher(config.stopStrings)
        var text = "", generated: [Int] = [], pendingIds: [Int] = []
        var reason = FinishReason.length
        var scalarsDecoded = 0, tokenEnds: [Int] = [], textPending: [Int] = []   // text length (scalars) after each token
        let start = DispatchTime.now().uptimeNanoseconds
        var firstTokenAt = start
        let eos = Set(config.eosTokenIds)
        try tokens.generate(prompts: [ids], config: config) { step in
            if step.index == 0 { firstTokenAt = DispatchTime.now().uptimeNanoseconds }
            let token = step.tokens[0]
            generated.append(token)
            if eos.contains(token) { reason = .eos; return false }
            pendingIds.append(token)
            let piece = try detokenizer.push(token)
            scalarsDecoded += piece.unicodeScalars.count
            // A token that completes no character yet (part of a UTF-8 sequence) ends where its text appears.
            if piece.isEmpty { textPending.append(tokenEnds.count) } else {
                for i in textPending { tokenEnds[i] = scalarsDecoded }
                textPending = []
            }
            tokenEnds.append(scalarsDecoded)
            let (emit, stopped) = stops.feed(piece)
            if !emit.isEmpty || stopped {
                text += emit
                onChunk(GenerationChunk(text: emit, tokenIds: pendingIds))
                pendingIds = []
            }
            if stopped { reason = .stopString; return false }
            if isCancelled() { reason = .cancelled; return false }
            return true
        }
        if reason == .length || reason == .eos || reason == .cancelled {
            let tail = stops.finish(try detokenizer.finish())
            if !tail.isEmpty || !pendingIds.isEmpty {
                text += tail
                onChunk(GenerationChunk(text: tail, tokenIds: pendingIds))
            }
        }
        let end = DispatchTime.now().uptimeNanoseconds
        let produced = generated.count
        if reason == .stopString {
            let cut = text.unicodeScalars.count
            generated = Array(generated.prefix(tokenEnds.prefix { $0 <= cut }.count))
        }
        return GenerationResult(text: text, tokenIds: generated, promptTokens: ids.count, finishReason: reason,
                                promptSeconds: Double(firstTokenAt - start) / 1e9,
                                generationSeconds: Double(end - firstTokenAt) / 1e9, generatedTokens: produced)
    }
}

/// Finds stop strings in streamed text, holding back any tail that could still become one.
public struct StopStringMatcher: Sendable {
    public let stops: [String]
    private var held = ""

    public init(_ stops: [String]) { self.stops = stops }

    /// Returns the text safe to emit now, and whether a stop string was found (the text before
    /// it is emitted, the stop string and anything after are dropped).
    public mutating func feed(_ piece: String) -> (String, Bool) {
        guard !stops.isEmpty else { return (piece, false) }
        held += piece
        if let cut = stops.compactMap({ held.range(of: $0)?.lowerBound }).min() {
            let out = String(held[..<cut])
            held = ""
            return (out, true)
        }
        // Keep the longest suffix that is a prefix of some stop string.
        var keep = 0
        for stop in stops {
            for n in stride(from: min(stop.count - 1, held.count), to: 0, by: -1)
            where held.hasSuffix(String(stop.prefix(n))) {
                keep = max(keep, n)
                break
            }
        }
        let out = String(held.dropLast(keep))
        held = String(held.suffix(keep))
        return (out, false)
    }

    public mutating func finish(_ piece: String) -> String {
        let (out, stopped) = feed(piece)
        if stopped { return out }
        defer { held = "" }
        return out + held
    }
}
