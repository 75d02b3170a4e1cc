import Foundation
import Testing
import DogeGeneration
import DogeModel
import DogeTokenizers
@testable import DogeServer

/// The request decoding the routes (and the `server-request` fuzz target) share, without a server.
@Suite struct RequestDecodingTests {
    static let tokenizer = try! Tokenizer(directory: Shared.modelDirectory)
    static let limits: RequestLimits = {
        let config = try! DogeConfiguration.load(from: Shared.modelDirectory.appendingPathComponent("config.json"))
        return RequestLimits(defaults: try! GenerationConfig.defaults(forModelAt: Shared.modelDirectory, config: config), slots: 4,
                             vocabSize: config.vocabSize, maxPromptTokens: config.maxPositionEmbeddings,
                             maxTokenBytes: tokenizer.maxTokenBytes)
    }()

    static func decode(_ object: Any, chat: Bool) throws -> CompletionRequest {
        let body = [UInt8](try JSONSerialization.data(withJSONObject: object))
        return try CompletionRequest(body: body, chat: chat, tokenizer: tokenizer, limits: limits)
    }

    /// The parameter an invalid body is refused for (nil when it is accepted or fails otherwise).
    static func refusedParam(_ object: Any, chat: Bool) -> String?? {
        do { _ = try decode(object, chat: chat); return nil } catch let e as APIError {
            #expect(e.status == .badRequest, "\(e)")
            return .some(e.param)
        } catch { return nil }
    }

    @Test func validChatAndCompletionBodies() throws {
        let chat = try Self.decode(["messages": [["role": "system", "content": "Be brief."],
                                                 ["role": "user", "content": [["type": "text", "text": "Hi "], ["type": "text", "text": "there"]]]],
                                    "temperature": 0, "max_tokens": 7, "n": 2, "stop": ["\n"], "logprobs": true, "top_logprobs": 2], chat: true)
        let text = try Self.tokenizer.applyChatTemplate(messages: [.object([("role", .string("system")), ("content", .string("Be brief."))]),
                                                                  .object([("role", .string("user")), ("content", .string("Hi there"))])],
                                                       addGenerationPrompt: true)
        #expect(chat.prompts.map(\.text) == [text])
        #expect(chat.prompts[0].ids == Self.tokenizer.encode(text, addSpecialTokens: false))
        #expect(chat.sampling.n == 2 && chat.sampling.config.maxNewTokens == 7 && !chat.sampling.config.doSample)
        #expect(chat.sampling.config.stopStrings == ["\n"] && chat.topLogprobs == 2)
        let completion = try Self.decode(["prompt": [[5, 6], [7]], "echo": true, "max_completion_tokens": 3], chat: false)
        #expect(completion.prompts.map(\.ids) == [[5, 6], [7]] && completion.echo && completion.topLogprobs == nil)
        #expect(completion.sampling.config.maxNewTokens == 3)
        // A temperature whose division would overflow Float is greedy (vLLM: below 1e-5).
        #expect(try !Self.decode(["prompt": "x", "temperature": 1e-40], chat: false).sampling.config.doSample)
        #expect(try Self.decode(["prompt": "x", "temperature": 1e-4], chat: false).sampling.config.doSample)
    }

    @Test func invalidBodiesNameTheParameter() {
        let user = ["role": "user", "content": "hi"]
        let chatCases: [(Any, String?)] = [
            ([1, 2], nil), (["messages": "hello"], "messages"), (["messages": []], "messages"),
            (["messages": [123]], "messages[0]"), (["messages": [[:]]], "messages[0].role"),
            (["messages": [["role": "wizard", "content": "x"]]], "messages[0].role"),
            (["messages": [["role": "user"]]], "messages[0].content"),
            (["messages": [["role": "user", "content": [["type": "image_url"]]]]], "messages[0].content"),
            (["messages": [user], "temperature": 3], "temperature"), (["messages": [user], "top_p": 0], "top_p"),
            (["messages": [user], "max_tokens": 0], "max_tokens"), (["messages": [user], "n": 5], "n"),
            (["messages": [user], "stop": Array(repeating: "x", count: 17)], "stop"), (["messages": [user], "stop": [""]], "stop"),
            (["messages": [user], "top_logprobs": 3], "top_logprobs"), (["messages": [user], "logprobs": true, "top_logprobs": 21], "top_logprobs"),
            (["messages": [user], "stream_options": ["include_usage": 1]], "stream_options.include_usage"),
            (["messages": [user], "max_tokens": 1.5], "max_tokens"), (["messages": [user], "seed": 1e300], "seed"),
        ]
        for (body, param) in chatCases { #expect(Self.refusedParam(body, chat: true) == .some(param), "\(body)") }
        let completionCases: [(Any, String?)] = [
            ([:], "prompt"), (["prompt": []], "prompt"), (["prompt": ""], "prompt"), (["prompt": [[]]], "prompt"),
            (["prompt": [999_999]], "prompt"), (["prompt": [-1]], "prompt"), (["prompt": [1, "a"]], "prompt"),
            (["prompt": "x", "logprobs": 21], "logprobs"), (["prompt": "x", "echo": true, "logprobs": 1], "echo"),
        ]
        for (body, param) in completionCases { #expect(Self.refusedParam(body, chat: false) == .some(param), "\(body)") }
    }

    /// A text that cannot fit the context is refused from its byte count, before it is encoded
    /// (a body of --max-body-bytes would otherwise cost ~20 bytes of memory per byte to encode):
    /// "at least N tokens" is the pre-encoding answer.
    @Test func overlongTextIsRefusedBeforeEncoding() throws {
        let huge = String(repeating: "dog ", count: 250_000)   // 1 MB: over 2048 tokens × the longest token's bytes
        #expect(huge.utf8.count / Self.limits.maxTokenBytes > Self.limits.maxPromptTokens)
        for chat in [true, false] {
            let body: [String: Any] = chat ? ["messages": [["role": "user", "content": huge]]] : ["prompt": huge]
            do {
                _ = try Self.decode(body, chat: chat)
                Issue.record("a 1 MB prompt was accepted")
            } catch let e as APIError {
                #expect(e.code == "context_length_exceeded" && e.message.contains("at least"), "\(e)")
            }
        }
        #expect(throws: APIError.self) { try Self.decode(["prompt": Array(repeating: 5, count: 2049)], chat: false) }
        #expect(try Self.decode(["prompt": Array(repeating: 5, count: 2048)], chat: false).prompts[0].ids.count == 2048)
    }
}
