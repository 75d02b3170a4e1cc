import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DogeHub

/// A tiny Hugging Face Hub on 127.0.0.1 (POSIX sockets, one connection at a time, HTTP/1.1 with
/// `Connection: close`): the model-info API with `blobs=true` and `resolve` downloads with Range.
final class MockHub: @unchecked Sendable {
    struct Repo {
        var commit: String
        var refs: [String: String]          // branch or tag → commit
        var files: [String: [UInt8]]
        var lfs: Set<String>                // files listed with an lfs sha256
        var token: String? = nil            // private: needs this bearer token
    }

    private let lock = NSLock()
    private var repos: [String: Repo] = [:]
    /// The first request for each of these files sends only this many bytes, then closes.
    private var cutOnce: [String: Int] = [:]
    /// These files are served with one byte flipped (their listing keeps the true hash).
    private var damaged: Set<String> = []
    private(set) var requests: [(path: String, range: String?)] = []
    private let listener: Int32
    private(set) var port: UInt16 = 0

    init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa -> Bool in
                bind(listener, sa, length) == 0 && listen(listener, 16) == 0 && getsockname(listener, sa, &length) == 0
            }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    var endpoint: URL { URL(string: "http://127.0.0.1:\(port)")! }

    /// Wakes the serving thread, which closes the listener itself: closing it here would free the
    /// descriptor number while that thread may still call accept() on it, and another test's
    /// listener can reuse the number (a stopped hub then answers for another).
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
    }

    func add(_ name: String, _ repo: Repo) { lock.withLock { repos[name] = repo } }
    func cut(_ file: String, after bytes: Int) { lock.withLock { cutOnce[file] = bytes } }
    func damage(_ file: String) { lock.withLock { _ = damaged.insert(file) } }
    var log: [(path: String, range: String?)] { lock.withLock { requests } }

    private func serve() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                close(listener)
                return
            }
            handle(client)
            close(client)
        }
    }

    private func handle(_ client: Int32) {
        var buffer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !buffer.ends(with: Array("\r\n\r\n".utf8)) {
            let n = recv(client, &chunk, chunk.count, 0)
            if n <= 0 { return }
            buffer += chunk[0..<n]
            if buffer.count > 65536 { return }
        }
        let lines = String(decoding: buffer, as: UTF8.self).components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count >= 2 else { return }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let target = String(parts[1])
        lock.withLock { requests.append((target, headers["range"])) }
        let (status, body, extra, cutAt) = route(target, headers: headers)
        var head = "HTTP/1.1 \(status) \(status < 300 ? "OK" : "Error")\r\nContent-Length: \(body.count)\r\nConnection: close\r\n"
        for (k, v) in extra { head += "\(k): \(v)\r\n" }
        sendAll(client, Array((head + "\r\n").utf8))
        sendAll(client, Array(body.prefix(cutAt ?? body.count)))
    }

    private func sendAll(_ client: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    private func route(_ target: String, headers: [String: String]) -> (Int, [UInt8], [String: String], Int?) {
        let path = target.split(separator: "?").first.map(String.init) ?? target
        let segments = path.split(separator: "/").map { $0.removingPercentEncoding ?? String($0) }
        return lock.withLock {
            // /api/models/OWNER/NAME/revision/REV
            if segments.count == 6, segments[0] == "api", segments[1] == "models", segments[4] == "revision" {
                let name = segments[2] + "/" + segments[3]
                guard let repo = repos[name] else { return (404, Array("{\"error\":\"Repository not found\"}".utf8), [:], nil) }
                if let token = repo.token, headers["authorization"] != "Bearer \(token)" { return (401, [], [:], nil) }
                guard let commit = repo.refs[segments[5]] ?? (repo.refs.values.contains(segments[5]) ? segments[5] : nil) else {
                    return (404, Array("{\"error\":\"Invalid rev id\"}".utf8), [:], nil)
                }
                return (200, listing(name: name, repo: repo, commit: commit), ["Content-Type": "application/json"], nil)
            }
            // /OWNER/NAME/resolve/COMMIT/FILE
            if segments.count >= 5, segments[2] == "resolve" {
                let name = segments[0] + "/" + segments[1]
                guard let repo = repos[name], segments[3] == repo.commit, var bytes = repo.files[segments[4...].joined(separator: "/")] else {
                    return (404, [], [:], nil)
                }
                if let token = repo.token, headers["authorization"] != "Bearer \(token)" { return (401, [], [:], nil) }
                let file = segments[4...].joined(separator: "/")
                if damaged.contains(file), !bytes.isEmpty { bytes[bytes.count / 2] ^= 0xFF }
                var cut: Int? = nil
                if let n = cutOnce.removeValue(forKey: file) { cut = n }
                if let range = headers["range"], range.hasPrefix("bytes="), range.hasSuffix("-"),
                   let start = Int(range.dropFirst(6).dropLast()) {
                    guard start < bytes.count else { return (416, [], [:], nil) }
                    return (206, Array(bytes[start...]), ["Content-Range": "bytes \(start)-\(bytes.count - 1)/\(bytes.count)"], cut)
                }
                return (200, bytes, [:], cut)
            }
            return (404, [], [:], nil)
        }
    }

    private func listing(name: String, repo: Repo, commit: String) -> [UInt8] {
        let siblings = repo.files.keys.sorted().map { file -> String in
            let bytes = repo.files[file]!
            if repo.lfs.contains(file) {
                var d = SHA256Digest(); d.update(bytes)
                return "{\"rfilename\":\"\(file)\",\"size\":\(bytes.count),\"blobId\":\"0000000000000000000000000000000000000000\",\"lfs\":{\"sha256\":\"\(d.finalize())\",\"size\":\(bytes.count),\"pointerSize\":134}}"
            }
            var d = SHA1Digest.gitBlob(size: bytes.count); d.update(bytes)
            return "{\"rfilename\":\"\(file)\",\"size\":\(bytes.count),\"blobId\":\"\(d.finalize())\"}"
        }
        return Array("{\"id\":\"\(name)\",\"sha\":\"\(commit)\",\"siblings\":[\(siblings.joined(separator: ","))]}".utf8)
    }
}

extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}
