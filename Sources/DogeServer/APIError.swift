import Foundation
import Hummingbird

/// An error in OpenAI's shape: `{"error":{"message","type","param","code"}}`, which the official
/// client turns into BadRequestError, AuthenticationError, … by status.
public struct APIError: Error, HTTPResponseError, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    public var type: String
    public var param: String?
    public var code: String?
    public var headers: HTTPFields = [:]

    public init(status: HTTPResponse.Status, message: String, type: String, param: String? = nil, code: String? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
    }

    public var description: String { "\(status.code) \(type): \(message)" }

    static func invalid(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
        APIError(status: .badRequest, message: message, type: "invalid_request_error", param: param, code: code)
    }

    static func wrongType(_ param: String, expected: String) -> APIError {
        invalid("'\(param)' must be \(expected)", param: param, code: "invalid_type")
    }

    static func outOfRange(_ param: String, _ detail: String) -> APIError {
        invalid("'\(param)' \(detail)", param: param, code: "invalid_value")
    }

    static let unauthorized = APIError(status: .unauthorized, message: "Invalid API key: send it as 'Authorization: Bearer KEY' or 'X-Api-Key: KEY'",
                                       type: "authentication_error", code: "invalid_api_key")

    static func notFound(_ path: String) -> APIError {
        APIError(status: .notFound, message: "no route for \(path)", type: "not_found_error", code: "not_found")
    }

    var body: [String: Any] {
        ["error": ["message": message, "type": type, "param": param as Any? ?? NSNull(), "code": code as Any? ?? NSNull()]]
    }

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
