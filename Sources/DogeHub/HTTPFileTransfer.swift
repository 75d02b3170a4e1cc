import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Blocking HTTP GETs over URLSession: small bodies into memory, files streamed to disk with an
/// optional `Range` start (to resume) and a byte counter for progress.
final class HTTPFileTransfer: Sendable {
    let configuration: URLSessionConfiguration
    let headers: [String: String]

    init(headers: [String: String], timeout: TimeInterval = 30) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        self.configuration = configuration
        self.headers = headers
    }

    struct Response {
        var status: Int
        var headers: [String: String]
    }

    func request(_ url: URL, range start: Int = 0) -> URLRequest {
        var request = URLRequest(url: url)
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        if start > 0 { request.setValue("bytes=\(start)-", forHTTPHeaderField: "Range") }
        return request
    }

    /// Runs one task with its own session (a session holds its delegate) and waits for it.
    private func run(_ request: URLRequest, _ sink: TransferDelegate) throws -> Response {
        let session = URLSession(configuration: configuration, delegate: sink, delegateQueue: nil)
        session.dataTask(with: request).resume()
        sink.done.wait()
        session.finishTasksAndInvalidate()
        if let error = sink.error { throw error }
        return sink.response!
    }

    /// The whole body of a GET.
    func get(_ url: URL) throws -> (Response, Data) {
        let sink = TransferDelegate(file: nil, start: 0, progress: nil)
        let response = try run(request(url), sink)
        return (response, sink.body)
    }

    /// Streams a GET into `file` (appending from `start` when the server honours the range:
    /// status 206; with status 200 the file is rewritten from byte 0). Returns the response.
    func download(_ url: URL, to file: URL, from start: Int, progress: @escaping @Sendable (Int) -> Void) throws -> Response {
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        return try run(request(url, range: start), TransferDelegate(file: handle, start: start, progress: progress))
    }
}

/// Receives one task's events on URLSession's queue; the caller waits on `done`.
private final class TransferDelegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let file: FileHandle?
    let progress: (@Sendable (Int) -> Void)?
    let done = DispatchSemaphore(value: 0)
    var start: Int
    var response: HTTPFileTransfer.Response?
    var body = Data()
    var error: Error?
    private var writing = false

    init(file: FileHandle?, start: Int, progress: (@Sendable (Int) -> Void)?) {
        self.file = file
        self.start = start
        self.progress = progress
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        let http = response as? HTTPURLResponse
        var headers: [String: String] = [:]
        for (k, v) in http?.allHeaderFields ?? [:] { headers[String(describing: k).lowercased()] = String(describing: v) }
        let status = http?.statusCode ?? 0
        self.response = .init(status: status, headers: headers)
        if let file {
            do {
                switch status {
                case 206 where start > 0:
                    try file.seekToEnd()
                    writing = true
                case 200:
                    // The server sent the whole file: start over.
                    try file.truncate(atOffset: 0)
                    start = 0
                    writing = true
                default:
                    writing = false   // an error page: never written into the blob
                }
            } catch {
                self.error = error
                completionHandler(.cancel)
                return
            }
            progress?(start)
        }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard let file else { body.append(data); return }
        guard writing else { return }
        do { try file.write(contentsOf: data) } catch {
            self.error = error
            writing = false
            dataTask.cancel()
            return
        }
        start += data.count
        progress?(start)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if self.error == nil { self.error = error }
        done.signal()
    }
}
