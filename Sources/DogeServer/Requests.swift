import Foundation
import DogeGeneration
import DogeJSON

/// A JSON request body's top-level object, read field by field with OpenAI-style 400 errors that
/// name the parameter. Unknown fields are ignored; for a repeated key the last one wins.
struct RequestFields {
    let members: [String: JSONNode]

    init(members: [String: JSONNode]) { self.members = members }

    init(_ bytes: [UInt8]) throws {
        let node: JSONNode
        do { node = try JSONNode.parse(bytes) } catch {
            throw APIError.invalid("the request body is not valid JSON: \(error)", code: "invalid_json")
        }
        guard case .object(let list) = node else { throw APIError.invalid("the request body must be a JSON object", code: "invalid_json") }
        var m: [String: JSONNode] = [:]
        for (k, v) in list { m[k] = v }
        members = m
    }

    /// nil for absent or null.
    func value(_ key: String) -> JSONNode? {
        switch members[key] { case nil, .null?: return nil; case let v?: return v }
    }

    func double(_ key: String) throws -> Double? {
        switch value(key) {
        case nil: return nil
        case .int(let i)?: return Double(i)
        case .double(let d)?: return d
        default: throw APIError.wrongType(key, expected: "a number")
        }
    }

    func int(_ key: String) throws -> Int? {
        switch value(key) {
        case nil: return nil
        case .int(let i)?: return i
        case .double(let d)? where d == d.rounded() && abs(d) < 1e15: return Int(d)
        default: throw APIError.wrongType(key, expected: "an integer")
        }
    }

    func bool(_ key: String) throws -> Bool? {
        switch value(key) {
        case nil: return nil
        case .bool(let b)?: return b
        default: throw APIError.wrongType(key, expected: "a boolean")
        }
    }

    func string(_ key: String) throws -> String? {
        switch value(key) {
        case nil: return nil
        case .string(let s)?: return s
        default: throw APIError.wrongType(key, expected: "a string")
        }
    }
}

/// The sampling fields shared by chat and text completions.
struct SamplingRequest {
    var config: GenerationConfig
    var n: Int
    var stream: Bool
    var includeUsage: Bool

    /// Request fields over the model's generation_config.json defaults. Temperature 0 is greedy.
    init(_ f: RequestFields, defaults: GenerationConfig, slots: Int) throws {
        var c = defaults
        if c.maxNewTokens == GenerationConfig().maxNewTokens { c.maxNewTokens = 256 }
        let maxTokens = try f.int("max_completion_tokens") ?? f.int("max_tokens")
        if let m = maxTokens {
            guard m >= 1 else { throw APIError.outOfRange(f.value("max_completion_tokens") != nil ? "max_completion_tokens" : "max_tokens", "must be at least 1, got \(m)") }
            c.maxNewTokens = m
        }
        if let t = try f.double("temperature") {
            guard t >= 0 && t <= 2 else { throw APIError.outOfRange("temperature", "must be between 0 and 2, got \(t)") }
            // Below 1e-5 is greedy, as vLLM (_SAMPLING_EPS): logits divided by a tinier one overflow Float.
            if t < 1e-5 { c.doSample = false } else { c.doSample = true; c.temperature = Float(t) }
        }
        if let p = try f.double("top_p") {
            guard p > 0 && p <= 1 else { throw APIError.outOfRange("top_p", "must be in (0, 1], got \(p)") }
            c.topP = Float(p)
        }
        if let k = try f.int("top_k") {
            guard k >= -1 else { throw APIError.outOfRange("top_k", "must be ≥ 0 (0 or -1 disables it), got \(k)") }
            c.topK = max(k, 0)
        }
        if let m = try f.double("min_p") {
            guard m >= 0 && m <= 1 else { throw APIError.outOfRange("min_p", "must be in [0, 1], got \(m)") }
            c.minP = Float(m)
        }
        if let r = try f.double("repetition_penalty") {
            guard r > 0 && r <= 10 else { throw APIError.outOfRange("repetition_penalty", "must be in (0, 10], got \(r)") }
            c.repetitionPenalty = Float(r)
        }
        if let s = try f.int("seed") { c.seed = UInt64(bitPattern: Int64(s)) } else { c.seed = UInt64.random(in: 0...UInt64.max) }
        switch f.value("stop") {
        case nil: c.stopStrings = []
        case .string(let s)?: c.stopStrings = [s]
        case .array(let items)?:
            c.stopStrings = try items.map { item in
                guard case .string(let s) = item else { throw APIError.wrongType("stop", expected: "a string or a list of strings") }
                return s
            }
            guard c.stopStrings.count <= 16 else { throw APIError.outOfRange("stop", "may hold at most 16 strings") }
        default: throw APIError.wrongType("stop", expected: "a string or a list of strings")
        }
        if c.stopStrings.contains("") { throw APIError.outOfRange("stop", "must not contain an empty string") }
        // vLLM's min_tokens and llama.cpp's ignore_eos (benchmarks: fixed-length generations).
        if let m = try f.int("min_tokens") {
            guard m >= 0 else { throw APIError.outOfRange("min_tokens", "must be ≥ 0, got \(m)") }
            c.minNewTokens = m
        }
        if try f.bool("ignore_eos") == true { c.eosTokenIds = [] }
        n = try f.int("n") ?? 1
        guard n >= 1 && n <= slots else { throw APIError.outOfRange("n", "must be between 1 and the server's --parallel (\(slots)), got \(n)") }
        stream = try f.bool("stream") ?? false
        switch f.value("stream_options") {
        case nil: includeUsage = false
        case .object(let members)?:
            switch members.last(where: { $0.key == "include_usage" })?.value {
            case nil, .null?: includeUsage = false
            case .bool(let b)?: includeUsage = b
            default: throw APIError.wrongType("stream_options.include_usage", expected: "a boolean")
            }
        default: throw APIError.wrongType("stream_options", expected: "an object")
        }
        do { try c.validate() } catch let e as GenerationError {
            // e.g. a temperature so small that it is 0 as a Float.
            if case .invalidSetting(let name, _) = e { throw APIError.invalid(e.description, param: name, code: "invalid_value") }
            throw APIError.invalid(e.description)
        }
        config = c
    }

