import Foundation
import Testing
@testable import DogeHub
import DogeModel

/// Hub names against a mock Hub on the loopback address: the cache layout huggingface_hub
/// writes, downloads that resume and check sizes and hashes, and the errors.
@Suite struct HubTests {
    static let commit = "0123456789abcdef0123456789abcdef01234567"
    static let tagCommit = "fedcba9876543210fedcba9876543210fedcba98"
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("DogeModelTests/Fixtures/sharded")

    /// The `sharded` model fixture as a Hub repo, plus files a model directory does not need.
    static func shardedRepo(commit: String = commit, token: String? = nil) throws -> MockHub.Repo {
        var files: [String: [UInt8]] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: fixture.path) {
            files[name] = Array(try Data(contentsOf: fixture.appendingPathComponent(name)))
        }
        files["README.md"] = Array("# a model card\n".utf8)
        files["pytorch_model.bin"] = [1, 2, 3]
        files["onnx/model.json"] = Array("{}".utf8)
        let lfs = Set(files.keys.filter { $0.hasSuffix(".safetensors") || $0.hasSuffix(".bin") })
        return MockHub.Repo(commit: commit, refs: ["main": commit], files: files, lfs: lfs, token: token)
    }

    static func temporaryCache() throws -> HubCache {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("doge-hub-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return HubCache(root: dir)
    }

    @Test func cacheRootFollowsHuggingFaceEnvironment() {
        #expect(HubCache(environment: ["HF_HUB_CACHE": "/a/hub", "HF_HOME": "/b"]).root.path == "/a/hub")
        #expect(HubCache(environment: ["HF_HOME": "/b", "HOME": "/h"]).root.path == "/b/hub")
        #expect(HubCache(environment: ["HOME": "/h"]).root.path == "/h/.cache/huggingface/hub")
        #expect(HubCache(environment: ["HOME": "/h", "XDG_CACHE_HOME": "/x"]).root.path == "/x/huggingface/hub")
        #expect(HubCache(environment: ["HOME": "/h", "HF_HOME": "~/hf"]).root.path == "/h/hf/hub")
        let downloader = HubDownloader(environment: ["HF_ENDPOINT": "http://127.0.0.1:9/", "HF_TOKEN": "t", "HOME": "/h"])
        #expect(downloader.endpoint.absoluteString == "http://127.0.0.1:9")
        #expect(downloader.token == "t")
        #expect(HubDownloader(environment: ["HOME": "/nonexistent"]).endpoint.absoluteString == "https://huggingface.co")
    }

    @Test func downloadWritesTheCacheLayoutAndTheModelLoadsFromIt() throws {
        let hub = try MockHub()
        defer { hub.stop() }
        hub.add("SmallDoge/Doge-Test", try Self.shardedRepo())
        let cache = try Self.temporaryCache()
        defer { try? FileManager.default.removeItem(at: cache.root) }
        let downloader = HubDownloader(endpoint: hub.endpoint, token: nil, cache: cache)
        let seen = ProgressLog()
        let snapshot = try downloader.download(repo: "SmallDoge/Doge-Test") { seen.add($0) }
        let folder = cache.root.appendingPathComponent("models--SmallDoge--Doge-Test")
        #expect(snapshot.path == folder.path + "/snapshots/\(Self.commit)")
        #expect(try String(contentsOf: folder.appendingPathComponent("refs/main"), encoding: .utf8) == Self.commit)
        let wanted = ["config.json", "model.safetensors.index.json", "model-00001-of-00003.safetensors",
                      "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors", "reference.json",
                      "reference.safetensors"]
        let present = try FileManager.default.contentsOfDirectory(atPath: snapshot.path).sorted()
        #expect(present == wanted.sorted(), "README.md, pytorch_model.bin and sub-folders are not model files")
        for name in wanted {
            let link = try FileManager.default.destinationOfSymbolicLink(atPath: snapshot.appendingPathComponent(name).path)
            #expect(link.hasPrefix("../../blobs/"))
            #expect(try Data(contentsOf: snapshot.appendingPathComponent(name)) == Data(contentsOf: Self.fixture.appendingPathComponent(name)))
        }
        var sha = SHA256Digest()
        sha.update(Array(try Data(contentsOf: Self.fixture.appendingPathComponent("model-00002-of-00003.safetensors"))))
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("blobs/\(sha.finalize())").path),
                "LFS blobs are named by their SHA-256, as huggingface_hub names them")
        #expect(seen.last?.doneBytes == seen.last?.totalBytes && (seen.last?.totalBytes ?? 0) > 0)

        // --model OWNER/NAME resolves offline, by branch or commit, and loads the same model.
        #expect(try ModelSource.directory(for: "SmallDoge/Doge-Test", cache: cache).path == snapshot.path)
        #expect(try ModelSource.directory(for: "SmallDoge/Doge-Test", revision: Self.commit, cache: cache).path == snapshot.path)
        let ids = [[3, 1, 4, 1, 5, 9, 2, 6]]
        let viaHub = try DogeForCausalLM(directory: ModelSource.directory(for: "SmallDoge/Doge-Test", cache: cache)).logits(ids: ids)
        let direct = try DogeForCausalLM(directory: Self.fixture).logits(ids: ids)
        #expect(viaHub.data == direct.data)

        // A second run finds every blob and downloads nothing.
        let before = hub.log.count
        try downloader.download(repo: "SmallDoge/Doge-Test")
        #expect(hub.log.count == before + 1, "only the listing: \(hub.log.suffix(from: before).map(\.path))")
    }

    @Test func tagsGetTheirOwnRef() throws {
        let hub = try MockHub()
        defer { hub.stop() }
        var repo = try Self.shardedRepo(commit: Self.tagCommit)
        repo.refs = ["main": Self.commit, "v1.0": Self.tagCommit]
        hub.add("SmallDoge/Doge-Test", repo)
        let cache = try Self.temporaryCache()
        defer { try? FileManager.default.removeItem(at: cache.root) }
        let snapshot = try HubDownloader(endpoint: hub.endpoint, token: nil, cache: cache).download(repo: "SmallDoge/Doge-Test", revision: "v1.0")
        #expect(snapshot.lastPathComponent == Self.tagCommit)
        #expect(try ModelSource.directory(for: "SmallDoge/Doge-Test", revision: "v1.0", cache: cache).path == snapshot.path)
        #expect(throws: HubError.self) { try ModelSource.directory(for: "SmallDoge/Doge-Test", cache: cache) }   // no refs/main yet
    }

    @Test func anInterruptedDownloadResumesWithARangeRequest() throws {
        let hub = try MockHub()
        defer { hub.stop() }
        hub.add("SmallDoge/Doge-Test", try Self.shardedRepo())
        let shard = "model-00001-of-00003.safetensors"
        hub.cut(shard, after: 10_000)
        let cache = try Self.temporaryCache()
        defer { try? FileManager.default.removeItem(at: cache.root) }
        let downloader = HubDownloader(endpoint: hub.endpoint, token: nil, cache: cache)
        do {
            try downloader.download(repo: "SmallDoge/Doge-Test")
            Issue.record("a connection cut mid-file must fail the download")
        } catch let error as HubError {
            guard case .interrupted(let file, let received, let size, _) = error else { Issue.record("\(error)"); return }
            #expect(file == shard && received == 10_000 && size == 38_528)
            #expect(error.description.contains("run the same command again to resume"))
        }
        let blobs = cache.root.appendingPathComponent("models--SmallDoge--Doge-Test/blobs")
        let partials = try FileManager.default.contentsOfDirectory(atPath: blobs.path).filter { $0.hasSuffix(".incomplete") }
        #expect(partials.count == 1)
        try downloader.download(repo: "SmallDoge/Doge-Test")
        #expect(hub.log.contains { $0.path.hasSuffix(shard) && $0.range == "bytes=10000-" })
        #expect(try FileManager.default.contentsOfDirectory(atPath: blobs.path).allSatisfy { !$0.hasSuffix(".incomplete") })
        let snapshot = try ModelSource.directory(for: "SmallDoge/Doge-Test", cache: cache)
        #expect(try Data(contentsOf: snapshot.appendingPathComponent(shard)) == Data(contentsOf: Self.fixture.appendingPathComponent(shard)))
    }

    @Test(arguments: ["config.json", "model-00003-of-00003.safetensors"])
    func aDamagedFileIsRejectedAndNotKept(file: String) throws {
        let hub = try MockHub()
        defer { hub.stop() }
        hub.add("SmallDoge/Doge-Test", try Self.shardedRepo())
        hub.damage(file)
        let cache = try Self.temporaryCache()
        defer { try? FileManager.default.removeItem(at: cache.root) }
        #expect {
            try HubDownloader(endpoint: hub.endpoint, token: nil, cache: cache).download(repo: "SmallDoge/Doge-Test")
        } throws: { error in
            guard let error = error as? HubError, case .corrupt(let name, let reason) = error else { return false }
            return name == file && reason.contains(file.hasSuffix(".json") ? "git blob id" : "SHA-256")
        }
        let blobs = cache.root.appendingPathComponent("models--SmallDoge--Doge-Test/blobs")
        #expect(try FileManager.default.contentsOfDirectory(atPath: blobs.path).allSatisfy { !$0.hasSuffix(".incomplete") })
    }

    @Test func privateReposNeedTheToken() throws {
        let hub = try MockHub()
        defer { hub.stop() }
        hub.add("SmallDoge/Private", try Self.shardedRepo(token: "hf_secret"))
        let cache = try Self.temporaryCache()
        defer { try? FileManager.default.removeItem(at: cache.root) }
        #expect {
            try HubDownloader(endpoint: hub.endpoint, token: nil, cache: cache).download(repo: "SmallDoge/Private")
        } throws: { error in
            (error as? HubError).map { $0.description.contains("HTTP 401") && $0.description.contains("HF_TOKEN") } ?? false
        }
        try HubDownloader(endpoint: hub.endpoint, token: "hf_secret", cache: cache).download(repo: "SmallDoge/Private")
    }

    @Test func unknownReposAndRevisionsSaySo() throws {
        let hub = try MockHub()
        defer { hub.stop() }
        hub.add("SmallDoge/Doge-Test", try Self.shardedRepo())
        let cache = try Self.temporaryCache()
        defer { try? FileManager.default.removeItem(at: cache.root) }
        let downloader = HubDownloader(endpoint: hub.endpoint, token: nil, cache: cache)
        for (repo, revision) in [("SmallDoge/Nope", "main"), ("SmallDoge/Doge-Test", "no-such-branch")] {
            #expect {
                try downloader.download(repo: repo, revision: revision)
            } throws: { error in
                (error as? HubError).map { $0.description.contains("HTTP 404") && $0.description.contains(revision) } ?? false
            }
        }
    }

    @Test func offlineAndUncachedNamesGiveClearErrors() throws {
        // A port nobody listens on (privileged, so no test's mock hub can take it): refused, as with no network.
        let closed = URL(string: "http://127.0.0.1:1")!
        let cache = try Self.temporaryCache()
        defer { try? FileManager.default.removeItem(at: cache.root) }
        #expect {
            try HubDownloader(endpoint: closed, token: nil, cache: cache).download(repo: "SmallDoge/Doge-20M")
        } throws: { error in
            guard let error = error as? HubError, case .offline = error else { return false }
            return error.description.contains("cannot reach the Hub at \(closed.absoluteString)")
        }
        #expect {
            try ModelSource.directory(for: "SmallDoge/Doge-20M", cache: cache)
        } throws: { error in
            guard let error = error as? HubError, case .notCached = error else { return false }
            return error.description.contains("doge download SmallDoge/Doge-20M") && error.description.contains(cache.root.path)
        }
        #expect {
            try ModelSource.directory(for: "SmallDoge/Doge-20M", revision: "v2", cache: cache)
        } throws: { error in
            (error as? HubError)?.description.contains("--revision v2") ?? false
        }
    }

    @Test func badNamesAndRevisionsAreRejected() throws {
        let cache = try Self.temporaryCache()
        defer { try? FileManager.default.removeItem(at: cache.root) }
        for name in ["a/b/c", "../x", "owner/na me", "owner/-x", "owner/x--y", ""] {
            #expect(!HubCache.isRepoName(name), "\(name)")
        }
        #expect(HubCache.isRepoName("SmallDoge/Doge-20M-Instruct") && HubCache.isRepoName("gpt2"))
        #expect(throws: HubError.self) { try cache.snapshot(repo: "SmallDoge/Doge-20M", revision: "../../etc") }
        #expect(throws: HubError.self) { try ModelSource.directory(for: "no-such-dir", cache: cache) }
        // A local directory wins over a Hub name, and --revision does not apply to it.
        #expect(try ModelSource.directory(for: Self.fixture.path, cache: cache).path == Self.fixture.path)
        #expect(throws: HubError.self) { try ModelSource.directory(for: Self.fixture.path, revision: "main", cache: cache) }
    }

    @Test func digestsMatchKnownValues() {
        var empty = SHA256Digest()
        #expect(empty.finalize() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        var abc = SHA256Digest()
        abc.update(Array("abc".utf8))
        #expect(abc.finalize() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        var long = SHA256Digest()   // 448-bit message: padding spills into a second block; fed in odd pieces
        let message = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        long.update(Array(message[0..<7])); long.update(Array(message[7...]))
        #expect(long.finalize() == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var blob = SHA1Digest.gitBlob(size: 6)   // `git hash-object` of "hello\n"
        blob.update(Array("hello\n".utf8))
        #expect(blob.finalize() == "ce013625030ba8dba906f756967f9e9ca394464a")
    }
}

final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [HubProgress] = []
    func add(_ p: HubProgress) { lock.withLock { events.append(p) } }
    var last: HubProgress? { lock.withLock { events.last } }
}
