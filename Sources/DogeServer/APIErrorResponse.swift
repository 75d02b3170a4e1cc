import Foundation
import Hummingbird

/// How Hummingbird answers an `APIError`.
extension APIError: HTTPResponseError {
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Any error a handler or Hummingbird throws, in OpenAI's shape.
    static func from(_ error: Error, path: String) -> APIError {
        if let e = error as? APIError { return e }
        if let e = error as? HTTPError {
            switch e.status {
            case .notFound: return .notFound(path)
            case .contentTooLarge:
                return APIError(status: .contentTooLarge, message: "the request body is larger than the server's limit",
                                type: "invalid_request_error", code: "request_too_large")
            case .badRequest: return .invalid(e.body ?? "bad request")
            default:
                return APIError(status: e.status, message: e.body ?? e.status.reasonPhrase, type: "invalid_request_error")
            }
        }
        return APIError(status: .internalServerError, message: "\(error)", type: "server_error")
    }
}

/// Puts every error, Hummingbird's own (404, 413 …) included, into OpenAI's shape.
struct OpenAIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            throw APIError.from(error, path: request.uri.path)
        }
    }
}
