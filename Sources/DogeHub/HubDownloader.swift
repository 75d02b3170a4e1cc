import Foundation
import DogeJSON

/// One file of a Hub revision as `/api/models/{repo}/revision/{rev}?blobs=true` lists it.
public struct HubFile: Sendable, Equatable {
    public var name: String
    public var size: Int
    /// SHA-256 of the bytes for LFS files (weights); the git blob id (SHA-1) otherwise.
    public var hash: String
    public var isLFS: Bool
}

/// Progress of a download, for a progress bar.
public struct HubProgress: Sendable {
    public var file: String
    public var fileBytes: Int
    public var fileSize: Int
    public var doneBytes: Int
    public var totalBytes: Int
}

/// Downloads a model revision from the Hub (`$HF_ENDPOINT`, `$HF_TOKEN`) into the Hugging Face
/// cache layout, as huggingface_hub's `snapshot_download` does: blobs named by hash, written to
/// `<hash>.incomplete` first (a later run resumes it with a Range request), checked against the
/// listed size and hash, renamed, then linked from `snapshots/<commit>/`.
public struct HubDownloader: Sendable {
    public var endpoint: URL
    public var token: String?
    public var cache: HubCache

    public init(endpoint: URL, token: String?, cache: HubCache) {
        self.endpoint = endpoint
        self.token = token
        self.cache = cache
    }

    /// Endpoint, token and cache from the environment (huggingface_hub's variables).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let raw = environment["HF_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://huggingface.co"
        endpoint = URL(string: raw.hasSuffix("/") ? String(raw.dropLast()) : raw) ?? URL(string: "https://huggingface.co")!
        cache = HubCache(environment: environment)
        if let t = environment["HF_TOKEN"] ?? environment["HUGGING_FACE_HUB_TOKEN"], !t.isEmpty {
            token = t
        } else {
            let home = environment["HF_HOME"].flatMap { $0.isEmpty ? nil : $0 }
                ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.cache/huggingface")
            let path = environment["HF_TOKEN_PATH"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/token"
            token = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            if token?.isEmpty == true { token = nil }
        }
    }

    /// Which files of a revision a model directory needs: top-level configs, tokenizer files,
    /// chat templates and safetensors weights (every shard).
    public static func wanted(_ name: String) -> Bool {
        guard !name.contains("/") else { return false }
        return [".json", ".safetensors", ".jinja", ".txt"].contains { name.hasSuffix($0) }
    }

    private var transfer: HTTPFileTransfer {
        var headers = ["User-Agent": "swift-doge"]
        if let token { headers["Authorization"] = "Bearer \(token)" }
        return HTTPFileTransfer(headers: headers)
    }

    private func escaped(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_."))) ?? s
    }

    /// The commit a revision points to and its files.
    public func listing(repo: String, revision: String) throws -> (commit: String, files: [HubFile]) {
        guard HubCache.isRepoName(repo) else { throw HubError.invalidRepoName(repo) }
        try HubCache.validate(revision: revision)
        let url = URL(string: "\(endpoint.absoluteString)/api/models/\(repo)/revision/\(escaped(revision))?blobs=true")!
        let (response, body) = try call { try transfer.get(url) }
        guard response.status == 200 else {
            throw HubError.http(status: response.status, url: url.absoluteString, repo: repo, revision: revision)
        }
        func bad(_ reason: String) -> HubError { .badResponse(url: url.absoluteString, reason: reason) }
        let document: JSONNode
        do { document = try JSONNode.parse(body) } catch { throw bad("not JSON: \(error)") }
        guard case .object(let top) = document else { throw bad("not a JSON object") }
        guard case .string(let commit)? = top.first(where: { $0.key == "sha" })?.value, HubCache.isCommitHash(commit) else {
            throw bad("no commit hash in \"sha\"")
        }
        guard case .array(let siblings)? = top.first(where: { $0.key == "siblings" })?.value else { throw bad("no \"siblings\" list") }
        var files: [HubFile] = []
        for sibling in siblings {
            guard case .object(let fields) = sibling else { throw bad("a sibling is not an object") }
            func field(_ key: String, in object: [(key: String, value: JSONNode)]) -> JSONNode? {
                object.first(where: { $0.key == key })?.value
            }
            guard case .string(let name)? = field("rfilename", in: fields) else { throw bad("a sibling has no rfilename") }
            if case .object(let lfs)? = field("lfs", in: fields) {
                guard case .string(let sha)? = field("sha256", in: lfs), case .int(let size)? = field("size", in: lfs) else {
                    throw bad("\(name): lfs without sha256 and size")
                }
                files.append(HubFile(name: name, size: size, hash: sha.lowercased(), isLFS: true))
            } else {
                guard case .string(let blob)? = field("blobId", in: fields), case .int(let size)? = field("size", in: fields) else {
                    throw bad("\(name): no blobId and size (the listing must be asked with blobs=true)")
                }
                files.append(HubFile(name: name, size: size, hash: blob.lowercased(), isLFS: false))
            }
        }
        return (commit, files)
    }

