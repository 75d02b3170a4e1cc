import DogeJinja
import DogeTokenizers
import Foundation

/// tokenizer.json, then the rest of the input (after the first NUL byte, if any) encoded and decoded.
func fuzzTokenizerJSON(_ data: Data) {
    let split = data.firstIndex(of: 0) ?? data.endIndex
    guard let tokenizer = try? Tokenizer(tokenizerJSONData: data[..<split]) else { return }
    let text = split < data.endIndex ? Data(data[data.index(after: split)...]) : Data("Hello, world! 123 héllo".utf8)
    roundTrip(tokenizer, text)
}

/// The bundled model's tokenizer (loaded once) on arbitrary bytes.
let bundledTokenizer: Tokenizer = {
    do { return try Tokenizer(directory: URL(fileURLWithPath: "Models/doge-tiny")) } catch {
        fatalError("run from the repository root: \(error)")
    }
}()

func fuzzTokenizerEncode(_ data: Data) { roundTrip(bundledTokenizer, data) }

func roundTrip(_ tokenizer: Tokenizer, _ bytes: Data) {
    guard let ids = try? tokenizer.encode(bytes: bytes) else { return }
    _ = try? tokenizer.decode(ids)
    _ = try? tokenizer.decode(ids, skipSpecialTokens: true)
    let text = String(decoding: bytes, as: UTF8.self)
    _ = tokenizer.encode(text, addSpecialTokens: false)
    // Arbitrary ids (also out of range) must decode or throw.
    _ = try? tokenizer.decode(bytes.prefix(64).map { Int($0) * 97 - 300 })
}

/// A template source, parsed and rendered with a chat-like context under tight limits.
let jinjaContext: [String: JinjaValue] = [
    "messages": .array([
        .object([("role", .string("system")), ("content", .string("Be brief."))]),
        .object([("role", .string("user")), ("content", .string("Hi <b>there</b> {{x}}"))]),
        .object([("role", .string("assistant")), ("content", .string("Hello!")),
                 ("tool_calls", .array([.object([("name", .string("f")), ("arguments", .object([("a", .int(1))]))])]))]),
    ]),
    "add_generation_prompt": .bool(true),
    "bos_token": .string("<s>"),
    "eos_token": .string("</s>"),
    "tools": .array([.object([("type", .string("function")), ("name", .string("f"))])]),
    "n": .int(3), "x": .double(1.5), "none": .null,
]

func fuzzJinja(_ data: Data) {
    let limits = TemplateOptions.Limits(maxOutputBytes: 1 << 20, maxLoopIterations: 100_000, maxRecursionDepth: 64,
                                        maxValueDepth: 512, maxRenderSeconds: 2)
    let options = TemplateOptions(now: Date(timeIntervalSince1970: 0), limits: limits)
    guard let template = try? Template(String(decoding: data, as: UTF8.self), options: options) else { return }
    _ = try? template.render(jinjaContext)
}
