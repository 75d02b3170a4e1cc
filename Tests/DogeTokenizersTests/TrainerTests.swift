import DogeJinja
import Foundation
import Testing
@testable import DogeTokenizers

/// Tokenizer training: the same vocabulary and merges as HF `tokenizers`' BpeTrainer
/// (Fixtures/trainer, made by scripts/tokenizer_training/make_trainer_fixture.py), and edge cases.
@Suite("Tokenizer training")
struct TrainerTests {
    static let fixture = Fixtures.url("trainer")
    static let input = fixture.appendingPathComponent("input.txt").path

    static func temporaryFile(_ name: String, _ contents: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("doge-trainer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent(name)
        try Data(contents.utf8).write(to: url)
        return url.path
    }

    static func modelFields(_ trained: TrainedTokenizer) throws -> (vocab: [(String, Int)], merges: [[String]]) {
        let root = try JSONReader.parse(trained.files.first { $0.name == "tokenizer.json" }!.data, file: "tokenizer.json")
        let model = JSONField(root, path: "")["model"]
        let vocab = try model["vocab"].members().map { ($0.key, try $0.value.int()) }
        let merges = try model["merges"].array().map { try $0.array().map { try $0.string() } }
        return (vocab, merges)
    }

    @Test("same vocabulary and merges as HF tokenizers", arguments: [300, 500, 1000])
    func matchesHF(vocabularySize: Int) throws {
        let expected = try Fixtures.json(Self.fixture.appendingPathComponent("hf_merges.json")).array()
            .first { try $0["vocab_size"].int() == vocabularySize }!
        let trained = try TokenizerTrainingJob(vocabularySize: vocabularySize, inputs: [Self.input]).run()
        let (vocab, merges) = try Self.modelFields(trained)
        let expectedVocab = try expected["vocab"].members().map { ($0.key, try $0.value.int()) }
        let expectedMerges = try expected["merges"].array().map { try $0.array().map { try $0.string() } }
        // Compare by scalars: Swift's String equality would merge NFC and NFD spellings.
        let ours = Dictionary(uniqueKeysWithValues: vocab.map { (scalars($0.0), $0.1) })
        let theirs = Dictionary(uniqueKeysWithValues: expectedVocab.map { (scalars($0.0), $0.1) })
        #expect(ours == theirs)
        #expect(vocab.count == vocabularySize)
        #expect(merges.map { $0.map(scalars) } == expectedMerges.map { $0.map(scalars) })
        if let first = zip(merges, expectedMerges).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            Issue.record("first differing merge \(first): ours \(merges[first]), HF \(expectedMerges[first])")
        }
    }

