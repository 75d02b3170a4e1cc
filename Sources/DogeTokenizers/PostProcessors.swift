/// The `post_processor` of tokenizer.json: adds special tokens around encoded sequences
/// when `addSpecialTokens` is true (ByteLevel only adjusts offsets, which we do not track).
indirect enum PostProcessor: Sendable {
    /// `single`/`pair` templates: each item is a sequence (`$A`/`$B`) or a special token's ids.
    case template(single: [TemplateItem], pair: [TemplateItem])
    case roberta(cls: Int, sep: Int)
    case bert(cls: Int, sep: Int)
    case byteLevel
    case sequence([PostProcessor])

    enum TemplateItem: Sendable {
        case sequenceA, sequenceB
        case special([Int])
    }

    /// `["[CLS]", 101]`: the id of a (token, id) pair.
    private static func tokenPairID(_ field: JSONField) throws -> Int {
        let pair = try field.array()
        guard pair.count == 2 else { throw field.fail("expected [token, id], found \(pair.count) elements") }
        return try pair[1].int()
    }

    init(json: JSONField) throws {
        let type = try json.typeTag()
        switch type {
        case "TemplateProcessing":
            var specials: [String: [Int]] = [:]
            for (name, value) in try json["special_tokens"].members() {
                specials[name] = try value["ids"].array().map { try $0.int() }
            }
            func items(_ field: JSONField) throws -> [TemplateItem] {
                try field.array().map { item in
                    if item.has("Sequence") {
                        return try item["Sequence"]["id"].string() == "B" ? .sequenceB : .sequenceA
                    }
                    let name = try item["SpecialToken"]["id"].string()
                    guard let ids = specials[name] else {
                        throw item.fail("special token \(name.debugDescription) is missing from special_tokens")
                    }
                    return .special(ids)
                }
            }
            self = .template(single: try items(json["single"]), pair: try items(json["pair"]))
        case "RobertaProcessing":
            self = .roberta(cls: try Self.tokenPairID(json["cls"]), sep: try Self.tokenPairID(json["sep"]))
        case "BertProcessing":
            self = .bert(cls: try Self.tokenPairID(json["cls"]), sep: try Self.tokenPairID(json["sep"]))
        case "ByteLevel":
            self = .byteLevel
        case "Sequence":
            self = .sequence(try json["processors"].array().map { try PostProcessor(json: $0) })
        default:
            throw TokenizerError.unsupportedType(path: json["type"].path, type: type)
        }
    }

    /// The final ids for one sequence (or a pair), with special tokens added.
    func process(_ a: [Int], _ b: [Int]?) -> [Int] {
        switch self {
        case let .template(single, pair):
            var out: [Int] = []
            for item in b == nil ? single : pair {
                switch item {
                case .sequenceA: out += a
                case .sequenceB: out += b ?? []
                case let .special(ids): out += ids
                }
            }
            return out
        case let .roberta(cls, sep):
            guard let b else { return [cls] + a + [sep] }
            return [cls] + a + [sep, sep] + b + [sep]
        case let .bert(cls, sep):
            guard let b else { return [cls] + a + [sep] }
            return [cls] + a + [sep] + b + [sep]
        case .byteLevel:
            return a + (b ?? [])
        case let .sequence(list):
            // ByteLevel steps only touch offsets; the remaining processors chain.
            let effective = list.filter { if case .byteLevel = $0 { false } else { true } }
            guard let first = effective.first else { return a + (b ?? []) }
            return effective.dropFirst().reduce(first.process(a, b)) { $1.process($0, nil) }
        }
    }

    /// The ids this processor adds to a single sequence (to tell whether BOS is already added).
    var addsToSingle: (prefix: [Int], suffix: [Int]) {
        let marker = [-1]
        let result = process(marker, nil)
        guard let index = result.firstIndex(of: -1) else { return ([], []) }
        return (Array(result[..<index]), Array(result[(index + 1)...]))
    }
}