    /// Choice i's config: its own seed (seed + i), as `TokenGenerator` seeds batch rows.
    var configs: [GenerationConfig] {
        (0..<n).map { i in var c = config; c.seed = config.seed &+ UInt64(i); return c }
    }
}

/// A chat message as the template sees it.
struct ParsedMessage {
    var role: String
    var content: String
}

enum MessageParser {
    static let roles: Set<String> = ["system", "user", "assistant", "tool", "developer"]

    /// `messages`: a non-empty list of {role, content}, content a string or text parts.
    static func parse(_ node: JSONNode?) throws -> [ParsedMessage] {
        guard let node else { throw APIError.invalid("'messages' is required", param: "messages", code: "missing_required_parameter") }
        guard case .array(let items) = node else { throw APIError.wrongType("messages", expected: "a list of message objects") }
        guard !items.isEmpty else { throw APIError.outOfRange("messages", "must contain at least one message") }
        return try items.enumerated().map { i, item in
            let param = "messages[\(i)]"
            guard case .object(let list) = item else { throw APIError.wrongType(param, expected: "an object with 'role' and 'content'") }
            var m: [String: JSONNode] = [:]
            for (k, v) in list { m[k] = v }
            guard case .string(let role)? = m["role"] else {
                throw APIError.invalid("'\(param).role' is required and must be a string", param: "\(param).role")
            }
            guard roles.contains(role) else {
                throw APIError.invalid("'\(param).role' must be one of system, user, assistant, tool, developer; got '\(role)'", param: "\(param).role")
            }
            var text = ""
            switch m["content"] {
            case .string(let s)?: text = s
            case .null?: text = ""   // an assistant turn that only called tools
            case nil where role == "assistant": text = ""
            case .array(let parts)?:
                for (j, part) in parts.enumerated() {
                    guard case .object(let fields) = part,
                          case .string(let type)? = fields.last(where: { $0.key == "type" })?.value else {
                        throw APIError.wrongType("\(param).content[\(j)]", expected: "a content part object with a 'type'")
                    }
                    guard type == "text", case .string(let t)? = fields.last(where: { $0.key == "text" })?.value else {
                        throw APIError.invalid("'\(param).content[\(j)]': only text parts are supported, got '\(type)'", param: "\(param).content")
                    }
                    text += t
                }
            case nil: throw APIError.invalid("'\(param).content' is required", param: "\(param).content")
            default: throw APIError.wrongType("\(param).content", expected: "a string or a list of content parts")
            }
            return ParsedMessage(role: role, content: text)
        }
    }
}

/// `prompt` of /v1/completions: a string, a list of strings, a list of ids, or a list of id lists.
enum PromptParser {
    enum Item { case text(String), ids([Int]) }

    static func parse(_ node: JSONNode?) throws -> [Item] {
        guard let node else { throw APIError.invalid("'prompt' is required", param: "prompt", code: "missing_required_parameter") }
        func ids(_ list: [JSONNode], _ param: String) throws -> [Int] {
            try list.map { guard case .int(let i) = $0 else { throw APIError.wrongType(param, expected: "a list of token ids") }; return i }
        }
        switch node {
        case .string(let s): return [.text(s)]
        case .array(let items) where items.isEmpty: throw APIError.outOfRange("prompt", "must not be empty")
        case .array(let items):
            switch items[0] {
            case .int: return [.ids(try ids(items, "prompt"))]
            case .string:
                return try items.map { guard case .string(let s) = $0 else { throw APIError.wrongType("prompt", expected: "a list of strings") }; return .text(s) }
            case .array:
                return try items.map { guard case .array(let l) = $0 else { throw APIError.wrongType("prompt", expected: "a list of token id lists") }; return .ids(try ids(l, "prompt")) }
            default: throw APIError.wrongType("prompt", expected: "a string, a list of strings or a list of token ids")
            }
        default: throw APIError.wrongType("prompt", expected: "a string, a list of strings or a list of token ids")
        }
    }
}
