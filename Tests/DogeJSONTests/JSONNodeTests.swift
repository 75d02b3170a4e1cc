import DogeJSON
import Foundation
import Testing

private func parse(_ text: String, options: JSONParseOptions = .init()) throws -> JSONNode {
    try JSONNode.parse(text.utf8, options: options)
}

/// The error for `text`, or nil when it parses.
private func parseError(_ text: String, options: JSONParseOptions = .init()) -> JSONParseError? {
    parseError(Array(text.utf8), options: options)
}

private func parseError(_ bytes: [UInt8], options: JSONParseOptions = .init()) -> JSONParseError? {
    do throws(JSONParseError) {
        _ = try JSONNode.parse(bytes, options: options)
        return nil
    } catch {
        return error
    }
}

@Suite("DogeJSON")
struct JSONNodeTests {
    @Test func objectsKeepKeyOrderAndDuplicates() throws {
        guard case let .object(members) = try parse(#"{"z": 1, "a": 2, "m": {"y": null, "b": true}, "a": 3}"#) else {
            Issue.record("not an object")
            return
        }
        #expect(members.map(\.key) == ["z", "a", "m", "a"])
        #expect(members[1].value == .int(2) && members[3].value == .int(3))
        #expect(members[2].value == .object([("y", .null), ("b", .bool(true))]))
        #expect(members[2].value != .object([("b", .bool(true)), ("y", .null)]))
    }

    @Test func canonicallyEquivalentKeysStayDistinct() throws {
        let nfc = "\u{E9}", nfd = "e\u{301}"
        #expect(nfc == nfd)  // Swift's String equality would merge them
        let literal = try parse("{\"\(nfc)\": 1, \"\(nfd)\": 2}")
        let escaped = try parse(#"{"\u00e9": 1, "e\u0301": 2}"#)
        for node in [literal, escaped] {
            guard case let .object(members) = node else {
                Issue.record("not an object")
                continue
            }
            #expect(members.count == 2)
            #expect(Array(members[0].key.utf8) == [0xC3, 0xA9])
            #expect(Array(members[1].key.utf8) == [0x65, 0xCC, 0x81])
        }
        #expect(JSONNode.string(nfc) != JSONNode.string(nfd))
        #expect(literal == escaped)
    }

    @Test(arguments: [
        ("1", JSONNode.int(1)), ("-7", .int(-7)), ("0", .int(0)), ("-0", .int(0)),
        ("1.0", .double(1)), ("1e3", .double(1000)), ("2E-2", .double(0.02)), ("-2.5e+1", .double(-25)),
        ("9223372036854775807", .int(Int.max)), ("-9223372036854775808", .int(Int.min)),
        ("9223372036854775808", .double(9223372036854775808)), ("123456789012345678901234", .double(1.2345678901234568e23)),
        ("1234567890123456789", .int(1234567890123456789)),
    ])
    func numbersKeepIntVersusDouble(text: String, expected: JSONNode) throws {
        #expect(try parse(text) == expected)
    }

    @Test func negativeZeroFloatKeepsItsSign() throws {
        guard case let .double(value) = try parse("-0.0") else {
            Issue.record("not a double")
            return
        }
        #expect(value == 0 && value.sign == .minus)
    }

    @Test func escapes() throws {
        #expect(try parse(#""a\"b\\c\/d\b\f\n\r\t\u0041\u00e9\u20AC\ud83d\ude00\u0000""#)
                == .string("a\"b\\c/d\u{8}\u{C}\n\r\tAé€😀\u{0}"))
        #expect(try parse(#""plain é 😀""#) == .string("plain é 😀"))
    }

