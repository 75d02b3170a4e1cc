import Foundation
import Testing
import Hummingbird
import HummingbirdTesting
import DogeGeneration
@testable import DogeServer

/// The OpenAI endpoints answer what `doge generate` computes, in OpenAI's shapes.
extension ServerTests {
@Suite struct CompletionTests {
    @Test func healthModelsAndMetrics() async throws {
        try await withServer { client, _ in
            let health = try await client.get("/health")
            #expect(health.status == .ok)
            #expect(health.object["status"] as? String == "ok")
            for path in ["/v1/models", "/models"] {
                let r = try await client.get(path)
                let data = r.object["data"] as? [[String: Any]]
                #expect(r.object["object"] as? String == "list")
                #expect(data?.first?["id"] as? String == "doge")
                #expect(data?.first?["object"] as? String == "model")
            }
            let metrics = try await client.get("/metrics")
            #expect(metrics.text.contains("doge_busy_slots 0"))
            #expect(metrics.text.contains("doge_queued_requests"))
            #expect(metrics.text.contains("doge_requests_total"))
        }
    }

    /// temperature 0 on /v1/completions is `doge generate PROMPT --greedy`: same text, exact usage.
    @Test func greedyCompletionEqualsTextGenerator() async throws {
        let prompt = "Once upon a time"
        var config = Shared.generator.defaults
        config.doSample = false
        config.maxNewTokens = 24
        let expected = try Shared.generator.generate(.text(prompt), config: config)
        try await withServer { client, _ in
            for path in ["/v1/completions", "/completions"] {
                let r = try await client.postJSON(path, ["prompt": prompt, "temperature": 0, "max_tokens": 24])
                #expect(r.status == .ok)
                let choice = (r.object["choices"] as? [[String: Any]])?.first
                #expect(choice?["text"] as? String == expected.text)
                #expect(choice?["finish_reason"] as? String == (expected.finishReason == .length ? "length" : "stop"))
                #expect(r.object["object"] as? String == "text_completion")
                let usage = r.object["usage"] as? [String: Any]
                #expect(usage?["prompt_tokens"] as? Int == expected.promptTokens)
                #expect(usage?["completion_tokens"] as? Int == expected.tokenIds.count)
                #expect(usage?["total_tokens"] as? Int == expected.promptTokens + expected.tokenIds.count)
            }
            // The same, streamed.
            let s = try await client.postJSON("/v1/completions", ["prompt": prompt, "temperature": 0, "max_tokens": 24, "stream": true])
            #expect(streamedContent(s) == expected.text)
            #expect(s.events.last == "[DONE]")
        }
    }

