import Foundation
import CDogeHub

/// Why a transfer did not complete: libcurl's code and message (no network, refused, cut off).
struct TransferError: Error, CustomStringConvertible {
    var code: Int32
    var description: String
}

/// Blocking HTTP GETs through libcurl, loaded at run time (FoundationNetworking cannot be linked
/// into a static binary without libcurl's development files): small bodies into memory, files
/// streamed to disk from a byte offset (a Range request, to resume) with a byte counter.
struct HTTPFileTransfer: Sendable {
    let headers: [String: String]
    var connectTimeout = 30

    init(headers: [String: String]) { self.headers = headers }

    struct Response {
        var status: Int
    }

    /// The receiving end of one transfer; libcurl calls `receive` on the calling thread.
    private final class Sink {
        var body = Data()
        var file: FileHandle?
        var start: Int
        var status = 0
        var writing = false
        var failure: Error?
        var progress: ((Int) -> Void)?

        init(file: FileHandle?, start: Int, progress: ((Int) -> Void)?) {
            self.file = file
            self.start = start
            self.progress = progress
        }

        func receive(status: Int, _ bytes: UnsafeRawBufferPointer) -> Bool {
            guard let file else { body.append(contentsOf: bytes); return true }
            if self.status == 0 {
                self.status = status
                do {
                    switch status {
                    case 206 where start > 0:
                        try file.seekToEnd()
                        writing = true
                    case 200:
                        // The server sent the whole file (no range, or it ignored ours): start over.
                        try file.truncate(atOffset: 0)
                        start = 0
                        writing = true
                    default:
                        writing = false   // an error page: never written into the blob
                    }
                } catch { failure = error; return false }
                progress?(start)
            }
            guard writing else { return true }
            do { try file.write(contentsOf: Data(bytes)) } catch { failure = error; return false }
            start += bytes.count
            progress?(start)
            return true
        }
    }

    private func run(_ url: URL, from start: Int, sink: Sink) throws -> Response {
        var lines = headers.map { "\($0.key): \($0.value)" }
        if start > 0 { lines.append("Range: bytes=\(start)-") }
        var cLines = lines.map { strdup($0) }
        defer { cLines.forEach { free($0) } }
        var status = 0
        var message = [CChar](repeating: 0, count: 256)
        let box = Unmanaged.passRetained(sink)
        defer { box.release() }
        let code = cLines.withUnsafeMutableBufferPointer { linesBuffer in
            linesBuffer.withMemoryRebound(to: UnsafePointer<CChar>?.self) { pointers in
                dh_curl_get(url.absoluteString, pointers.baseAddress, Int32(pointers.count), connectTimeout, { ctx, status, data, n in
                    let sink = Unmanaged<Sink>.fromOpaque(ctx!).takeUnretainedValue()
                    return sink.receive(status: status, UnsafeRawBufferPointer(start: data, count: n)) ? n : 0
                }, box.toOpaque(), &status, &message)
            }
        }
        if let failure = sink.failure { throw failure }
        guard code == 0 else {
            let text = message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            throw TransferError(code: code, description: String(decoding: text, as: UTF8.self))
        }
        return Response(status: status)
    }

    /// The whole body of a GET.
    func get(_ url: URL) throws -> (Response, Data) {
        let sink = Sink(file: nil, start: 0, progress: nil)
        let response = try run(url, from: 0, sink: sink)
        return (response, sink.body)
    }

    /// Streams a GET into `file` (appending from `start` when the server honours the range:
    /// status 206; with status 200 the file is rewritten from byte 0). Returns the response.
    func download(_ url: URL, to file: URL, from start: Int, progress: @escaping @Sendable (Int) -> Void) throws -> Response {
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        return try run(url, from: start, sink: Sink(file: handle, start: start, progress: progress))
    }
}
