import Foundation
import DogeJinja
import DogeJSON
import Hummingbird

extension DogeServer {
    /// /health, /metrics, /props and llama.cpp's /tokenize, /detokenize, /apply-template.
    func addUtilityRoutes(to router: Router<DogeRequestContext>) {
        for path in ["/health", "/v1/health"] {
            router.get(RouterPath(path)) { _, _ in jsonResponse(["status": "ok"]) }
        }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(string: self.metrics.render(self.engine.currentStatus))))
        }
        router.get("/props") { _, _ in
            let d = self.generator.defaults
            func round4(_ x: Float) -> Double { (Double(x) * 1e4).rounded() / 1e4 }
            let status = self.engine.currentStatus
            return jsonResponse([
                "model": self.options.modelID, "total_slots": self.options.parallel, "busy_slots": status.busySlots,
                "queued": status.queued, "n_ctx": self.generator.model.config.maxPositionEmbeddings,
                "chat_template": (try? self.generator.tokenizer.chatTemplate()) ?? NSNull(),
                "default_generation_settings": [
                    "temperature": d.doSample ? round4(d.temperature) : 0, "top_p": round4(d.topP), "top_k": d.topK,
                    "min_p": d.minP.map(round4) ?? 0, "repetition_penalty": round4(d.repetitionPenalty),
                    "max_tokens": d.maxNewTokens,
                ] as [String: Any],
            ])
        }
        router.post("/tokenize") { request, _ in
            let f = try RequestFields(try await self.readBody(request.body))
            guard let content = try f.string("content") else { throw APIError.invalid("'content' is required and must be a string", param: "content") }
            let addSpecial = try f.bool("add_special") ?? false
            let ids = self.generator.tokenizer.encode(content, addSpecialTokens: addSpecial)
            guard try f.bool("with_pieces") == true else { return jsonResponse(["tokens": ids]) }
            return jsonResponse(["tokens": ids.map { id -> [String: Any] in
                let piece = (try? self.generator.tokenizer.decode([id])) ?? ""
                // A piece that is not whole UTF-8 goes out as its bytes, as llama.cpp does.
                return ["id": id, "piece": piece.contains("\u{FFFD}") ? Array(piece.utf8).map(Int.init) as Any : piece]
            }])
        }
        router.post("/detokenize") { request, _ in
            let f = try RequestFields(try await self.readBody(request.body))
            guard case .array(let items)? = f.value("tokens") else { throw APIError.wrongType("tokens", expected: "a list of token ids") }
            let vocab = self.generator.model.config.vocabSize
            let ids = try items.map { node -> Int in
                guard case .int(let i) = node, i >= 0, i < vocab else {
                    throw APIError.outOfRange("tokens", "must hold token ids in 0..<\(vocab)")
                }
                return i
            }
            return jsonResponse(["content": try self.generator.tokenizer.decode(ids)])
        }
        router.post("/apply-template") { request, _ in
            let f = try RequestFields(try await self.readBody(request.body))
            let messages = try MessageParser.parse(f.value("messages"))
            let values: [JinjaValue] = messages.map { .object([("role", .string($0.role)), ("content", .string($0.content))]) }
            do {
                return jsonResponse(["prompt": try self.generator.tokenizer.applyChatTemplate(messages: values, addGenerationPrompt: true)])
            } catch {
                throw APIError.invalid("the chat template rejected the messages: \(error)", param: "messages")
            }
        }
    }
}