    /// Downloads what a model directory needs at `revision` and returns its snapshot directory.
    @discardableResult
    public func download(repo: String, revision: String = "main", progress: (@Sendable (HubProgress) -> Void)? = nil) throws -> URL {
        let (commit, all) = try listing(repo: repo, revision: revision)
        let files = all.filter { Self.wanted($0.name) }
        guard files.contains(where: { $0.name == "config.json" }) else {
            throw HubError.badResponse(url: endpoint.absoluteString, reason: "\(repo) at \(revision) has no config.json: not a model repository")
        }
        guard files.contains(where: { $0.name.hasSuffix(".safetensors") }) else {
            throw HubError.badResponse(url: endpoint.absoluteString,
                                       reason: "\(repo) at \(revision) has no .safetensors weights (swift-doge reads safetensors only)")
        }
        let folder = cache.repoFolder(repo)
        let blobs = folder.appendingPathComponent("blobs")
        let snapshot = folder.appendingPathComponent("snapshots").appendingPathComponent(commit)
        let fm = FileManager.default
        try io(blobs.path) { try fm.createDirectory(at: blobs, withIntermediateDirectories: true) }
        try io(snapshot.path) { try fm.createDirectory(at: snapshot, withIntermediateDirectories: true) }
        let total = files.reduce(0) { $0 + $1.size }
        var done = 0
        for file in files {
            let blob = blobs.appendingPathComponent(file.hash)
            if let size = try? fm.attributesOfItem(atPath: blob.path)[.size] as? Int, size == file.size {
                done += file.size   // already downloaded (by us or by huggingface_hub)
            } else {
                let base = done
                try fetch(file, repo: repo, commit: commit, revision: revision, into: blob) { bytes in
                    progress?(HubProgress(file: file.name, fileBytes: bytes, fileSize: file.size, doneBytes: base + bytes, totalBytes: total))
                }
                done += file.size
            }
            progress?(HubProgress(file: file.name, fileBytes: file.size, fileSize: file.size, doneBytes: done, totalBytes: total))
            let link = snapshot.appendingPathComponent(file.name)
            try io(link.path) {
                if (try? fm.destinationOfSymbolicLink(atPath: link.path)) != nil || fm.fileExists(atPath: link.path) {
                    try fm.removeItem(at: link)
                }
                try fm.createSymbolicLink(atPath: link.path, withDestinationPath: "../../blobs/\(file.hash)")
            }
        }
        if revision != commit {
            let refs = folder.appendingPathComponent("refs")
            let ref = refs.appendingPathComponent(revision)
            try io(ref.path) {
                try fm.createDirectory(at: ref.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(commit.utf8).write(to: ref, options: .atomic)
            }
        }
        return snapshot
    }

    /// One blob: resume or start `<hash>.incomplete`, check size and hash, rename into place.
    private func fetch(_ file: HubFile, repo: String, commit: String, revision: String, into blob: URL,
                       progress: @escaping @Sendable (Int) -> Void) throws {
        let fm = FileManager.default
        let partial = URL(fileURLWithPath: blob.path + ".incomplete")
        if !fm.fileExists(atPath: partial.path) {
            try io(partial.path) { guard fm.createFile(atPath: partial.path, contents: nil) else { throw CocoaError(.fileWriteUnknown) } }
        }
        var have = (try? fm.attributesOfItem(atPath: partial.path)[.size] as? Int) ?? 0
        if have > file.size {   // not a prefix of this file: start over
            try io(partial.path) { try Data().write(to: partial) }
            have = 0
        }
        let path = file.name.split(separator: "/").map { escaped(String($0)) }.joined(separator: "/")
        let url = URL(string: "\(endpoint.absoluteString)/\(repo)/resolve/\(commit)/\(path)")!
        if have < file.size || file.size == 0 {
            let response: HTTPFileTransfer.Response
            do {
                response = try call { try transfer.download(url, to: partial, from: have, progress: progress) }
            } catch HubError.offline(_, let reason) where ((try? fm.attributesOfItem(atPath: partial.path)[.size] as? Int) ?? 0) > have {
                let received = (try? fm.attributesOfItem(atPath: partial.path)[.size] as? Int) ?? 0
                throw HubError.interrupted(file: file.name, received: received, size: file.size, reason: reason)
            }
            if response.status == 416 {   // the range is past the end: the partial file is not ours
                try io(partial.path) { try Data().write(to: partial) }
                return try fetch(file, repo: repo, commit: commit, revision: revision, into: blob, progress: progress)
            }
            guard response.status == 200 || response.status == 206 else {
                throw HubError.http(status: response.status, url: url.absoluteString, repo: repo, revision: revision)
            }
        }
        let size = (try? fm.attributesOfItem(atPath: partial.path)[.size] as? Int) ?? -1
        guard size == file.size else {
            if size > file.size { try? fm.removeItem(at: partial) }
            if size < file.size {
                throw HubError.interrupted(file: file.name, received: size, size: file.size, reason: "the server closed the connection")
            }
            throw HubError.corrupt(file: file.name, reason: "\(size) bytes where the Hub lists \(file.size)")
        }
        let digest = try hash(of: partial, gitBlob: !file.isLFS, size: size)
        guard digest == file.hash else {
            try? fm.removeItem(at: partial)
            throw HubError.corrupt(file: file.name, reason: "\(file.isLFS ? "SHA-256" : "git blob id") \(digest), expected \(file.hash)")
        }
        try io(blob.path) {
            if fm.fileExists(atPath: blob.path) { try fm.removeItem(at: blob) }
            try fm.moveItem(at: partial, to: blob)
        }
    }

    private func hash(of url: URL, gitBlob: Bool, size: Int) throws -> String {
        let handle = try io(url.path) { try FileHandle(forReadingFrom: url) }
        defer { try? handle.close() }
        var sha256 = SHA256Digest(), sha1 = SHA1Digest.gitBlob(size: size)
        while let chunk = try io(url.path, { try handle.read(upToCount: 1 << 20) }), !chunk.isEmpty {
            chunk.withUnsafeBytes { gitBlob ? sha1.update($0) : sha256.update($0) }
        }
        return gitBlob ? sha1.finalize() : sha256.finalize()
    }

    /// Network failures become `.offline` with the reason; the Hub's own answers pass through.
    private func call<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as HubError { throw error } catch let error as TransferError {
            throw HubError.offline(endpoint: endpoint.absoluteString, reason: error.description)
        } catch {
            throw HubError.io(path: endpoint.absoluteString, reason: (error as NSError).localizedDescription)
        }
    }

    private func io<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as HubError { throw error } catch {
            throw HubError.io(path: path, reason: (error as NSError).localizedDescription)
        }
    }
}