    /// A chat completion is the chat template followed by greedy generation; streamed == whole;
    /// the stream has OpenAI's shape.
    @Test func chatStreamMatchesWholeAndTemplate() async throws {
        var config = Shared.generator.defaults
        config.doSample = false
        config.maxNewTokens = 20
        let expected = try Shared.generator.generate(.chat([.system("You are brief."), .user("Hi there!")]), config: config)
        try await withServer { client, _ in
            let messages: [[String: Any]] = [["role": "system", "content": "You are brief."], ["role": "user", "content": "Hi there!"]]
            let whole = try await client.postJSON("/v1/chat/completions", ["messages": messages, "temperature": 0, "max_tokens": 20])
            #expect(whole.status == .ok)
            #expect(content(whole) == expected.text)
            #expect((whole.object["id"] as? String)?.hasPrefix("chatcmpl-") == true)
            #expect(whole.object["object"] as? String == "chat.completion")
            let s = try await client.postJSON("/v1/chat/completions", ["messages": messages, "temperature": 0, "max_tokens": 20,
                                                                       "stream": true, "stream_options": ["include_usage": true]])
            #expect(s.headers[.contentType] == "text/event-stream")
            let chunks = s.eventObjects
            #expect(Set(chunks.compactMap { $0["id"] as? String }).count == 1)
            #expect(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
            let firstDelta = ((chunks.first?["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])
            #expect(firstDelta?["role"] as? String == "assistant")
            #expect(chunks.dropFirst().allSatisfy { (($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["role"] == nil })
            // The finish chunk has no content; the usage chunk has no choices; then [DONE].
            let finish = chunks[chunks.count - 2]
            let finishChoice = (finish["choices"] as? [[String: Any]])?.first
            #expect(finishChoice?["finish_reason"] as? String != nil)
            #expect((finishChoice?["delta"] as? [String: Any])?["content"] == nil)
            #expect((chunks.last?["choices"] as? [Any])?.isEmpty == true)
            let usage = chunks.last?["usage"] as? [String: Any]
            #expect(usage?["completion_tokens"] as? Int == expected.tokenIds.count)
            #expect(usage?["prompt_tokens"] as? Int == expected.promptTokens)
            #expect(chunks.dropLast().allSatisfy { $0["usage"] is NSNull })
            #expect(s.events.last == "[DONE]")
            #expect(streamedContent(s) == expected.text)
        }
    }

    /// A seed gives the same sampled text alone and beside other requests; choice i of n uses seed + i.
    static func sampled(_ i: Int) -> [String: Any] {
        var r: [String: Any] = ["prompt": "The little dog", "temperature": 0.9, "top_p": 0.95, "seed": 1234, "max_tokens": 30]
        if i > 0 { r["seed"] = 77 + i; r["prompt"] = "Tell me about cats number \(i)" }
        return r
    }

    @Test func seedDeterminismAloneAndBatched() async throws {
        try await withServer { client, server in
            let request = Self.sampled(0)
            let alone = try await client.postJSON("/v1/completions", request)
            let aloneText = (alone.object["choices"] as? [[String: Any]])?.first?["text"] as? String
            #expect(aloneText != nil)
            let port = client.port!
            let texts = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                for i in 0..<4 {
                    group.addTask {
                        try await TestClient.withClient(host: "127.0.0.1", port: port, configuration: .patient) { c in
                            let r = Self.sampled(i)
                            let response = try await c.post("/v1/completions", headers: [.contentType: "application/json"], body: json(r))
                            let object = (try? JSONSerialization.jsonObject(with: Data(buffer: response.body ?? ByteBuffer()))) as? [String: Any]
                            return (i, (object?["choices"] as? [[String: Any]])?.first?["text"] as? String)
                        }
                    }
                }
                var out: [Int: String?] = [:]
                for try await (i, t) in group { out[i] = t }
                return out
            }
            #expect(texts[0]! == aloneText)
            // n = 2: choice 1 equals a single request with seed + 1.
            var two = request; two["n"] = 2
            let pair = try await client.postJSON("/v1/completions", two)
            let choices = pair.object["choices"] as? [[String: Any]] ?? []
            #expect(choices.count == 2)
            #expect(choices.first?["text"] as? String == aloneText)
            var next = request; next["seed"] = 1235
            let single = try await client.postJSON("/v1/completions", next)
            #expect(choices.last?["text"] as? String == (single.object["choices"] as? [[String: Any]])?.first?["text"] as? String)
            #expect(try await busySlotsWhenSettled(server) == 0)
        }
    }

    /// A stop string ends the text before it and never leaks, streamed or not.
    @Test func stopStringsNeverLeak() async throws {
        try await withServer { client, _ in
            let base: [String: Any] = ["prompt": "Once upon a time", "temperature": 0, "max_tokens": 40]
            let full = (try await client.postJSON("/v1/completions", base).object["choices"] as? [[String: Any]])?.first?["text"] as? String ?? ""
            #expect(full.count > 12)
            // A stop string spanning several tokens from the middle of the greedy text.
            let start = full.index(full.startIndex, offsetBy: full.count / 2)
            let stop = String(full[start...].prefix(5))
            let expected = String(full[..<full.range(of: stop)!.lowerBound])
            var request = base; request["stop"] = [stop, "zzzz-never"]
            let whole = try await client.postJSON("/v1/completions", request)
            let choice = (whole.object["choices"] as? [[String: Any]])?.first
            #expect(choice?["text"] as? String == expected)
            #expect(choice?["finish_reason"] as? String == "stop")
            request["stream"] = true
            let streamed = try await client.postJSON("/v1/completions", request)
            #expect(streamedContent(streamed) == expected)
        }
    }

    @Test func logprobsAreRawAndConsistent() async throws {
        try await withServer { client, _ in
            let r = try await client.postJSON("/v1/chat/completions", ["messages": [["role": "user", "content": "Hello"]], "temperature": 0,
                                                                       "max_tokens": 8, "logprobs": true, "top_logprobs": 3])
            let choice = (r.object["choices"] as? [[String: Any]])?.first
            let entries = (choice?["logprobs"] as? [String: Any])?["content"] as? [[String: Any]] ?? []
            #expect(!entries.isEmpty)
            let text = ((choice?["message"] as? [String: Any])?["content"] as? String) ?? ""
            #expect(entries.compactMap { $0["token"] as? String }.joined() == text)
            for e in entries {
                let lp = e["logprob"] as? Double ?? 1
                let top = e["top_logprobs"] as? [[String: Any]] ?? []
                #expect(lp <= 0)
                #expect(top.count == 3)
                // Greedy without penalties on these tokens picks the top raw token most of the time; the
                // chosen one is never more likely than the first alternative.
                #expect(lp <= (top.first?["logprob"] as? Double ?? 0) + 1e-6)
            }
            let c = try await client.postJSON("/v1/completions", ["prompt": "Hello", "temperature": 0, "max_tokens": 5, "logprobs": 2])
            let lp = ((c.object["choices"] as? [[String: Any]])?.first?["logprobs"] as? [String: Any])
            #expect((lp?["tokens"] as? [String])?.count == (lp?["token_logprobs"] as? [Double])?.count)
            #expect((lp?["top_logprobs"] as? [[String: Double]])?.first?.count == 2)
        }
    }

    @Test func tokenizeDetokenizeApplyTemplate() async throws {
        try await withServer { client, _ in
            let ids = Shared.generator.tokenizer.encode("Hello world", addSpecialTokens: false)
            let t = try await client.postJSON("/tokenize", ["content": "Hello world"])
            #expect(t.object["tokens"] as? [Int] == ids)
            let p = try await client.postJSON("/tokenize", ["content": "Hello world", "with_pieces": true])
            #expect((p.object["tokens"] as? [[String: Any]])?.count == ids.count)
            let d = try await client.postJSON("/detokenize", ["tokens": ids])
            #expect(d.object["content"] as? String == "Hello world")
            let a = try await client.postJSON("/apply-template", ["messages": [["role": "user", "content": "Hi"]]])
            let expected = try Shared.generator.tokenizer.applyChatTemplate(messages: [.object([("role", .string("user")), ("content", .string("Hi"))])],
                                                                             addGenerationPrompt: true)
            #expect(a.object["prompt"] as? String == expected)
        }
    }
}
}
