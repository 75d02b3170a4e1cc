import Foundation
import DogeGeneration
import DogeJinja
import HTTPTypes
import Hummingbird
import NIOCore

/// JSON bytes of a Foundation object (dictionaries, arrays, strings, numbers, NSNull).
func jsonBuffer(_ object: Any) -> ByteBuffer {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])) ?? Data("{}".utf8)
    return ByteBuffer(bytes: data)
}

func jsonResponse(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
    Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: jsonBuffer(object)))
}

/// What a whole choice came to.
struct ChoiceResult {
    var text = ""
    var tokens: [TokenLogprob] = []
    var finishReason = "stop"
    var completionTokens = 0
}

extension DogeServer {
    /// Reads a body up to --max-body-bytes (413 above it).
    func readBody(_ body: RequestBody) async throws -> [UInt8] {
        do {
            var buffer = try await body.collect(upTo: options.maxBodyBytes)
            return buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch let error as HTTPError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw APIError(status: .contentTooLarge, message: "the request body is larger than the server's limit of \(options.maxBodyBytes) bytes",
                           type: "invalid_request_error", code: "request_too_large")
        }
    }

    func addOpenAIRoutes(to router: Router<DogeRequestContext>) {
        for prefix in ["/v1", ""] {
            router.post(RouterPath("\(prefix)/chat/completions")) { request, context in try await self.complete(request, context, chat: true) }
            router.post(RouterPath("\(prefix)/completions")) { request, context in try await self.complete(request, context, chat: false) }
            router.get(RouterPath("\(prefix)/models")) { _, _ in
                jsonResponse(["object": "list", "data": [self.modelEntry]])
            }
            router.get(RouterPath("\(prefix)/models/:id")) { _, context in
                guard context.parameters.get("id") == self.options.modelID else {
                    throw APIError(status: .notFound, message: "model '\(context.parameters.get("id") ?? "")' does not exist",
                                   type: "invalid_request_error", param: "model", code: "model_not_found")
                }
                return jsonResponse(self.modelEntry)
            }
        }
    }

    var modelEntry: [String: Any] {
        let c = generator.model.config
        return ["id": options.modelID, "object": "model", "created": created, "owned_by": "swift-doge",
                "meta": ["n_vocab": c.vocabSize, "n_ctx_train": c.maxPositionEmbeddings, "n_layers": c.numHiddenLayers,
                         "hidden_size": c.hiddenSize, "slots": options.parallel]]
    }

    /// A completion request. Its body is read under Hummingbird's inbound-close watch, so a client
    /// that goes away cancels the generation; the connection then closes, which the response says.
    func complete(_ request: Request, _ context: DogeRequestContext, chat: Bool) async throws -> Response {
        do {
            var response = try await watchedCompletion(request, context, chat: chat)
            response.headers[.connection] = "close"
            return response
        } catch var error as APIError {
            error.headers[.connection] = "close"
            throw error
        }
    }

    private func watchedCompletion(_ request: Request, _ context: DogeRequestContext, chat: Bool) async throws -> Response {
        try await request.body.consumeWithCancellationOnInboundClose { body in
            let request = try CompletionRequest(body: try await self.readBody(body), chat: chat, tokenizer: self.generator.tokenizer,
                                                limits: self.requestLimits)
            let (sampling, prompts, topLogprobs, echo) = (request.sampling, request.prompts, request.topLogprobs, request.echo)
            let channel = context.channel
            let jobs = prompts.map {
                GenerationJob(promptIds: $0.ids, configs: sampling.configs, topLogprobs: topLogprobs,
                              isConnected: { channel?.isActive ?? true })
            }
            do {
                for job in jobs { try self.engine.submit(job) }
            } catch let error as EngineRejection {
                for job in jobs { job.cancel() }
                switch error {
                case .queueFull(let limit):
                    self.metrics.rejected.increment()
                    var e = APIError(status: .serviceUnavailable, message: "the server is busy: \(limit) requests are already waiting; retry shortly",
                                     type: "server_busy", code: "queue_full")
                    e.headers[.retryAfter] = "1"
                    throw e
                case .tooManyChoices(let n, let slots):
                    throw APIError.outOfRange("n", "is \(n) but the server decodes at most \(slots) sequences (--parallel)")
                case .shuttingDown:
                    throw APIError(status: .serviceUnavailable, message: "the server is shutting down", type: "unavailable_error")
                }
            }
            self.metrics.requests.increment()
            let promptTokens = prompts.reduce(0) { $0 + $1.ids.count }
            self.metrics.promptTokens.increment(by: Int64(promptTokens))
            context.stats.add(prompt: promptTokens)
            let call = CompletionCall(server: self, chat: chat, jobs: jobs, prompts: prompts, n: sampling.n, echo: echo,
                                      includeUsage: sampling.includeUsage, stats: context.stats)
            if sampling.stream { return call.streamingResponse() }
            return try await withTaskCancellationHandler {
                try await call.wholeResponse()
            } onCancel: {
                for job in jobs { job.cancel() }
            }
        }
    }
}