    @Test("the trained tokenizer encodes and decodes its training text") func roundTrip() throws {
        let trained = try TokenizerTrainingJob(vocabularySize: 500, inputs: [Self.input]).run()
        let tokenizer = try trained.tokenizer()
        #expect(tokenizer.tokenToID("<|begin_of_text|>") == 0)
        #expect(tokenizer.tokenToID("<|end_header_id|>") == 3)
        #expect(tokenizer.bosTokenID == 0)
        #expect(tokenizer.eosTokenID == 1)
        let text = try String(contentsOfFile: Self.input, encoding: .utf8)
        for line in text.split(separator: "\n").prefix(200) {
            let ids = tokenizer.encode(String(line))
            #expect(ids.first == 0)
            #expect(try tokenizer.decode(ids, skipSpecialTokens: true) == String(line))
        }
        // Bytes never seen in training still encode (all 256 byte tokens are in the vocabulary).
        let unseen = "\u{7}Ω \u{1F999}"
        #expect(try tokenizer.decode(tokenizer.encode(unseen, addSpecialTokens: false)) == unseen)
        #expect(tokenizer.isSpecialToken(2))
        let message = jinjaValue(try JSONReader.parse(Data(#"{"role": "user", "content": " Hi "}"#.utf8), file: "message"))
        let prompt = try tokenizer.applyChatTemplate(messages: [message], addGenerationPrompt: true)
        #expect(prompt == "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\nHi<|end_of_text|>\n\n<|start_header_id|>assistant<|end_header_id|>\n")
    }

    @Test("HF's own BpeTrainer unit test: roses are red, min_frequency 2") func hfUnitTest() throws {
        let counts: [(String, Int)] = [("roses", 1), ("are", 2), ("red", 1), ("voilets", 1), ("blue", 1), ("BERT", 1),
                                       ("is", 2), ("big", 1), ("and", 1), ("so", 1), ("GPT-2", 1)]
        let trainer = BPETrainer(vocabularySize: 30000, minFrequency: 2)
        let result = try trainer.train(words: counts.map { scalars($0.0) }, counts: counts.map(\.1))
        let vocabulary = result.vocabulary.map { String(scalars: $0) }
        #expect(vocabulary == ["-", "2", "B", "E", "G", "P", "R", "T", "a", "b", "d", "e", "g", "i", "l", "n", "o", "r",
                               "s", "t", "u", "v", "re", "are", "is"])
        #expect(result.merges == [.init(left: 17, right: 11, merged: 22), .init(left: 8, right: 22, merged: 23),
                                  .init(left: 13, right: 18, merged: 24)])
    }

    @Test("continuing-subword prefix and end-of-word suffix decorate symbols as HF's trainer does") func decorated() throws {
        var trainer = BPETrainer(vocabularySize: 100)
        trainer.continuingSubwordPrefix = scalars("##")
        trainer.endOfWordSuffix = scalars("</w>")
        let result = try trainer.train(words: [scalars("abab"), scalars("ab")], counts: [2, 3])
        let vocabulary = result.vocabulary.map { String(scalars: $0) }
        #expect(vocabulary.prefix(2) == ["a", "b"])
        #expect(Set(vocabulary.dropFirst(2).prefix(3)) == ["##b", "##a", "##b</w>"])
        // "a" + "##b</w>" (5 times) merges first; the prefix of the right part is dropped.
        let first = result.merges[0]
        #expect(vocabulary[first.left] == "a" && vocabulary[first.right] == "##b</w>" && vocabulary[first.merged] == "ab</w>")
    }

    @Test("merging a word reports the neighbouring pair changes as HF's Word::merge") func wordMerge() {
        var word: [Int32] = [0, 1, 2, 2, 3]  // h e l l o
        var changes: [(pair: UInt64, delta: Int32)] = []
        BPETrainer.merge(&word, 2, 2, into: 4, changes: &changes)
        #expect(word == [0, 1, 4, 3])
        #expect(changes.map(\.pair) == [pack(1, 2), pack(1, 4), pack(2, 3), pack(4, 3)])
        #expect(changes.map(\.delta) == [-1, 1, -1, 1])
        var run: [Int32] = [5, 5, 5]
        changes.removeAll()
        BPETrainer.merge(&run, 5, 5, into: 6, changes: &changes)
        #expect(run == [6, 5])
    }

    @Test("empty input is an error that says so") func emptyInput() throws {
        let path = try Self.temporaryFile("empty.txt", "")
        #expect(throws: TokenizerTrainingError.emptyCorpus) {
            try TokenizerTrainingJob(vocabularySize: 1000, inputs: [path]).run()
        }
        #expect(throws: TokenizerTrainingError.self) {
            try TokenizerTrainingJob(vocabularySize: 1000, inputs: ["/nonexistent/corpus.txt"]).run()
        }
    }

    @Test("a vocabulary smaller than the specials plus the alphabet is a clear error") func tooSmall() throws {
        #expect(throws: TokenizerTrainingError.vocabularyTooSmall(requested: 100, minimum: 260)) {
            try TokenizerTrainingJob(vocabularySize: 100, inputs: [Self.input]).run()
        }
        let message = TokenizerTrainingError.vocabularyTooSmall(requested: 100, minimum: 260).description
        #expect(message.contains("--vocab-size 260"))
        // Exactly the minimum: no merges, still a working tokenizer.
        let trained = try TokenizerTrainingJob(vocabularySize: 260, inputs: [Self.input]).run()
        #expect(trained.result.merges.isEmpty)
        #expect(try trained.tokenizer().encode("ab", addSpecialTokens: false).count == 2)
    }

    @Test("unicode: NFC and NFD stay distinct, multi-byte characters merge") func unicode() throws {
        let line = "caf\u{E9} cafe\u{301} 日本語 日本語 🐶🐶\n"
        let path = try Self.temporaryFile("unicode.txt", String(repeating: line, count: 20))
        let trained = try TokenizerTrainingJob(vocabularySize: 400, inputs: [path]).run()
        let tokenizer = try trained.tokenizer()
        let nfc = tokenizer.encode("caf\u{E9}", addSpecialTokens: false)
        let nfd = tokenizer.encode(" cafe\u{301}", addSpecialTokens: false)
        #expect(nfc.count == 1)
        #expect(nfd.count == 2)  // " cafe" + the accent: not a letter, so the regex splits it off
        #expect(nfc != nfd)
        #expect(tokenizer.encode(" 日本語", addSpecialTokens: false).count == 1)
        #expect(try tokenizer.decode(tokenizer.encode(line)) == "<|begin_of_text|>" + line)
        // Training stops early when every word is a single token.
        #expect(trained.result.vocabulary.count < 400)
    }

    @Test("JSON lines input: one text per line, bad lines named") func jsonLines() throws {
        let good = try Self.temporaryFile("corpus.jsonl", #"{"text": "hello hello\nworld"}"# + "\n\n" + #"{"id": 3, "text": "hello"}"# + "\n")
        let trained = try TokenizerTrainingJob(vocabularySize: 262, inputs: [good]).run()
        #expect(trained.statistics.sequences == 2)
        #expect(trained.result.merges.count == 2)  // "h e" then "he l" (3 "hello"s)
        let bad = try Self.temporaryFile("bad.jsonl", #"{"text": "ok"}"# + "\n" + #"{"content": "no text"}"# + "\n")
        #expect(throws: TokenizerTrainingError.self) { try TokenizerTrainingJob(vocabularySize: 300, inputs: [bad]).run() }
        do {
            _ = try TokenizerTrainingJob(vocabularySize: 300, inputs: [bad]).run()
        } catch let error as TokenizerTrainingError {
            #expect(error.description.contains("bad.jsonl:2"))
        }
    }

    @Test("--from keeps the base pipeline and special tokens, with new ids") func retrain() throws {
        let trained = try TokenizerTrainingJob(vocabularySize: 400, inputs: [Self.input], base: Fixtures.url("gpt2").path).run()
        let tokenizer = try trained.tokenizer()
        #expect(tokenizer.tokenToID("<|endoftext|>") == 0)
        #expect(tokenizer.addedTokens.map(\.content) == ["<|endoftext|>"])
        #expect(tokenizer.vocabularySize == 400)
        // GPT-2's ByteLevel pre-tokenizer (with its own regex) is kept: " the" is one word.
        let ids = tokenizer.encode(" the thee", addSpecialTokens: false)
        #expect(try tokenizer.decode(ids) == " the thee")

        let llama = try TokenizerTrainingJob(vocabularySize: 400, inputs: [Self.input], base: Fixtures.url("llama3").path).run()
        let retrained = try llama.tokenizer()
        #expect(retrained.addedTokens.count == 5)
        #expect(retrained.encode("Hi").first == retrained.tokenToID("<|begin_of_text|>"))
    }

    @Test("post-processor ids are looked up again, nested sequences included") func renumber() throws {
        let node = try JSONReader.parse(Data(#"""
            {"type": "Sequence", "processors": [{"type": "ByteLevel"}, {"type": "TemplateProcessing", "single": [],
             "special_tokens": {"<s>": {"id": "<s>", "ids": [128000], "tokens": ["<s>"]}}},
             {"type": "RobertaProcessing", "cls": ["<s>", 5], "sep": ["</s>", 6]}]}
            """#.utf8), file: "test")
        let renumbered = try TokenizerBlueprint.renumber(node) { ["<s>": 0, "</s>": 1][$0] }
        let text = String(decoding: JSONWriter.data(renumbered), as: UTF8.self)
        #expect(text.contains(#""ids": [0]"#))
        #expect(text.contains(#""cls": ["<s>", 0]"#) && text.contains(#""sep": ["</s>", 1]"#))
        #expect(throws: TokenizerTrainingError.self) { try TokenizerBlueprint.renumber(node) { _ in nil } }
    }

    @Test("written files are complete and load from disk") func writes() throws {
        let trained = try TokenizerTrainingJob(vocabularySize: 300, inputs: [Self.input]).run()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("doge-trained-\(UUID().uuidString)")
        try trained.write(to: directory)
        try trained.write(to: directory)  // overwriting works too
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(names == ["special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"])
        let tokenizer = try Tokenizer(directory: directory)
        #expect(tokenizer.config.chatTemplate() != nil)
        #expect(tokenizer.eosToken == "<|end_of_text|>")
    }
}