    @Test(arguments: [
        (#""\ud800""#, "\u{FFFD}"), (#""\udc00x""#, "\u{FFFD}x"), (#""\ud800\u0041""#, "\u{FFFD}A"),
        (#""\ud800\ud83d\ude00""#, "\u{FFFD}😀"), (#""\ude00\ud83d""#, "\u{FFFD}\u{FFFD}"),
    ])
    func loneSurrogatesBecomeReplacementCharacters(text: String, expected: String) throws {
        #expect(try parse(text) == .string(expected))
    }

    @Test func errorsSayWhereAndWhat() {
        let colon = parseError("{\"a\": 1,\n  \"b\" 2}")
        #expect(colon == JSONParseError(offset: 15, line: 2, column: 7, reason: "expected ':'"))
        #expect(colon?.description == "expected ':' at line 2, column 7 (byte 15)")

        let trailingComma = parseError("[1, 2,\r\n]")
        #expect(trailingComma == JSONParseError(offset: 8, line: 2, column: 1, reason: "unexpected character ']'"))

        // Columns count scalars: "é" is two bytes but one column.
        let afterAccent = parseError(#"["é", x]"#)
        #expect(afterAccent == JSONParseError(offset: 7, line: 1, column: 7, reason: "unexpected character 'x'"))

        #expect(parseError(#"{"model": "#)?.reason == "unexpected end of input")
        #expect(parseError(#"{"model": "#)?.offset == 10)
        #expect(parseError(#"{"a": 0,}"#) == JSONParseError(offset: 8, line: 1, column: 9, reason: "expected a string key"))
        #expect(parseError(#"{"a": tru}"#)?.reason == "invalid literal")
        #expect(parseError(#"["abc"#)?.reason == "unterminated string")
        #expect(parseError(#"["a\qb"]"#) == JSONParseError(offset: 4, line: 1, column: 5, reason: "invalid escape"))
        #expect(parseError(#""\u12G4""#)?.reason == "invalid \\u escape")
    }

    @Test(arguments: ["01", "-01", "+1", ".5", "5.", "1e", "1e+", "-", "0x10", "1.5.5"])
    func nonJSONNumbersAreRejected(text: String) {
        #expect(parseError(text) != nil)
    }

    @Test func stringsMustBeValidUTF8WithoutControlCharacters() {
        #expect(parseError("\"a\tb\"") == JSONParseError(offset: 2, line: 1, column: 3, reason: "control character in string"))
        // Truncated sequence, overlong "/", an encoded surrogate, and a stray continuation byte.
        for bad: [UInt8] in [[0xC3, 0x28], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0x80]] {
            #expect(parseError([0x22, 0x61] + bad + [0x22]) == JSONParseError(offset: 2, line: 1, column: 3, reason: "invalid UTF-8 in string"))
        }
    }

    @Test func nestingDepthIsLimitedTo512() throws {
        func nested(_ depth: Int, _ inner: String = "") -> String {
            String(repeating: "[", count: depth) + inner + String(repeating: "]", count: depth)
        }
        #expect(parseError(nested(512)) == nil)
        #expect(parseError(nested(511, "1")) == nil)
        #expect(parseError(nested(513))?.reason == "nesting deeper than 512 levels")
        #expect(parseError(nested(513))?.offset == 512)
        #expect(parseError(nested(512, "1"))?.reason == "nesting deeper than 512 levels")
        #expect(parseError(nested(100_000))?.reason == "nesting deeper than 512 levels")  // an error, not a stack overflow
        var objects = #"{"a": 1}"#
        for _ in 0..<512 { objects = #"{"a": \#(objects)}"# }
        #expect(parseError(objects)?.reason == "nesting deeper than 512 levels")
    }

    @Test func byteOrderMarkIsSkippedOnlyAtTheStart() throws {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        #expect(try JSONNode.parse(bom + Array(#"{"a": [1]}"#.utf8)) == .object([("a", .array([.int(1)]))]))
        // The mark takes no column, but counts in the byte offset.
        #expect(parseError(bom + Array("x".utf8)) == JSONParseError(offset: 3, line: 1, column: 1, reason: "unexpected character 'x'"))
        #expect(parseError(Array(" ".utf8) + bom + Array("1".utf8))?.offset == 1)
        #expect(parseError(Array("[".utf8) + bom + Array("1]".utf8))?.offset == 1)
    }

    @Test func nothingButWhitespaceMayFollowTheValue() throws {
        #expect(try parse(" \n{}\r\n\t ") == .object([]))
        #expect(parseError("{} x") == JSONParseError(offset: 3, line: 1, column: 4, reason: "unexpected text after the JSON value"))
        #expect(parseError("1 2")?.offset == 2)
        #expect(parseError("[1]]")?.reason == "unexpected text after the JSON value")
        #expect(parseError("")?.reason == "unexpected end of input")
        #expect(parseError("  ")?.reason == "unexpected end of input")
    }

    @Test func nonFiniteNumbersOnlyWhenAllowed() throws {
        let python = JSONParseOptions(allowNonFiniteNumbers: true)
        #expect(parseError("NaN")?.reason == "unexpected character 'N'")
        #expect(parseError("[-Infinity]") != nil)
        guard case let .array(items) = try parse("[NaN, Infinity, -Infinity, -1]", options: python) else {
            Issue.record("not an array")
            return
        }
        #expect(items.count == 4)
        if case let .double(nan) = items[0] { #expect(nan.isNaN) } else { Issue.record("NaN is \(items[0])") }
        #expect(Array(items[1...]) == [.double(.infinity), .double(-.infinity), .int(-1)])
        #expect(parseError("Nan", options: python)?.reason == "invalid literal")
    }

    @Test func acceptsAnyByteSequence() throws {
        let text = #"{"k": ["v", 2.5]}"#
        let expected = JSONNode.object([("k", .array([.string("v"), .double(2.5)]))])
        #expect(try JSONNode.parse(Data(text.utf8)) == expected)
        #expect(try JSONNode.parse(Array(text.utf8)) == expected)
        #expect(try JSONNode.parse(text.utf8.lazy.map { $0 }) == expected)  // no contiguous storage: copied first
    }
}