/// One accepted completion request on its way out: whole JSON or server-sent events.
struct CompletionCall: Sendable {
    let server: DogeServer
    let chat: Bool
    let jobs: [GenerationJob]
    let prompts: [PreparedPrompt]
    let n: Int
    let echo: Bool
    let includeUsage: Bool
    let stats: RequestStats
    let id: String
    let created = Int(Date().timeIntervalSince1970)

    init(server: DogeServer, chat: Bool, jobs: [GenerationJob], prompts: [PreparedPrompt], n: Int, echo: Bool,
         includeUsage: Bool, stats: RequestStats) {
        self.server = server; self.chat = chat; self.jobs = jobs; self.prompts = prompts; self.n = n
        self.echo = echo; self.includeUsage = includeUsage; self.stats = stats
        id = (chat ? "chatcmpl-" : "cmpl-") + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(24)
    }

    var fingerprint: String { "doge-\(server.options.parallel)slots" }
    var promptTokens: Int { prompts.reduce(0) { $0 + $1.ids.count } }

    func usage(_ completion: Int) -> [String: Any] {
        ["prompt_tokens": promptTokens, "completion_tokens": completion, "total_tokens": promptTokens + completion,
         "prompt_tokens_details": ["cached_tokens": 0]]
    }

    func chatLogprobs(_ tokens: [TokenLogprob]) -> [String: Any] {
        ["content": tokens.map { t -> [String: Any] in
            ["token": t.token, "logprob": Double(t.logprob), "bytes": t.bytes.map(Int.init),
             "top_logprobs": t.top.map { ["token": $0.token, "logprob": Double($0.logprob), "bytes": $0.bytes.map(Int.init)] }]
        }]
    }

    func textLogprobs(_ tokens: [TokenLogprob], offset: Int) -> [String: Any] {
        var offsets: [Int] = []
        var at = offset
        for t in tokens { offsets.append(at); at += t.token.unicodeScalars.count }
        return ["tokens": tokens.map(\.token), "token_logprobs": tokens.map { Double($0.logprob) },
                "top_logprobs": tokens.map { t -> [String: Double] in
                    var d: [String: Double] = [:]
                    for alt in t.top where d[alt.token] == nil { d[alt.token] = Double(alt.logprob) }
                    return d
                },
                "text_offset": offsets]
    }

    /// Waits for every choice, then one JSON response.
    func wholeResponse() async throws -> Response {
        var results = Array(repeating: ChoiceResult(), count: jobs.count * n)
        for (p, job) in jobs.enumerated() {
            for await event in job.events {
                switch event {
                case let .text(choice, text, tokens):
                    results[p * n + choice].text += text
                    results[p * n + choice].tokens += tokens
                case let .finished(choice, reason, count):
                    results[p * n + choice].finishReason = reason
                    results[p * n + choice].completionTokens = count
                case .failed(let message):
                    throw APIError(status: .internalServerError, message: "generation failed: \(message)", type: "server_error")
                }
            }
        }
        try Task.checkCancellation()
        let completion = results.reduce(0) { $0 + $1.completionTokens }
        stats.add(generated: completion)
        let wantLogprobs = jobs.first?.topLogprobs != nil
        let choices: [[String: Any]] = results.enumerated().map { i, r in
            if chat {
                return ["index": i, "message": ["role": "assistant", "content": r.text],
                        "logprobs": wantLogprobs ? chatLogprobs(r.tokens) : NSNull(), "finish_reason": r.finishReason]
            }
            let prefix = echo ? prompts[i / n].text : ""
            return ["index": i, "text": prefix + r.text,
                    "logprobs": wantLogprobs ? textLogprobs(r.tokens, offset: prefix.unicodeScalars.count) : NSNull(),
                    "finish_reason": r.finishReason]
        }
        return jsonResponse(["id": id, "object": chat ? "chat.completion" : "text_completion", "created": created,
                             "model": server.options.modelID, "system_fingerprint": fingerprint,
                             "choices": choices, "usage": usage(completion)])
    }

