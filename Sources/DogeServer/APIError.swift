import Foundation
import HTTPTypes

/// An error in OpenAI's shape: `{"error":{"message","type","param","code"}}`, which the official
/// client turns into BadRequestError, AuthenticationError, … by status.
/// Hummingbird-free (HTTPTypes only), so request decoding builds without the server (scripts/fuzz).
public struct APIError: Error, CustomStringConvertible {
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
}
