import Foundation
import Testing

/// The built `doge` binary, run as a user runs it: exit codes, one error style, messages.
enum DogeBinary {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `doge` next to the test bundle (`swift build --build-tests` / `swift test` build both).
    static let url: URL? = {
        var folders = Bundle.allBundles.map(\.bundleURL).filter { $0.pathExtension == "xctest" }.map { $0.deletingLastPathComponent() }
        folders.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        folders.append(root.appendingPathComponent(".build/debug"))
        return folders.map { $0.appendingPathComponent("doge") }.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }()

    struct Result {
        var status: Int32
        var out: String
        var err: String
    }

    static func run(_ arguments: [String], input: String? = nil, environment: [String: String] = [:]) throws -> Result {
        let binary = try #require(url, "the doge binary was not built next to the tests")
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = root
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "DOGE_MODEL")
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe(), stdin = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: e, as: UTF8.self))
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("doge-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

@Suite struct ErrorStyleTests {
    /// Usage errors: exit 64 and the usage of the subcommand that was run, not the top level's.
    @Test(arguments: [
        (["generate", "--ids", "1,two,3"], "doge generate"),
        (["generate", "--greedy", "--temperature", "0.5", "Hi"], "doge generate"),
        (["generate"], "doge generate"),
        (["convert", "--model", "x", "--output", "y", "--dtype", "f16"], "doge convert"),
        (["logits", "--model", "x", "--ids", "1,-2", "--output", "y.npy"], "doge logits"),
        (["detokenize", "--tokenizer", "x", "--ids", "1,b"], "doge detokenize"),
        (["train", "--set", "learning_rate"], "doge train"),
    ])
    func usageErrorsShowTheSubcommandsUsage(_ arguments: [String], _ command: String) throws {
        let r = try DogeBinary.run(arguments)
        #expect(r.status == 64, "\(arguments): \(r.err)")
        #expect(r.err.hasPrefix("Error: "), "\(r.err)")
        #expect(r.err.contains("Usage: \(command)"), "\(arguments): \(r.err)")
        #expect(!r.err.contains("<subcommand>"), "\(arguments) printed the top-level usage: \(r.err)")
    }

    /// Everything else: exit 1 with one line.
    @Test func runTimeErrorsAreOneLine() throws {
        let dir = try DogeBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases: [([String], String)] = [
            (["plot", dir.path], "metrics.jsonl"),
            (["generate", "--model", dir.path, "Hi"], dir.path),
            (["tokenize", "--tokenizer", dir.appendingPathComponent("missing").path, "--text", "x"], "missing"),
            (["generate", "--file", dir.appendingPathComponent("nope.txt").path], "nope.txt: no such file"),
        ]
        for (arguments, mention) in cases {
            let r = try DogeBinary.run(arguments)
            #expect(r.status == 1, "\(arguments): \(r.err)")
            let lines = r.err.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].hasPrefix("Error: ") && !r.err.contains("Usage"), "\(arguments): \(r.err)")
            #expect(r.err.contains(mention), "\(arguments): \(r.err)")
            #expect(!r.err.contains("NSCocoaErrorDomain"), "\(r.err)")
        }
    }

    @Test func unusableEnvironmentValuesWarn() throws {
        let bad = try DogeBinary.run(["info"], environment: ["DOGE_THREADS": "lots", "DOGE_ISA": "sse9", "DOGE_BLAS": "libnoblas.so.7"])
        #expect(bad.status == 0)
        #expect(bad.err.contains("warning: DOGE_THREADS=lots"), "\(bad.err)")
        #expect(bad.err.contains("warning: DOGE_ISA=sse9"), "\(bad.err)")
        #expect(bad.err.contains("warning: DOGE_BLAS=libnoblas.so.7"), "\(bad.err)")
        #expect(bad.out.contains("the core count"), "\(bad.out)")
        let good = try DogeBinary.run(["info"], environment: ["DOGE_THREADS": "1", "DOGE_ISA": "portable"])
        #expect(good.err.isEmpty, "\(good.err)")
        #expect(good.out.contains("threads: 1 (from DOGE_THREADS)"), "\(good.out)")
    }

    @Test func versionAndHelp() throws {
        let v = try DogeBinary.run(["--version"])
        #expect(v.status == 0 && v.out.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".").count == 3, "\(v.out)")
        // Examples use the bundled model, never write into it, and every command is in the README.
        let tokenize = try DogeBinary.run(["help", "tokenize"])
        #expect(tokenize.out.contains("Models/doge-tiny") && !tokenize.out.contains("SmolDoge"), "\(tokenize.out)")
        let train = try DogeBinary.run(["help", "tokenizer", "train"])
        #expect(!train.out.contains("--output Models/doge-tiny"), "\(train.out)")
        let readme = try String(contentsOf: DogeBinary.root.appendingPathComponent("README.md"), encoding: .utf8)
        let top = try DogeBinary.run(["help"])
        // Command names start the lines indented by two spaces (descriptions wrap further in).
        let commands = top.out.components(separatedBy: "SUBCOMMANDS:").last!.split(separator: "\n")
            .filter { $0.hasPrefix("  ") && !$0.hasPrefix("   ") && !$0.contains("See 'doge help") }
            .compactMap { $0.split(separator: " ").first.map(String.init) }
        #expect(commands.count >= 12, "\(top.out)")
        for command in commands where command != "help" {
            #expect(readme.contains("`doge \(command)"), "README's command table lacks doge \(command)")
        }
        #expect(readme.contains("`doge tokenizer train"))
    }
}

