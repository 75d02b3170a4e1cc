import Foundation
import Testing
@testable import DogeTokenizers

/// Recorded answers of HF `tokenizers` (scripts/tokenizer_fixtures/make_fixtures.py).
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    static let names: [String] = {
        let items = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return items.filter { FileManager.default.fileExists(atPath: directory.appendingPathComponent("\($0)/expected.json").path) }.sorted()
    }()

    static func json(_ url: URL) throws -> JSONField {
        JSONField(try JSONReader.parse(try Data(contentsOf: url), file: url.lastPathComponent), path: "")
    }

    static let cases: [String] = {
        (try? json(directory.appendingPathComponent("cases.json")).array().map { try $0.string() }) ?? []
    }()

    /// Expands [id, -count] run-length pairs.
    static func ids(_ field: JSONField) throws -> [Int] {
        var out: [Int] = []
        for value in try field.array().map({ try $0.int() }) {
            if value < 0 { out += Array(repeating: out.last!, count: -value - 1) } else { out.append(value) }
        }
        return out
    }
}

func scalars(_ text: String) -> [UInt32] { text.unicodeScalars.map(\.value) }

func describe(_ text: String) -> String {
    text.count > 60 ? String(text.prefix(60)).debugDescription + "… (\(text.unicodeScalars.count) scalars)" : text.debugDescription
}

@Suite("HF fixtures")
struct FixtureTests {
    @Test("fixtures exist") func fixturesExist() {
        #expect(Fixtures.names.count >= 10)
        #expect(Fixtures.cases.count >= 290)
    }

    @Test("encode and decode match HF tokenizers", arguments: Fixtures.names)
    func matchesHF(name: String) throws {
        let tokenizer = try Tokenizer(directory: Fixtures.url(name))
        let expected = try Fixtures.json(Fixtures.url(name).appendingPathComponent("expected.json")).array()
        #expect(expected.count == Fixtures.cases.count)
        var failures: [String] = []
        var checked = 0
        for (text, entry) in zip(Fixtures.cases, expected) where !entry.isNull {
            checked += 1
            let ids = try Fixtures.ids(entry["ids"])
            let plain = entry.has("ids_plain") ? try Fixtures.ids(entry["ids_plain"]) : ids
            let decoded = try entry["decoded"].optionalString() ?? text
            let decodedSkip = try entry["decoded_skip"].optionalString() ?? decoded
            let gotIDs = tokenizer.encode(text)
            if gotIDs != ids {
                let tokens = gotIDs.prefix(30).map { tokenizer.idToToken($0) ?? "?" }
                failures.append("ids \(describe(text)): got \(gotIDs.prefix(30)) \(tokens) want \(ids.prefix(30))")
                continue
            }
            let gotPlain = tokenizer.encode(text, addSpecialTokens: false)
            if gotPlain != plain { failures.append("ids_plain \(describe(text)): got \(gotPlain.prefix(30)) want \(plain.prefix(30))") }
            let gotDecoded = try tokenizer.decode(ids)
            if scalars(gotDecoded) != scalars(decoded) { failures.append("decode \(describe(text)): got \(describe(gotDecoded)) want \(describe(decoded))") }
            let gotSkip = try tokenizer.decode(ids, skipSpecialTokens: true)
            if scalars(gotSkip) != scalars(decodedSkip) { failures.append("decode skip \(describe(text)): got \(describe(gotSkip)) want \(describe(decodedSkip))") }
        }
        #expect(checked > 250)
        #expect(failures.isEmpty, Comment(rawValue: "\(failures.count) mismatches in \(name):\n" + failures.prefix(12).joined(separator: "\n")))
    }
}
