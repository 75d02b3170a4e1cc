import Foundation
import Testing
import Hummingbird
import HummingbirdTesting
@testable import DogeServer

/// Bad requests get OpenAI-shaped errors with the right status; slots free when clients leave.
extension ServerTests {
@Suite struct ErrorAndSlotTests {
    static func expectError(_ r: Reply, _ status: HTTPResponse.Status, param: String? = nil, type: String? = nil,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == status, "\(r.text)", sourceLocation: sourceLocation)
        let error = r.object["error"] as? [String: Any]
        #expect(error?["message"] as? String != nil, "\(r.text)", sourceLocation: sourceLocation)
        #expect(error?.keys.contains("param") == true && error?.keys.contains("code") == true, sourceLocation: sourceLocation)
        if let param { #expect(error?["param"] as? String == param, "\(r.text)", sourceLocation: sourceLocation) }
        if let type { #expect(error?["type"] as? String == type, sourceLocation: sourceLocation) }
    }

    @Test func badRequestsAre400WithTheParameter() async throws {
        try await withServer { client, _ in
            let malformed = try await client.send("/v1/chat/completions", method: .post, headers: [.contentType: "application/json"],
                                                  body: ByteBuffer(string: "{\"messages\": ["))
            Self.expectError(malformed, .badRequest, type: "invalid_request_error")
            let user = ["role": "user", "content": "hi"]
            let cases: [([String: Any], String)] = [
                (["messages": "hello"], "messages"),
                (["messages": []], "messages"),
                (["messages": [123]], "messages[0]"),
                (["messages": [[:]]], "messages[0].role"),
                (["messages": [["role": "wizard", "content": "x"]]], "messages[0].role"),
                (["messages": [user], "temperature": 3], "temperature"),
                (["messages": [user], "temperature": "hot"], "temperature"),
                (["messages": [user], "top_p": 0], "top_p"),
                (["messages": [user], "max_tokens": 0], "max_tokens"),
                (["messages": [user], "n": 0], "n"),
                (["messages": [user], "n": 99], "n"),
                (["messages": [user], "stop": 5], "stop"),
                (["messages": [user], "top_logprobs": 3], "top_logprobs"),
                (["messages": [user], "stream": "yes"], "stream"),
            ]
            for (body, param) in cases {
                Self.expectError(try await client.postJSON("/v1/chat/completions", body), .badRequest, param: param)
            }
            Self.expectError(try await client.postJSON("/v1/completions", ["prompt": [999_999]]), .badRequest, param: "prompt")
            Self.expectError(try await client.postJSON("/v1/completions", [:]), .badRequest, param: "prompt")
            // Longer than the model's context (2048 positions).
            let long = try await client.postJSON("/v1/completions", ["prompt": Array(repeating: 5, count: 2049)])
            Self.expectError(long, .badRequest)
            #expect((long.object["error"] as? [String: Any])?["code"] as? String == "context_length_exceeded")
            let stream = try await client.postJSON("/v1/completions", ["prompt": Array(repeating: 5, count: 2049), "stream": true])
            Self.expectError(stream, .badRequest)
            Self.expectError(try await client.get("/v1/nothing"), .notFound, type: "not_found_error")
        }
    }

    @Test func bodyLimitIs413() async throws {
        try await withServer({ $0.maxBodyBytes = 4096 }) { client, _ in
            let big = String(repeating: "a", count: 10_000)
            Self.expectError(try await client.postJSON("/v1/completions", ["prompt": big]), .contentTooLarge)
        }
    }

    @Test func apiKeysAndCORS() async throws {
        try await withServer({ $0.apiKeys = ["k1", "k2"] }) { client, _ in
            let body: [String: Any] = ["prompt": "Hi", "max_tokens": 2]
            Self.expectError(try await client.postJSON("/v1/completions", body), .unauthorized, type: "authentication_error")
            Self.expectError(try await client.postJSON("/v1/completions", body, headers: [.authorization: "Bearer nope"]), .unauthorized)
            #expect(try await client.postJSON("/v1/completions", body, headers: [.authorization: "Bearer k2"]).status == .ok)
            #expect(try await client.postJSON("/v1/completions", body, headers: [.init("X-Api-Key")!: "k1"]).status == .ok)
            #expect(try await client.get("/health").status == .ok)
            let page = try await client.get("/")
            #expect(page.status == .ok)
            #expect(page.text.lowercased().hasPrefix("<!doctype html>"))
            Self.expectError(try await client.get("/v1/models"), .unauthorized)
            // Preflight is answered before authentication.
            let preflight = try await client.send("/v1/chat/completions", method: .options,
                                                  headers: [.origin: "http://example.test", .accessControlRequestMethod: "POST"])
            #expect(preflight.status.kind == .successful)
            #expect(preflight.headers[.accessControlAllowOrigin] == "http://example.test")
            #expect(preflight.headers[.accessControlAllowHeaders]?.lowercased().contains("authorization") == true)
            #expect(preflight.headers[.accessControlAllowHeaders]?.lowercased().contains("x-api-key") == true)
        }
    }

    @Test func noWebUIMeans404() async throws {
        try await withServer({ $0.webUI = false }) { client, _ in
            Self.expectError(try await client.get("/"), .notFound)
        }
    }

    /// One slot and no queue: a second request while the first decodes gets 503 with Retry-After.
    @Test func fullQueueIs503() async throws {
        try await withServer({ $0.parallel = 1; $0.queueLimit = 0 }) { client, server in
            let port = client.port!
            let long = Task {
                // A 300-token debug-build generation on a loaded CI machine can go past the test
                // client's default 15 s read timeout; the answer arrives whole at the end.
                try await TestClient.withClient(host: "127.0.0.1", port: port, configuration: .patient) { c in
                    _ = try await c.post("/v1/completions", headers: [.contentType: "application/json"],
                                         body: json(["prompt": "Once", "max_tokens": 300, "temperature": 0, "ignore_eos": true]))
                }
            }
            let start = ContinuousClock.now
            while server.engine.currentStatus.busySlots == 0 && ContinuousClock.now - start < .seconds(10) {
                try await Task.sleep(for: .milliseconds(5))
            }
            let r = try await client.postJSON("/v1/completions", ["prompt": "Hi", "max_tokens": 2])
            Self.expectError(r, .serviceUnavailable)
            #expect(r.headers[.retryAfter] == "1")
            try await long.value
        }
    }

    /// More requests than slots: the rest wait and join as slots free up, several in one step.
    @Test func waitingRequestsJoinAsSlotsFree() async throws {
        try await withServer({ $0.parallel = 2 }) { client, server in
            let port = client.port!
            let replies = try await withThrowingTaskGroup(of: String.self) { group in
                for i in 0..<7 {
                    group.addTask {
                        try await TestClient.withClient(host: "127.0.0.1", port: port, configuration: .patient) { c in
                            let r = try await c.post("/v1/completions", headers: [.contentType: "application/json"],
                                                     body: json(["prompt": "Dogs \(i)", "max_tokens": 6 + i, "stream": true, "seed": i]))
                            return String(buffer: r.body ?? ByteBuffer())
                        }
                    }
                }
                var all: [String] = []
                for try await r in group { all.append(r) }
                return all
            }
            #expect(replies.count == 7)
            for r in replies {
                #expect(!r.contains("\"error\""), "\(r)")
                #expect(r.hasSuffix("data: [DONE]\n\n"))
            }
            #expect(try await busySlotsWhenSettled(server) == 0)
        }
    }

    /// A streaming client that disconnects frees its slot within a step or so.
    @Test func disconnectFreesTheSlot() async throws {
        try await withServer { client, server in
            let port = client.port!
            for stream in [true, false] {
                let c = TestClient(host: "127.0.0.1", port: port)
                c.connect()
                try await c.executeAndDontWaitForResponse(.init("/v1/completions", method: .post, headers: [.contentType: "application/json"],
                                                                body: json(["prompt": "Once", "max_tokens": 2000, "stream": stream, "ignore_eos": true])))
                var waited = 0
                while server.engine.currentStatus.busySlots == 0 && waited < 2000 { try await Task.sleep(for: .milliseconds(5)); waited += 5 }
                #expect(server.engine.currentStatus.busySlots == 1)
                try await c.shutdown()   // returns once the connection is closed
                let stepsBefore = server.engine.currentStatus.steps
                let start = ContinuousClock.now
                while server.engine.currentStatus.busySlots != 0 && ContinuousClock.now - start < .seconds(5) {
                    try await Task.sleep(for: .milliseconds(2))
                }
                #expect(server.engine.currentStatus.busySlots == 0, "stream: \(stream)")
                let steps = server.engine.currentStatus.steps - stepsBefore
                print("disconnect (stream: \(stream)): slot free after \(steps) engine steps, \(ContinuousClock.now - start)")
                // The step in flight when the client left, then the one that notices.
                #expect(steps <= 2, "stream: \(stream)")
            }
        }
    }
}
}
