import Foundation
import Hummingbird

extension DogeServer {
    /// The chat page at `/`: one self-contained HTML document compiled into the binary (works offline).
    func addPageRoutes(to router: Router<DogeRequestContext>) {
        let etag = "\"\(String(ChatPage.html.utf8.reduce(UInt64(0xcbf29ce484222325)) { ($0 ^ UInt64($1)) &* 0x100000001b3 }, radix: 16))\""
        router.get("/") { request, _ in
            if request.headers[.ifNoneMatch] == etag {
                return Response(status: .notModified, headers: [.eTag: etag])
            }
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .eTag: etag, .cacheControl: "no-cache"],
                            body: .init(byteBuffer: ByteBuffer(string: ChatPage.html)))
        }
    }
}
