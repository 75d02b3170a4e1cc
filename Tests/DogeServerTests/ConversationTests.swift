import Foundation
import Testing
import Hummingbird
import HummingbirdTesting
@testable import DogeServer

final class Box: @unchecked Sendable { var value = ByteBuffer() }

/// The page's conversations: create, list, rename, delete, export, import — and a restart keeps them.
extension ServerTests {
@Suite struct ConversationTests {
    @Test func crudExportImportAndRestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("doge-conv-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("chats.sqlite").path
        let exported = Box()
        try await withServer({ $0.databasePath = path }) { client, _ in
            let messages: [[String: Any]] = [["role": "user", "content": "Hi"], ["role": "assistant", "content": "Hello!", "tokens_per_second": 123.5]]
            let created = try await client.postJSON("/api/conversations", ["title": "First", "system": "Be kind.", "messages": messages])
            #expect(created.status == .created)
            let id = created.object["id"] as? String ?? ""
            _ = try await client.postJSON("/api/conversations", ["title": "Second"])
            let renamed = try await client.send("/api/conversations/\(id)", method: .patch,
                                                headers: [.contentType: "application/json"], body: json(["title": "Renamed"]))
            #expect(renamed.object["title"] as? String == "Renamed")
            #expect((renamed.object["messages"] as? [[String: Any]])?.count == 2)
            let list = try await client.get("/api/conversations")
            #expect((list.object["data"] as? [[String: Any]])?.count == 2)
            let bad = try await client.postJSON("/api/conversations", ["messages": [["role": "robot", "content": "x"]]])
            #expect(bad.status == .badRequest)
            exported.value = try await client.get("/api/conversations/export").body
            let second = (list.object["data"] as? [[String: Any]])?.first { $0["title"] as? String == "Second" }?["id"] as? String ?? ""
            #expect(try await client.send("/api/conversations/\(second)", method: .delete).status == .ok)
            #expect(try await client.get("/api/conversations/\(second)").status == .notFound)
        }
        // Restart on the same file: the remaining conversation is there, messages intact.
        try await withServer({ $0.databasePath = path }) { client, _ in
            let list = try await client.get("/api/conversations")
            let data = list.object["data"] as? [[String: Any]] ?? []
            #expect(data.map { $0["title"] as? String } == ["Renamed"])
            let full = try await client.get("/api/conversations/\(data.first?["id"] as? String ?? "")")
            #expect(full.object["system"] as? String == "Be kind.")
            let kept = full.object["messages"] as? [[String: Any]] ?? []
            #expect(kept.map { $0["content"] as? String } == ["Hi", "Hello!"])
            #expect(kept.last?["tokens_per_second"] as? Double == 123.5)
            // Import what was exported: two more conversations.
            let imported = try await client.send("/api/conversations/import", method: .post,
                                                 headers: [.contentType: "application/json"], body: exported.value)
            #expect(imported.object["imported"] as? Int == 2)
            let after = try await client.get("/api/conversations")
            #expect((after.object["data"] as? [[String: Any]])?.count == 3)
        }
    }
}
}
