import Foundation

/// What went wrong finding or fetching a model on the Hugging Face Hub; each message says what
/// to do next.
public enum HubError: Error, Equatable, CustomStringConvertible, Sendable {
    case invalidRepoName(String)
    case invalidRevision(String)
    /// The name is not in the cache, or not at that revision.
    case notCached(repo: String, revision: String, cache: String, detail: String)
    /// The endpoint could not be reached at all.
    case offline(endpoint: String, reason: String)
    /// The Hub answered with an HTTP error.
    case http(status: Int, url: String, repo: String, revision: String)
    /// The Hub's answer could not be understood.
    case badResponse(url: String, reason: String)
    /// The connection ended part-way; the partial file is kept for the next run to resume.
    case interrupted(file: String, received: Int, size: Int, reason: String)
    /// A file arrived with the wrong size or hash (it was not kept).
    case corrupt(file: String, reason: String)
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case .invalidRepoName(let name):
            return "'\(name)' is neither a model directory nor a Hub name OWNER/NAME (letters, digits, '-', '_', '.')"
        case .invalidRevision(let r):
            return "revision '\(r)' is not a branch, tag or commit name (no '..', no leading '/', no spaces)"
        case let .notCached(repo, revision, cache, detail):
            return "\(repo) (revision \(revision)) is not in the Hugging Face cache at \(cache): \(detail); "
                + "run `doge download \(repo)\(revision == "main" ? "" : " --revision \(revision)")` while online, "
                + "or pass a model directory"
        case let .offline(endpoint, reason):
            return "cannot reach the Hub at \(endpoint) (\(reason)): check the network, or set HF_ENDPOINT to a mirror; "
                + "models downloaded before load offline with --model OWNER/NAME"
        case let .http(status, url, repo, revision):
            switch status {
            case 401, 403:
                return "the Hub refused \(url) (HTTP \(status)): \(repo) may be private or gated; set HF_TOKEN to a token with access"
            case 404:
                return "\(repo) has no revision or file at \(url) (HTTP 404): check the name and --revision \(revision)"
            default:
                return "the Hub answered HTTP \(status) for \(url)"
            }
        case let .badResponse(url, reason):
            return "unexpected answer from \(url): \(reason)"
        case let .interrupted(file, received, size, reason):
            return "the download of \(file) stopped after \(received) of \(size) bytes (\(reason)): "
                + "run the same command again to resume it"
        case let .corrupt(file, reason):
            return "\(file) arrived damaged (\(reason)); it was discarded: run the download again"
        case let .io(path, reason):
            return "\(path): \(reason)"
        }
    }
}

/// The Hugging Face cache layout (as huggingface_hub writes it):
/// `<root>/models--OWNER--NAME/{blobs/<hash>, snapshots/<commit>/<file> → ../../blobs/<hash>, refs/<revision>}`.
public struct HubCache: Sendable {
    public let root: URL

    public init(root: URL) { self.root = root }

