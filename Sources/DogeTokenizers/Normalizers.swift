import Foundation

/// A pattern as tokenizer.json writes it: `{"String": " "}` or `{"Regex": "\\s+"}`.
enum TokenizerPattern: Sendable {
    case literal([UInt32])
    case regex(ScalarRegex)

    init(json: JSONField) throws {
        if json.has("String") {
            self = .literal(try json["String"].string().unicodeScalars.map(\.value))
        } else if json.has("Regex") {
            self = .regex(try ScalarRegex(try json["Regex"].string()))
        } else {
            throw json.fail("expected {\"String\": ...} or {\"Regex\": ...}")
        }
    }

    /// Non-overlapping matches, left to right, relative to the start of `text`.
    func matches(in text: [UInt32]) -> [Range<Int>] { matches(in: text[...]) }

    func matches(in slice: ArraySlice<UInt32>) -> [Range<Int>] {
        switch self {
        case let .regex(regex):
            return slice.withUnsafeBufferPointer { regex.matches(in: $0) }
        case let .literal(needle):
            let text = Array(slice)
            guard !needle.isEmpty, needle.count <= text.count else { return [] }
            var result: [Range<Int>] = []
            var position = 0
            while position + needle.count <= text.count {
                if text[position] == needle[0] && text[position..<position + needle.count].elementsEqual(needle) {
                    result.append(position..<position + needle.count)
                    position += needle.count
                } else {
                    position += 1
                }
            }
            return result
        }
    }

    func replacingMatches(in text: [UInt32], with content: [UInt32]) -> [UInt32] {
        let found = matches(in: text)
        if found.isEmpty { return text }
        var out: [UInt32] = []
        out.reserveCapacity(text.count)
        var last = 0
        for range in found {
            out += text[last..<range.lowerBound]
            out += content
            last = range.upperBound
        }
        out += text[last...]
        return out
    }
}

/// The `normalizer` of tokenizer.json, applied to text between added tokens.
indirect enum Normalizer: Sendable {
    case nfc, nfd, nfkc, nfkd
    case lowercase
    case strip(left: Bool, right: Bool)
    case stripAccents
    case replace(TokenizerPattern, content: [UInt32])
    case prepend([UInt32])
    case sequence([Normalizer])

    init(json: JSONField) throws {
        let type = try json.typeTag()
        switch type {
        case "NFC": self = .nfc
        case "NFD": self = .nfd
        case "NFKC": self = .nfkc
        case "NFKD": self = .nfkd
        case "Lowercase": self = .lowercase
        case "StripAccents": self = .stripAccents
        case "Strip":
            self = .strip(left: try json["strip_left"].bool(default: true), right: try json["strip_right"].bool(default: true))
        case "Replace":
            self = .replace(try TokenizerPattern(json: json["pattern"]), content: try json["content"].string().unicodeScalars.map(\.value))
        case "Prepend":
            self = .prepend(try json["prepend"].string().unicodeScalars.map(\.value))
        case "Sequence":
            self = .sequence(try json["normalizers"].array().map { try Normalizer(json: $0) })
        default:
            throw TokenizerError.unsupportedType(path: json["type"].path, type: type)
        }
    }

    func normalize(_ text: [UInt32]) -> [UInt32] {
        switch self {
        case .nfc: return Self.unicodeNormalize(text) { $0.precomposedStringWithCanonicalMapping }
        case .nfd: return Self.unicodeNormalize(text) { $0.decomposedStringWithCanonicalMapping }
        case .nfkc: return Self.unicodeNormalize(text) { $0.precomposedStringWithCompatibilityMapping }
        case .nfkd: return Self.unicodeNormalize(text) { $0.decomposedStringWithCompatibilityMapping }
        case .lowercase:
            // Per scalar, like Rust's `char::to_lowercase` (no final-sigma context).
            if text.allSatisfy({ $0 < 0x80 && !($0 >= 0x41 && $0 <= 0x5A) }) { return text }
            var out: [UInt32] = []
            out.reserveCapacity(text.count)
            for value in text {
                if value < 0x80 {
                    out.append(value >= 0x41 && value <= 0x5A ? value + 32 : value)
                } else if let scalar = Unicode.Scalar(value) {
                    out += scalar.properties.lowercaseMapping.unicodeScalars.map(\.value)
                }
            }
            return out
        case let .strip(left, right):
            var slice = text[...]
            if left { while let first = slice.first, UnicodeTables.isWhitespace(first) { slice = slice.dropFirst() } }
            if right { while let last = slice.last, UnicodeTables.isWhitespace(last) { slice = slice.dropLast() } }
            return Array(slice)
        case .stripAccents:
            return text.filter { !UnicodeTables.isMark($0) }
        case let .replace(pattern, content):
            return pattern.replacingMatches(in: text, with: content)
        case let .prepend(prefix):
            return text.isEmpty ? text : prefix + text
        case let .sequence(normalizers):
            return normalizers.reduce(text) { $1.normalize($0) }
        }
    }

    private static func unicodeNormalize(_ text: [UInt32], _ transform: (String) -> String) -> [UInt32] {
        // ASCII is invariant under every normalization form.
        if text.allSatisfy({ $0 < 0x80 }) { return text }
        return transform(String(scalars: text)).unicodeScalars.map(\.value)
    }
}

extension String {
    init(scalars: some Sequence<UInt32>) {
        var view = String.UnicodeScalarView()
        for value in scalars { view.append(Unicode.Scalar(value) ?? "\u{FFFD}") }
        self.init(view)
    }
}
