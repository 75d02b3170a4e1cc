import Testing
@testable import DogeTokenizers

@Suite("Regex engine")
struct RegexTests {
    func split(_ pattern: String, _ text: String) throws -> [String] {
        let scalars = text.unicodeScalars.map(\.value)
        return try ScalarRegex(pattern).matches(in: scalars).map { String(scalars: scalars[$0]) }
    }

    @Test func llama3Pattern() throws {
        let pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        #expect(try split(pattern, "I'M here  now 12345!\n\n") == ["I", "'M", " here", " ", " now", " ", "123", "45", "!\n\n"])
        #expect(try split(pattern, "you'Re") == ["you", "'Re"])
    }

    @Test func quantifiers() throws {
        #expect(try split("a{2,3}", "aaaaaaa") == ["aaa", "aaa"])
        #expect(try split("a+?", "aaa") == ["a", "a", "a"])
        #expect(try split("a*+a", "aaa") == [])          // possessive never gives back
        #expect(try split("(?>a|ab)c", "abc ac") == ["ac"])
        #expect(try split("x{,2}", "xxx") == ["xx", "x", ""])
        #expect(try split(#"\s+(?!\S)"#, "a   b") == ["  "])
        #expect(try split(#"(?=b)"#, "ab").count == 1)
    }

    @Test func emptyLoopBodyTerminates() throws {
        #expect(try split("(a?)*b", "aab") == ["aab"])
        _ = try split("(?:x?)*y", "xxxx")  // must return, whatever it finds
    }

    @Test func classes() throws {
        #expect(try split(#"[^\r\n\p{L}\p{N}]?\p{L}+"#, "¿Qué tal?") == ["¿Qué", " tal"])
        #expect(try split(#"\p{Lu}+"#, "abCDeF") == ["CD", "F"])
        #expect(try split(#"[a-c\d]+"#, "xab12cz") == ["ab12c"])
        #expect(try split(#"\w+"#, "naïve café_1") == ["naïve", "café_1"])
        #expect(try split(#"[\]\-]+"#, "a]-]b") == ["]-]"])
        #expect(try split(#"(?i:ABC)"#, "abc AbC") == ["abc", "AbC"])
        #expect(try split(#"."#, "a\nb") == ["a", "b"])
    }

    @Test func errors() {
        #expect(throws: TokenizerError.self) { try ScalarRegex("(a") }
        #expect(throws: TokenizerError.self) { try ScalarRegex("*a") }
        #expect(throws: TokenizerError.self) { try ScalarRegex(#"\p{Nope}"#) }
        #expect(throws: TokenizerError.self) { try ScalarRegex("[a") }
    }
}
