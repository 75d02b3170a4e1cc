import Foundation
import Testing
import Hummingbird
import HummingbirdTesting
import DogeGeneration
@testable import DogeServer

/// Every server test runs one after another: each starts a server whose engine thread computes
/// with the model, and the tests measure slots and steps.
@Suite(.serialized) struct ServerTests {}

enum Shared {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let modelDirectory = root.appendingPathComponent("Models/doge-tiny")
    /// The model, loaded for each server (a model's forward state is not shared across threads).
    static var generator: TextGenerator { try! TextGenerator(directory: modelDirectory) }
}

/// Starts a live server on a free loopback port, runs `body`, stops the engine.
func withServer(_ configure: (inout ServerOptions) -> Void = { _ in },
                _ body: @Sendable (any TestClientProtocol, DogeServer) async throws -> Void) async throws {
    var options = ServerOptions()
    options.port = 0
    options.parallel = 4
    configure(&options)
    let server = try DogeServer(generator: Shared.generator, options: options)
    defer { server.engine.shutdown(timeout: 0) }
    try await server.makeApplication().test(.live) { client in try await body(client, server) }
}

extension TestClient.Configuration {
    /// A read timeout for a loaded 2-core machine and sanitizer builds (ThreadSanitizer runs the
    /// model ~10× slower), where HummingbirdTesting's 15 s default cuts off long generations.
    static var patient: Self { .init(timeout: .seconds(180)) }
}

/// Busy slots once the engine has published its last step: a reply can reach the client just
/// before the engine thread updates its status, so tests wait (up to 5 s) instead of racing it.
func busySlotsWhenSettled(_ server: DogeServer) async throws -> Int {
    let start = ContinuousClock.now
    while server.engine.currentStatus.busySlots != 0 && ContinuousClock.now - start < .seconds(5) {
        try await Task.sleep(for: .milliseconds(5))
    }
    return server.engine.currentStatus.busySlots
}

func json(_ object: Any) -> ByteBuffer {
    ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object))
}

/// A response read whole.
struct Reply: Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: ByteBuffer

    var object: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
    }
    var text: String { String(buffer: body) }

    /// The `data:` payloads of a server-sent-event body.
    var events: [String] {
        text.components(separatedBy: "\n\n").compactMap { block in
            block.hasPrefix("data: ") ? String(block.dropFirst(6)) : nil
        }
    }

    var eventObjects: [[String: Any]] {
        events.filter { $0 != "[DONE]" }.map { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? [:] }
    }
}

extension TestClientProtocol {
    /// One request on a new connection (completion routes close theirs after answering).
    func send(_ uri: String, method: HTTPRequest.Method, headers: HTTPFields = [:], body: ByteBuffer? = nil) async throws -> Reply {
        try await TestClient.withClient(host: "127.0.0.1", port: port!, configuration: .patient) { c in
            let r = try await c.execute(TestClient.Request(uri, method: method, headers: headers, body: body))
            return Reply(status: r.status, headers: r.headers, body: r.body ?? ByteBuffer())
        }
    }

    func postJSON(_ uri: String, _ object: Any, headers: HTTPFields = [:]) async throws -> Reply {
        var h = headers
        h[.contentType] = "application/json"
        return try await send(uri, method: .post, headers: h, body: json(object))
    }

    func get(_ uri: String, headers: HTTPFields = [:]) async throws -> Reply {
        try await send(uri, method: .get, headers: headers)
    }
}

/// A chat completion's content, non-streamed.
func content(_ response: Reply) -> String? {
    ((response.object["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String
}

/// The content streamed for one choice.
func streamedContent(_ response: Reply, choice: Int = 0) -> String {
    response.eventObjects.flatMap { ($0["choices"] as? [[String: Any]]) ?? [] }
        .filter { ($0["index"] as? Int) == choice }
        .compactMap { ($0["delta"] as? [String: Any])?["content"] as? String ?? $0["text"] as? String }
        .joined()
}