    /// `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub` (huggingface_hub's order;
    /// `XDG_CACHE_HOME` replaces `~/.cache` as it does there).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        func nonEmpty(_ key: String) -> String? { environment[key].flatMap { $0.isEmpty ? nil : $0 } }
        if let cache = nonEmpty("HF_HUB_CACHE") ?? nonEmpty("HUGGINGFACE_HUB_CACHE") {
            root = URL(fileURLWithPath: Self.expandTilde(cache, environment))
        } else if let home = nonEmpty("HF_HOME") {
            root = URL(fileURLWithPath: Self.expandTilde(home, environment)).appendingPathComponent("hub")
        } else {
            let xdg = nonEmpty("XDG_CACHE_HOME").map { Self.expandTilde($0, environment) }
                ?? ((nonEmpty("HOME") ?? NSHomeDirectory()) + "/.cache")
            root = URL(fileURLWithPath: xdg).appendingPathComponent("huggingface/hub")
        }
    }

    private static func expandTilde(_ path: String, _ environment: [String: String]) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        return (environment["HOME"] ?? NSHomeDirectory()) + path.dropFirst()
    }

    /// `OWNER/NAME` (or a bare `NAME`, as old Hub models): the parts huggingface_hub accepts.
    public static func isRepoName(_ name: String) -> Bool {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count) else { return false }
        return parts.allSatisfy { part in
            !part.isEmpty && part.count <= 96 && !part.hasPrefix("-") && !part.hasPrefix(".") && !part.hasSuffix(".")
                && !part.contains("--") && !part.contains("..")
                && part.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0)) }
        }
    }

    static func validate(revision: String) throws {
        let bad = revision.isEmpty || revision.hasPrefix("/") || revision.hasSuffix("/") || revision.contains("..")
            || revision.unicodeScalars.contains { $0.properties.isWhitespace || $0.value < 0x20 || "\\~^:?*[".unicodeScalars.contains($0) }
        if bad { throw HubError.invalidRevision(revision) }
    }

    public static func isCommitHash(_ s: String) -> Bool {
        s.utf8.count == 40 && s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }

    public func repoFolder(_ repo: String) -> URL {
        root.appendingPathComponent("models--" + repo.replacingOccurrences(of: "/", with: "--"))
    }

    /// The snapshot directory of `repo` at `revision` (a branch, tag or commit), without network.
    public func snapshot(repo: String, revision: String = "main") throws -> URL {
        guard Self.isRepoName(repo) else { throw HubError.invalidRepoName(repo) }
        try Self.validate(revision: revision)
        let folder = repoFolder(repo)
        let fm = FileManager.default
        func missing(_ detail: String) -> HubError {
            .notCached(repo: repo, revision: revision, cache: root.path, detail: detail)
        }
        guard fm.fileExists(atPath: folder.path) else { throw missing("no \(folder.lastPathComponent) folder") }
        var commit = revision
        if !Self.isCommitHash(revision) {
            let ref = folder.appendingPathComponent("refs").appendingPathComponent(revision)
            guard let text = try? String(contentsOf: ref, encoding: .utf8) else {
                throw missing("no refs/\(revision)")
            }
            commit = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard Self.isCommitHash(commit) else { throw missing("refs/\(revision) does not hold a commit hash") }
        }
        let snapshot = folder.appendingPathComponent("snapshots").appendingPathComponent(commit)
        guard fm.fileExists(atPath: snapshot.appendingPathComponent("config.json").path) else {
            throw missing("snapshots/\(commit) has no config.json")
        }
        return snapshot
    }
}

/// Turns a `--model` argument into a directory: an existing path is used as it is; otherwise a
/// Hub name `OWNER/NAME` is looked up in the Hugging Face cache at `revision`.
public enum ModelSource {
    public static func directory(for argument: String, revision: String? = nil, cache: HubCache = HubCache()) throws -> URL {
        let path = URL(fileURLWithPath: (argument as NSString).expandingTildeInPath)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path.path, isDirectory: &isDirectory) {
            if revision != nil {
                throw HubError.io(path: argument, reason: "a local directory; --revision applies only to Hub names OWNER/NAME")
            }
            return path
        }
        // A bare NAME is a Hub name only if the cache has it; otherwise it is most likely a mistyped path.
        let hubName = HubCache.isRepoName(argument)
            && (argument.contains("/") || FileManager.default.fileExists(atPath: cache.repoFolder(argument).path))
        guard hubName else {
            throw HubError.io(path: argument, reason: "no such model directory (and not a Hub name OWNER/NAME)")
        }
        do {
            return try cache.snapshot(repo: argument, revision: revision ?? "main")
        } catch HubError.notCached(let repo, let revision, let root, let detail) {
            throw HubError.notCached(repo: repo, revision: revision, cache: root,
                                     detail: detail + ", and there is no local directory \(argument)")
        }
    }
}
