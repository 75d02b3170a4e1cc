import ArgumentParser
import Foundation
import DogeGeneration
import DogeServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the model over an OpenAI-compatible HTTP API, with a chat page at /.",
        discussion: """
            Endpoints (each also without the /v1 prefix): POST /v1/chat/completions, POST /v1/completions, \
            GET /v1/models, GET /health, GET /metrics (Prometheus), POST /tokenize, /detokenize, /apply-template, \
            /api/conversations (the page's saved chats). Up to --parallel requests decode together \
            (continuous batching); more wait in a queue of --queue, then get 503.

              doge serve                                  # the bundled instruct model on http://127.0.0.1:8080
              doge serve --model DIR --port 9000 --parallel 8 --api-key secret
              curl http://127.0.0.1:8080/v1/chat/completions -H 'Content-Type: application/json' \\
                -d '{"messages":[{"role":"user","content":"Hi"}]}'
            """
    )

    @Option(name: .long, help: "Model directory (Hugging Face layout). Default: $DOGE_MODEL, else the bundled instruct model (Models/doge-tiny-instruct).")
    var model: String?

    @Option(name: .long, help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(name: .long, help: "Port to listen on (0: any free port, printed at start).")
    var port = 8080

    @Option(name: .customLong("api-key"), help: "Require this key (Bearer or X-Api-Key); repeatable. /health and the page stay open.")
    var apiKeys: [String] = []

    @Option(name: .long, help: "Requests decoded together (continuous-batching slots).")
    var parallel = 4

    @Option(name: .long, help: "Requests that may wait for a slot; beyond that the server answers 503 with Retry-After.")
    var queue = 64

    @Option(name: .long, help: "SQLite file for the page's conversations. Default: $XDG_DATA_HOME/doge/conversations.sqlite (~/.local/share/doge/…).")
    var db: String?

    @Flag(name: .customLong("no-webui"), help: "Do not serve the chat page.")
    var noWebUI = false

    @Option(name: .long, help: "Largest request body in bytes (413 above it).")
    var maxBodyBytes = 8 << 20

    @Option(name: .long, help: "Model id that /v1/models lists (default: the model directory's name).")
    var alias: String?

    func validate() throws {
        guard (1...256).contains(parallel) else { throw ValidationError("--parallel must be between 1 and 256, got \(parallel)") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535, got \(port)") }
        guard queue >= 0 else { throw ValidationError("--queue must be ≥ 0, got \(queue)") }
        guard maxBodyBytes >= 1024 else { throw ValidationError("--max-body-bytes must be at least 1024, got \(maxBodyBytes)") }
        if apiKeys.contains("") { throw ValidationError("--api-key must not be empty") }
    }

    static func defaultDatabasePath() -> String {
        let env = ProcessInfo.processInfo.environment
        let base = env["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (env["HOME"] ?? NSHomeDirectory()) + "/.local/share"
        return base + "/doge/conversations.sqlite"
    }

    func run() async throws {
        let directory = try ModelLocator.resolve(model, bundled: .instruct)
        let generator: TextGenerator
        do { generator = try TextGenerator(directory: directory) } catch {
            throw RunError("cannot load the model at \(directory.path): \(CLIFailure.message(for: error))")
        }
        var options = ServerOptions()
        options.host = host
        options.port = port
        options.apiKeys = apiKeys
        options.parallel = parallel
        options.queueLimit = queue
        options.databasePath = db ?? Self.defaultDatabasePath()
        options.webUI = !noWebUI
        options.maxBodyBytes = maxBodyBytes
        options.modelID = alias ?? directory.standardizedFileURL.lastPathComponent
        DogeServer.bootstrapLogging()
        let server: DogeServer
        do { server = try DogeServer(generator: generator, options: options) } catch {
            throw RunError("cannot open the conversation database \(options.databasePath ?? ""): \(CLIFailure.message(for: error)) (choose another file with --db)")
        }
        let webUI = options.webUI
        do {
            try await server.run { address in
                FileHandle.standardOutput.write(Data("doge serve: listening on http://\(address)\(webUI ? " (chat page at /)" : "")\n".utf8))
            }
        } catch {
            throw RunError("cannot serve on \(host):\(port): \(CLIFailure.message(for: error))")
        }
    }
}