@Suite struct CommandBehaviourTests {
    @Test func recipeTyposAndMissingDataStopTheRunClearly() throws {
        let dir = try DogeBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "model_name_or_path: x\ndatasets_and_ratios:\n  - d.jsonl: 1.0\nlearnig_rate: 0.1\n"
            .write(to: dir.appendingPathComponent("r.yaml"), atomically: true, encoding: .utf8)
        let typo = try DogeBinary.run(["train", "--config", dir.appendingPathComponent("r.yaml").path])
        #expect(typo.status == 1 && typo.err.contains("did you mean learning_rate?"), "\(typo.err)")
        // The bundled recipe without its corpus: the missing file, and how to build it; nothing written.
        let run = dir.appendingPathComponent("run")
        let missing = try DogeBinary.run(["train", "--config", "Models/doge-tiny/recipe.yaml", "--output-dir", run.path,
                                          "--dataset", dir.appendingPathComponent("corpus/train.jsonl").path])
        #expect(missing.status == 1, "\(missing.err)")
        #expect(missing.err.contains("corpus/train.jsonl: no such file") && missing.err.contains("scripts/corpus/build_corpus.sh"), "\(missing.err)")
        #expect(!FileManager.default.fileExists(atPath: run.path))
    }

    @Test func chatCommandsAreNotSentToTheModel() throws {
        let r = try DogeBinary.run(["chat", "--max-new-tokens", "3", "--greedy"], input: "/help\n/systems be brief\nHello\nHi again\n")
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("/reset") && r.out.contains("/system TEXT"), "\(r.out)")
        #expect(r.err.contains("unknown command /systems"), "\(r.err)")
        // Piped output: each reply ends with an empty line.
        #expect(r.out.components(separatedBy: "\n\n").count >= 3, "\(r.out.debugDescription)")
    }

    /// With no --model, `doge chat` talks to the bundled instruct model and `doge generate`
    /// continues text with the base model.
    @Test func chatDefaultsToTheInstructModelAndGenerateToTheBase() throws {
        let input = "What is the opposite of hot?\n"
        let chat = try DogeBinary.run(["chat", "--max-new-tokens", "8", "--greedy"], input: input)
        let instruct = try DogeBinary.run(["chat", "--model", "Models/doge-tiny-instruct", "--max-new-tokens", "8", "--greedy"], input: input)
        let base = try DogeBinary.run(["chat", "--model", "Models/doge-tiny", "--max-new-tokens", "8", "--greedy"], input: input)
        #expect(chat.status == 0 && instruct.status == 0 && base.status == 0, "\(chat.err)\(instruct.err)\(base.err)")
        #expect(!chat.err.contains("was not found"), "\(chat.err)")
        #expect(chat.out == instruct.out && chat.out != base.out, "default \(chat.out), instruct \(instruct.out), base \(base.out)")

        let prompt = "It is a truth universally acknowledged, that"
        let generate = try DogeBinary.run(["generate", "--greedy", "--max-new-tokens", "8", prompt])
        let generateBase = try DogeBinary.run(["generate", "--model", "Models/doge-tiny", "--greedy", "--max-new-tokens", "8", prompt])
        #expect(generate.status == 0 && generate.out == generateBase.out, "\(generate.out) vs \(generateBase.out)")
    }

    /// `--output-path` writes the results whole, and a second run over the same file replaces
    /// it (corelibs Foundation's replaceItemAt once deleted the old file and left the new one
    /// under its temporary name).
    @Test func evalOutputPathIsWrittenAndReplaced() throws {
        let dir = try DogeBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let output = dir.appendingPathComponent("results.json")
        for limit in ["2", "3"] {
            let r = try DogeBinary.run(["eval", "--model", "Models/doge-tiny", "--data-dir", "Tests/DogeEvalTests/Fixtures/data",
                                        "--tasks", "piqa", "--limit", limit, "--output-path", output.path])
            #expect(r.status == 0, "\(r.err)")
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: output)) as? [String: Any]
            let config = json?["config"] as? [String: Any]
            #expect(json?["results"] != nil && "\(config?["limit"] ?? "")" == limit, "\(String(describing: json))")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["results.json"])
    }

    /// A copy of the bundled model with a short context and a template that refuses "boom".
    static func smallContextModel() throws -> URL {
        let dir = try DogeBinary.temporaryDirectory()
        let source = DogeBinary.root.appendingPathComponent("Models/doge-tiny")
        for file in ["model.safetensors", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"] {
            try FileManager.default.copyItem(at: source.appendingPathComponent(file), to: dir.appendingPathComponent(file))
        }
        var config = try String(contentsOf: source.appendingPathComponent("config.json"), encoding: .utf8)
        config = config.replacingOccurrences(of: #""max_position_embeddings"\s*:\s*\d+"#, with: "\"max_position_embeddings\": 40",
                                             options: .regularExpression)
        try config.write(to: dir.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        try """
            {% for m in messages %}{% if m.content == 'boom' %}{{ raise_exception('no boom here') }}{% endif %}\
            {{ bos_token if loop.first else '' }}{{ m.role }}: {{ m.content }}
            {% endfor %}{% if add_generation_prompt %}assistant:{% endif %}
            """.write(to: dir.appendingPathComponent("chat_template.jinja"), atomically: true, encoding: .utf8)
        return dir
    }

    @Test func chatTrimsOldTurnsAndSurvivesTemplateErrors() throws {
        let model = try Self.smallContextModel()
        defer { try? FileManager.default.removeItem(at: model) }
        let r = try DogeBinary.run(["chat", "--model", model.path, "--max-new-tokens", "6", "--greedy", "--system", "Be kind"],
                                   input: "boom\nOnce upon a time there was\nand then the king said\nthe end of the story\n")
        #expect(r.status == 0, "\(r.err)")
        #expect(r.err.contains("Error: ") && r.err.contains("no boom here"), "\(r.err)")
        #expect(r.err.contains("left out the oldest"), "\(r.err)")
        // Three replies, each followed by an empty line (output is a pipe).
        #expect(r.out.components(separatedBy: "\n\n").count >= 4, "\(r.out.debugDescription)")
    }

    /// The model card quotes today's greedy output.
    @Test func modelCardGreedySampleIsTodaysOutput() throws {
        let card = try String(contentsOf: DogeBinary.root.appendingPathComponent("Models/doge-tiny/README.md"), encoding: .utf8)
        let r = try DogeBinary.run(["generate", "--greedy", "It is a truth universally acknowledged, that"])
        let text = r.out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(r.status == 0 && !text.isEmpty)
        #expect(card.replacingOccurrences(of: "\n", with: " ").contains("prints \"\(text)\""), "today: \(text)")
    }

    @Test func promptsFromStandardInputAndHonestSpeed() throws {
        let ids = try DogeBinary.run(["tokenize", "--tokenizer", "Models/doge-tiny", "--text", "Once upon a time", "--json"])
        let piped = try DogeBinary.run(["generate", "-", "--greedy", "--max-new-tokens", "1", "--json", "--verbose"], input: "Once upon a time")
        #expect(piped.status == 0, "\(piped.err)")
        #expect(piped.out.contains("\"prompt_ids\":\(ids.out.trimmingCharacters(in: .whitespacesAndNewlines))"), "\(piped.out) vs \(ids.out)")
        // A rate of zero, not "40.0 tok/s", which also ends in "0.0 tok/s".
        #expect(piped.err.range(of: #"(^|[^0-9.])0\.0 tok/s"#, options: .regularExpression) == nil
                && piped.err.contains("generation: 1 token"), "\(piped.err)")
    }

    @Test func aTokenizerThatIsNotOneFailsAtLoad() throws {
        let dir = try DogeBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "{}".write(to: dir.appendingPathComponent("tokenizer.json"), atomically: true, encoding: .utf8)
        let r = try DogeBinary.run(["tokenize", "--tokenizer", dir.path, "--text", "hello"])
        #expect(r.status == 1 && r.err.contains(dir.appendingPathComponent("tokenizer.json").path), "\(r.err)")
        #expect(r.out.isEmpty)
    }

    /// Hub names: uncached or unreachable say what to do (exit 1); a name that is no name is a usage error.
    @Test func hubNamesFailClearly() throws {
        let cache = try DogeBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: cache) }
        let offline = ["HF_HUB_CACHE": cache.path, "HF_ENDPOINT": "http://127.0.0.1:1"]
        let cases: [([String], String)] = [
            (["generate", "--model", "NoOwner/NoModel", "Hi"], "run `doge download NoOwner/NoModel` while online"),
            (["logits", "--model", "NoOwner/NoModel", "--revision", "v2", "--ids", "1", "--output", "x.npy"], "--revision v2"),
            (["download", "NoOwner/NoModel"], "cannot reach the Hub at http://127.0.0.1:1"),
        ]
        for (arguments, mention) in cases {
            let r = try DogeBinary.run(arguments, environment: offline)
            #expect(r.status == 1, "\(arguments): \(r.err)")
            #expect(r.err.split(separator: "\n").count == 1 && r.err.contains(mention), "\(arguments): \(r.err)")
        }
        for arguments in [["download", "../etc"], ["generate", "--model", cache.path, "--revision", "main", "Hi"]] {
            let r = try DogeBinary.run(arguments, environment: offline)
            #expect(r.status == 64 && r.err.contains("Usage: doge"), "\(arguments): \(r.err)")
        }
    }
}
