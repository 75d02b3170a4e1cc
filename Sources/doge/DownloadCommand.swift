import ArgumentParser
import Foundation
import DogeHub

struct DownloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "download",
        abstract: "Download a model from the Hugging Face Hub into the Hugging Face cache.",
        discussion: """
            Fetches what a model directory needs at a revision — config.json, tokenizer and \
            generation files, chat templates and the safetensors weights (every shard) — into the \
            cache layout huggingface_hub uses, so both tools share downloads. Afterwards every \
            command takes the name: doge generate --model OWNER/NAME.

            An interrupted download resumes where it stopped when run again; each file is checked \
            against the size and hash (SHA-256, or the git blob id) the Hub lists before it is kept.

            Environment: HF_ENDPOINT (default https://huggingface.co), HF_TOKEN (private and gated \
            models; else the token file of `huggingface-cli login`), HF_HUB_CACHE or HF_HOME \
            (default ~/.cache/huggingface/hub).

              doge download SmallDoge/Doge-20M-Instruct
              doge download SmallDoge/Doge-20M --revision v1.0
            """
    )

    @Argument(help: "Hub model name OWNER/NAME.")
    var repo: String

    @Option(name: .long, help: "Branch, tag or commit.")
    var revision: String = "main"

    @Flag(name: .long, help: "No progress bar.")
    var quiet = false

    func validate() throws {
        guard HubCache.isRepoName(repo) else {
            throw ValidationError("'\(repo)' is not a Hub model name OWNER/NAME")
        }
    }

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        if let offline = environment["HF_HUB_OFFLINE"], ["1", "true", "yes", "on"].contains(offline.lowercased()) {
            throw HubError.offline(endpoint: environment["HF_ENDPOINT"] ?? "https://huggingface.co", reason: "HF_HUB_OFFLINE is set")
        }
        let downloader = HubDownloader(environment: environment)
        let bar = DownloadProgressBar(enabled: !quiet)
        let snapshot: URL
        do {
            snapshot = try downloader.download(repo: repo, revision: revision) { bar.update($0) }
        } catch let error as HubError {
            bar.finish()
            if case .offline = error, let cached = try? downloader.cache.snapshot(repo: repo, revision: revision) {
                throw RunError("\(error.description) (a copy downloaded before is at \(cached.path))")
            }
            throw error
        }
        bar.finish()
        print(snapshot.path)
    }
}

/// One line on stderr, redrawn at most 10 times a second: bar, percentage, MB done of total, speed, file.
final class DownloadProgressBar: @unchecked Sendable {
    private let enabled: Bool
    private let lock = NSLock()
    private var lastDraw: UInt64 = 0
    private let start = DispatchTime.now().uptimeNanoseconds
    private var drawn = false

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ p: HubProgress) {
        guard enabled else { return }
        lock.withLock {
            let now = DispatchTime.now().uptimeNanoseconds
            guard now - lastDraw > 100_000_000 || p.doneBytes == p.totalBytes else { return }
            lastDraw = now
            let fraction = p.totalBytes > 0 ? Double(p.doneBytes) / Double(p.totalBytes) : 1
            let width = 30
            let filled = Int(fraction * Double(width))
            let seconds = max(Double(now - start) / 1e9, 1e-3)
            let mb = { (b: Int) in String(format: "%.1f", Double(b) / 1_048_576) }
            let line = "[\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] "
                + String(format: "%3.0f%% ", fraction * 100) + "\(mb(p.doneBytes))/\(mb(p.totalBytes)) MB "
                + String(format: "%.1f MB/s ", Double(p.doneBytes) / 1_048_576 / seconds) + p.file
            FileHandle.standardError.write(Data(("\r" + line + "\u{1B}[K").utf8))
            drawn = true
        }
    }

    func finish() {
        lock.withLock { if drawn { FileHandle.standardError.write(Data("\n".utf8)); drawn = false } }
    }
}
