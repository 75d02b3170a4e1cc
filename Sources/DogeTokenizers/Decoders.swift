/// The `decoder` of tokenizer.json: turns token strings back into text. Like HF, each
/// decoder maps a list of token strings to a new list; the results are concatenated.
indirect enum Decoder: Sendable {
    case byteLevel
    case metaspace(replacement: UInt32, prependScheme: PreTokenizer.PrependScheme)
    case byteFallback
    case fuse
    case replace(TokenizerPattern, content: [UInt32])
    case strip(content: UInt32, start: Int, stop: Int)
    case bpeSuffix(String)
    case sequence([Decoder])

    init(json: JSONField) throws {
        let type = try json.typeTag()
        switch type {
        case "ByteLevel": self = .byteLevel
        case "Metaspace":
            self = .metaspace(replacement: try PreTokenizer.replacement(json), prependScheme: try PreTokenizer.prependScheme(json))
        case "ByteFallback": self = .byteFallback
        case "Fuse": self = .fuse
        case "Replace":
            self = .replace(try TokenizerPattern(json: json["pattern"]), content: try json["content"].string().unicodeScalars.map(\.value))
        case "Strip":
            let content = try json["content"].string()
            guard content.unicodeScalars.count == 1 else { throw json["content"].fail("must be one character") }
            self = .strip(content: content.unicodeScalars.first!.value, start: try json["start"].int(), stop: try json["stop"].int())
        case "BPEDecoder":
            self = .bpeSuffix(try json["suffix"].optionalString() ?? "</w>")
        case "Sequence":
            self = .sequence(try json["decoders"].array().map { try Decoder(json: $0) })
        default:
            throw TokenizerError.unsupportedType(path: json["type"].path, type: type)
        }
    }

    func decode(_ tokens: [String]) -> String { decodeChain(tokens).joined() }

    func decodeChain(_ tokens: [String]) -> [String] {
        switch self {
        case .byteLevel:
            var bytes: [UInt8] = []
            for token in tokens { ByteLevel.decode(token, into: &bytes) }
            return [String(decoding: bytes, as: UTF8.self)]  // lossy, like from_utf8_lossy
        case let .metaspace(replacement, scheme):
            return tokens.enumerated().map { index, token in
                var out = String.UnicodeScalarView()
                for scalar in token.unicodeScalars {
                    if scalar.value == replacement {
                        // The first token's meta symbols came from the prepended space: drop them.
                        if index == 0 && scheme != .never { continue }
                        out.append(" ")
                    } else {
                        out.append(scalar)
                    }
                }
                return String(out)
            }
        case .byteFallback:
            var out: [String] = []
            var pending: [UInt8] = []
            func flush() {
                guard !pending.isEmpty else { return }
                if let text = String(validating: pending, as: UTF8.self) {
                    out.append(text)
                } else {
                    out += Array(repeating: "\u{FFFD}", count: pending.count)
                }
                pending.removeAll()
            }
            for token in tokens {
                if let byte = Self.fallbackByte(token) {
                    pending.append(byte)
                } else {
                    flush()
                    out.append(token)
                }
            }
            flush()
            return out
        case .fuse:
            return [tokens.joined()]
        case let .replace(pattern, content):
            return tokens.map { String(scalars: pattern.replacingMatches(in: $0.unicodeScalars.map(\.value), with: content)) }
        case let .strip(content, start, stop):
            return tokens.map { token in
                let scalars = token.unicodeScalars.map(\.value)
                var low = 0
                while low < min(start, scalars.count), scalars[low] == content { low += 1 }
                var high = scalars.count
                var removed = 0
                while removed < stop, high > low, scalars[high - 1] == content { high -= 1; removed += 1 }
                return String(scalars: scalars[low..<high])
            }
        case let .bpeSuffix(suffix):
            return tokens.enumerated().map { index, token in
                token.replacingLiteral(suffix, with: index == tokens.count - 1 ? "" : " ")
            }
        case let .sequence(list):
            return list.reduce(tokens) { $1.decodeChain($0) }
        }
    }

    /// The byte of a `<0xAB>` token.
    static func fallbackByte(_ token: String) -> UInt8? {
        let utf8 = Array(token.utf8)
        guard utf8.count == 6, utf8[0] == 0x3C, utf8[1] == 0x30, utf8[2] == 0x78, utf8[5] == 0x3E else { return nil }
        return UInt8(String(decoding: utf8[3..<5], as: UTF8.self), radix: 16)
    }
}

extension String {
    /// Literal, non-overlapping replacement (Foundation-free so it works on scalars exactly).
    func replacingLiteral(_ target: String, with replacement: String) -> String {
        let pattern = TokenizerPattern.literal(target.unicodeScalars.map(\.value))
        return String(scalars: pattern.replacingMatches(in: unicodeScalars.map(\.value), with: replacement.unicodeScalars.map(\.value)))
    }
}