    func chunk(_ choices: [[String: Any]], usage: Any = NSNull()) -> ByteBuffer {
        var object: [String: Any] = ["id": id, "object": chat ? "chat.completion.chunk" : "text_completion", "created": created,
                                     "model": server.options.modelID, "system_fingerprint": fingerprint, "choices": choices]
        if includeUsage { object["usage"] = usage }
        var buffer = ByteBuffer(string: "data: ")
        var json = jsonBuffer(object)
        buffer.writeBuffer(&json)
        buffer.writeString("\n\n")
        return buffer
    }

    func streamChoice(_ index: Int, text: String?, tokens: [TokenLogprob], finish: String?, offset: Int) -> [String: Any] {
        let wantLogprobs = jobs.first?.topLogprobs != nil
        if chat {
            var delta: [String: Any] = [:]
            if let text { delta["content"] = text }
            return ["index": index, "delta": delta, "logprobs": wantLogprobs && !tokens.isEmpty ? chatLogprobs(tokens) : NSNull(),
                    "finish_reason": finish ?? NSNull()]
        }
        return ["index": index, "text": text ?? "",
                "logprobs": wantLogprobs && !tokens.isEmpty ? textLogprobs(tokens, offset: offset) : NSNull(),
                "finish_reason": finish ?? NSNull()]
    }

    /// Server-sent events: a role-first chunk per choice (chat), text chunks, a content-less finish
    /// chunk, the usage chunk when asked, `data: [DONE]`. A failed write (client gone) cancels the jobs.
    func streamingResponse() -> Response {
        let call = self
        let body = ResponseBody { writer in
            let jobs = call.jobs
            do {
                try await withTaskCancellationHandler {
                    try await call.writeEvents(to: &writer)
                } onCancel: {
                    for job in jobs { job.cancel() }
                }
            } catch {
                for job in jobs { job.cancel() }
                throw error
            }
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache",
                                               HTTPField.Name("X-Accel-Buffering")!: "no"], body: body)
    }

    private func writeEvents(to writer: inout any ResponseBodyWriter) async throws {
        if chat {
            for i in 0..<(jobs.count * n) {
                var first = streamChoice(i, text: "", tokens: [], finish: nil, offset: 0)
                first["delta"] = ["role": "assistant", "content": ""]
                try await writer.write(chunk([first]))
            }
        }
        var offsets = Array(repeating: 0, count: jobs.count * n)
        if echo {
            for i in offsets.indices {
                try await writer.write(chunk([streamChoice(i, text: prompts[i / n].text, tokens: [], finish: nil, offset: 0)]))
                offsets[i] = prompts[i / n].text.unicodeScalars.count
            }
        }
        var completion = 0
        for (p, job) in jobs.enumerated() {
            for await event in job.events {
                switch event {
                case let .text(choice, text, tokens):
                    let index = p * n + choice
                    try await writer.write(chunk([streamChoice(index, text: text, tokens: tokens, finish: nil, offset: offsets[index])]))
                    offsets[index] += text.unicodeScalars.count
                case let .finished(choice, reason, count):
                    completion += count
                    stats.add(generated: count)
                    try await writer.write(chunk([streamChoice(p * n + choice, text: chat ? nil : "", tokens: [], finish: reason, offset: 0)]))
                case .failed(let message):
                    let e = APIError(status: .internalServerError, message: "generation failed: \(message)", type: "server_error")
                    var buffer = ByteBuffer(string: "data: ")
                    var json = jsonBuffer(e.body)
                    buffer.writeBuffer(&json)
                    buffer.writeString("\n\n")
                    try await writer.write(buffer)
                }
            }
            try Task.checkCancellation()
        }
        if includeUsage { try await writer.write(chunk([], usage: usage(completion))) }
        try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
        try await writer.finish(nil)
    }
}
