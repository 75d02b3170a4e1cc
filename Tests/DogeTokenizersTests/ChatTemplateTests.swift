import DogeJinja
import Foundation
import Testing
@testable import DogeTokenizers

/// Converts a fixture JSON value into a template value (keys in order).
func jinjaValue(_ node: JSONNode) -> JinjaValue {
    switch node {
    case .null: .null
    case let .bool(value): .bool(value)
    case let .int(value): .int(value)
    case let .double(value): .double(value)
    case let .string(value): .string(value)
    case let .array(items): .array(items.map(jinjaValue))
    case let .object(members): .object(members.map { ($0.key, jinjaValue($0.value)) })
    }
}

@Suite("Chat templates")
struct ChatTemplateTests {
    @Test("apply_chat_template matches transformers", arguments: ["chat_llama3", "chat_llama2"])
    func matchesTransformers(name: String) throws {
        let folder = Fixtures.url("chat/\(name)")
        let tokenizer = try Tokenizer(directory: folder)
        let fixture = try Fixtures.json(folder.appendingPathComponent("chat.json"))
        let conversations = try fixture["conversations"].array()
        let expected = try fixture["expected"].array()
        for (conversation, want) in zip(conversations, expected) {
            var extra: [String: JinjaValue] = [:]
            for (key, value) in try conversation.members()
            where !["messages", "tools", "documents", "add_generation_prompt"].contains(key) {
                extra[key] = jinjaValue(value.node)
            }
            let tools = conversation["tools"].isNull ? nil : try conversation["tools"].array().map { jinjaValue($0.node) }
            let documents = conversation["documents"].isNull ? nil : try conversation["documents"].array().map { jinjaValue($0.node) }
            let messages = try conversation["messages"].array().map { jinjaValue($0.node) }
            let addPrompt = try conversation["add_generation_prompt"].bool(default: false)
            let templateName = try want["template"].optionalString()
            let text = try tokenizer.applyChatTemplate(messages: messages, tools: tools, documents: documents,
                                                       addGenerationPrompt: addPrompt, extraContext: extra, templateName: templateName)
            #expect(scalars(text) == scalars(try want["text"].string()), "\(name): \(describe(text))")
            let ids = try tokenizer.applyChatTemplateIDs(messages: messages, tools: tools, documents: documents,
                                                         addGenerationPrompt: addPrompt, extraContext: extra, templateName: templateName)
            #expect(ids == (try want["ids"].array().map { try $0.int() }))
        }
        // transformers' own encode with this config (v5 ignores add_bos/eos flags when tokenizer.json exists).
        for (text, ids) in try fixture["encode"].members() {
            #expect(tokenizer.encode(text) == (try ids.array().map { try $0.int() }), "\(text)")
        }
    }

    @Test func configFields() throws {
        let tokenizer = try Tokenizer(directory: Fixtures.url("chat/chat_llama2"))
        #expect(tokenizer.bosToken == "<s>")
        #expect(tokenizer.bosTokenID == 1)
        #expect(tokenizer.eosToken == "</s>")
        #expect(tokenizer.eosTokenID == 2)
        #expect(tokenizer.padToken == nil)
        #expect(tokenizer.unkTokenID == 0)
        #expect(tokenizer.config.modelMaxLength == 2048)
        #expect(tokenizer.config.addBosToken == true)
        #expect(tokenizer.config.chatTemplates.map(\.name) == ["default", "tool_use"])
        #expect(try tokenizer.chatTemplate().hasPrefix("{% for m in messages %}"))
        #expect(throws: TokenizerError.noChatTemplate(name: "nope")) { try tokenizer.chatTemplate(named: "nope") }
        let plain = try Tokenizer(directory: Fixtures.url("llama3"))
        #expect(throws: TokenizerError.noChatTemplate(name: nil)) { try plain.applyChatTemplate(messages: []) }
    }

    @Test func strftimeNowIsFrozen() throws {
        let template = #"{{ bos_token }}Today: {{ strftime_now("%d %b %Y") }}{% for m in messages %} {{ m.content }}{% endfor %}"#
        let now = Date(timeIntervalSince1970: 1_721_988_000)  // 2024-07-26T10:00:00Z
        let text = try Tokenizer.renderChat(source: template, specialTokens: ["bos_token": "<s>"],
                                            messages: [["role": "user", "content": "hi"]], now: now)
        #expect(text == "<s>Today: 26 Jul 2024 hi")
    }

    @Test func failingTemplateThrows() {
        #expect(throws: TemplateError.self) {
            try Tokenizer.renderChat(source: "{{ raise_exception('no system role') }}", messages: [])
        }
        #expect(throws: TemplateError.self) { try Tokenizer.renderChat(source: "{% for %}", messages: []) }
    }

    @Test func llamaClassRebuildsPostProcessor() throws {
        let json = try Data(contentsOf: Fixtures.url("llama2/tokenizer.json"))
        var config = TokenizerConfig()
        config.tokenizerClass = "LlamaTokenizerFast"
        config.bosToken = "<s>"
        config.eosToken = "</s>"
        config.addEosToken = true
        let tokenizer = try Tokenizer(tokenizerJSONData: json, config: config)
        let plain = tokenizer.encode("Hello", addSpecialTokens: false)
        #expect(tokenizer.encode("Hello") == [1] + plain + [2])
        config.addBosToken = false
        let noBos = try Tokenizer(tokenizerJSONData: json, config: config)
        #expect(noBos.encode("Hello") == plain + [2])
        #expect(noBos.encode("Hello", pair: "Hello") == plain + [2] + plain + [2])
    }
}
