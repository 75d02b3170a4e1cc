import Foundation
import DogeJSON
import GRDB
import Hummingbird

/// The chat page's conversations, kept in SQLite (GRDB) so a restart keeps them; listed, renamed,
/// deleted, exported and imported through /api/conversations.
public final class ConversationStore: Sendable {
    let db: DatabaseQueue

    /// `path` nil: an in-memory database (tests).
    public init(path: String?) throws {
        if let path {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            db = try DatabaseQueue(path: path)
        } else {
            db = try DatabaseQueue()
        }
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "conversation") { t in
                t.primaryKey("id", .text)
                t.column("title", .text).notNull()
                t.column("system", .text).notNull().defaults(to: "")
                t.column("messages", .text).notNull().defaults(to: "[]")   // JSON: [{role, content, tokens_per_second?}]
                t.column("created_at", .double).notNull()
                t.column("updated_at", .double).notNull()
            }
        }
        try migrator.migrate(db)
    }

    /// A conversation as the API sends it.
    struct Conversation {
        var id: String
        var title: String
        var system: String
        var messages: [[String: Any]]
        var createdAt: Double
        var updatedAt: Double

        var summary: [String: Any] {
            ["id": id, "title": title, "created_at": createdAt, "updated_at": updatedAt, "message_count": messages.count]
        }
        var full: [String: Any] {
            ["id": id, "title": title, "system": system, "messages": messages, "created_at": createdAt, "updated_at": updatedAt]
        }

        init(row: Row) {
            id = row["id"]; title = row["title"]; system = row["system"]
            createdAt = row["created_at"]; updatedAt = row["updated_at"]
            let text: String = row["messages"]
            messages = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [[String: Any]] ?? []
        }

        init(id: String, title: String, system: String, messages: [[String: Any]], createdAt: Double, updatedAt: Double) {
            self.id = id; self.title = title; self.system = system; self.messages = messages
            self.createdAt = createdAt; self.updatedAt = updatedAt
        }
    }

    func list() throws -> [Conversation] {
        try db.read { db in try Row.fetchAll(db, sql: "SELECT * FROM conversation ORDER BY updated_at DESC").map(Conversation.init) }
    }

    func get(_ id: String) throws -> Conversation? {
        try db.read { db in try Row.fetchOne(db, sql: "SELECT * FROM conversation WHERE id = ?", arguments: [id]).map(Conversation.init) }
    }

    func save(_ c: Conversation) throws {
        let messages = String(decoding: try JSONSerialization.data(withJSONObject: c.messages), as: UTF8.self)
        try db.write { db in
            try db.execute(sql: """
                INSERT INTO conversation (id, title, system, messages, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET title = excluded.title, system = excluded.system, messages = excluded.messages,
                updated_at = excluded.updated_at
                """, arguments: [c.id, c.title, c.system, messages, c.createdAt, c.updatedAt])
        }
    }

    func delete(_ id: String) throws -> Bool {
        try db.write { db in
            try db.execute(sql: "DELETE FROM conversation WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    /// Reads {title?, system?, messages?} over an existing conversation (or a new one).
    static func apply(_ f: RequestFields, to c: inout Conversation, param prefix: String = "") throws {
        if let title = try f.string("title") { c.title = String(title.prefix(200)) }
        if let system = try f.string("system") { c.system = system }
        if let node = f.value("messages") {
            guard case .array(let items) = node else { throw APIError.wrongType(prefix + "messages", expected: "a list of messages") }
            c.messages = try items.enumerated().map { i, item in
                guard case .object(let members) = item else { throw APIError.wrongType("\(prefix)messages[\(i)]", expected: "an object") }
                var m: [String: Any] = [:]
                for (k, v) in members {
                    switch (k, v) {
                    case ("role", .string(let r)):
                        guard MessageParser.roles.contains(r) else { throw APIError.invalid("'\(prefix)messages[\(i)].role' is not a chat role: '\(r)'", param: "\(prefix)messages[\(i)].role") }
                        m["role"] = r
                    case ("content", .string(let s)): m["content"] = s
                    case ("tokens_per_second", .double(let d)): m["tokens_per_second"] = d
                    case ("tokens_per_second", .int(let d)): m["tokens_per_second"] = Double(d)
                    default: break
                    }
                }
                guard m["role"] != nil, m["content"] != nil else {
                    throw APIError.invalid("'\(prefix)messages[\(i)]' needs a string 'role' and 'content'", param: "\(prefix)messages[\(i)]")
                }
                return m
            }
        }
    }

    static func newID() -> String { UUID().uuidString.lowercased() }

    func addRoutes(to router: Router<DogeRequestContext>, server: DogeServer) {
        let group = router.group("/api/conversations")
        group.get { _, _ in jsonResponse(["data": try self.list().map(\.summary)]) }
        group.post { request, _ in
            let f = try RequestFields(try await server.readBody(request.body))
            let now = Date().timeIntervalSince1970
            var c = Conversation(id: Self.newID(), title: "New chat", system: "", messages: [], createdAt: now, updatedAt: now)
            try Self.apply(f, to: &c)
            try self.save(c)
            return jsonResponse(c.full, status: .created)
        }
        group.get("export") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json",
                                            .contentDisposition: "attachment; filename=\"doge-conversations.json\""],
                     body: .init(byteBuffer: jsonBuffer(["version": 1, "conversations": try self.list().map(\.full)])))
        }
        group.post("import") { request, _ in
            let bytes = try await server.readBody(request.body)
            let node: JSONNode
            do { node = try JSONNode.parse(bytes) } catch { throw APIError.invalid("the import is not valid JSON: \(error)", code: "invalid_json") }
            var items: [JSONNode] = []
            switch node {
            case .array(let list): items = list
            case .object(let members):
                guard case .array(let list)? = members.last(where: { $0.key == "conversations" })?.value else {
                    throw APIError.invalid("expected {\"conversations\": [...]} or a list of conversations", param: "conversations")
                }
                items = list
            default: throw APIError.invalid("expected {\"conversations\": [...]} or a list of conversations", param: "conversations")
            }
            var imported: [Conversation] = []
            for (i, item) in items.enumerated() {
                guard case .object = item else { throw APIError.wrongType("conversations[\(i)]", expected: "an object") }
                let f = try RequestFields(node: item)
                let now = Date().timeIntervalSince1970
                var c = Conversation(id: Self.newID(), title: "Imported chat", system: "", messages: [],
                                     createdAt: try f.double("created_at") ?? now, updatedAt: try f.double("updated_at") ?? now)
                try Self.apply(f, to: &c, param: "conversations[\(i)].")
                imported.append(c)
            }
            for c in imported { try self.save(c) }   // all or nothing: validated first
            return jsonResponse(["imported": imported.count, "ids": imported.map(\.id)])
        }
        group.get(":id") { _, context in
            guard let id = context.parameters.get("id"), let c = try self.get(id) else { throw Self.missing(context) }
            return jsonResponse(c.full)
        }
        for method in [HTTPRequest.Method.put, .patch] {
            group.on(":id", method: method) { request, context in
                guard let id = context.parameters.get("id"), var c = try self.get(id) else { throw Self.missing(context) }
                let f = try RequestFields(try await server.readBody(request.body))
                try Self.apply(f, to: &c)
                c.updatedAt = Date().timeIntervalSince1970
                try self.save(c)
                return jsonResponse(c.full)
            }
        }
        group.delete(":id") { _, context in
            guard let id = context.parameters.get("id"), try self.delete(id) else { throw Self.missing(context) }
            return jsonResponse(["id": id, "deleted": true])
        }
    }

    static func missing(_ context: DogeRequestContext) -> APIError {
        APIError(status: .notFound, message: "no conversation '\(context.parameters.get("id") ?? "")'", type: "not_found_error",
                 param: "id", code: "conversation_not_found")
    }
}

extension RequestFields {
    init(node: JSONNode) throws {
        guard case .object(let list) = node else { throw APIError.invalid("expected a JSON object") }
        var m: [String: JSONNode] = [:]
        for (k, v) in list { m[k] = v }
        self.init(members: m)
    }
}
