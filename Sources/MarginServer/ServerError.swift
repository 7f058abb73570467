import Hummingbird
import MarginCore
import MarginWire

/// A failure the server reports to a client: an HTTP status, a stable code and a message
/// naming what was wrong and what to do, sent as `{"error": {"code", "message"}}`.
/// Messages never contain tokens, note text or other payloads.
public struct ServerError: Error, Sendable, CustomStringConvertible, HTTPResponseError {
    /// What kind of failure it is; each maps to one HTTP status.
    public enum Code: String, Sendable {
        case badRequest = "bad_request"
        case unauthorized
        case forbidden
        case notFound = "not_found"
        case methodNotAllowed = "method_not_allowed"
        case sequenceGap = "sequence_gap"
        case tooLarge = "too_large"
        case unsupportedMediaType = "unsupported_media_type"
        case upgradeRequired = "upgrade_required"
        case rateLimited = "rate_limited"
        case conflict
        case unavailable
        case internalError = "internal_error"
    }

    public var code: Code
    public var message: String
    public var cause: (any Error & Sendable)?
    /// PostgreSQL's SQLSTATE, when the failure came from the database.
    public var sqlState: String?
    /// The methods the path takes, for a 405's `Allow` header.
    public var allowedMethods: [String] = []

    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String { message }

    public var status: HTTPResponse.Status {
        switch code {
        case .badRequest: .badRequest
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .methodNotAllowed: .methodNotAllowed
        case .sequenceGap, .conflict: .conflict
        case .tooLarge: .contentTooLarge
        case .unsupportedMediaType: .unsupportedMediaType
        case .upgradeRequired: .upgradeRequired
        case .rateLimited: .tooManyRequests
        case .unavailable: .serviceUnavailable
        case .internalError: .internalServerError
        }
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = ErrorResponse(code: code.rawValue, message: message).jsonBytes
        var headers: HTTPFields = [.contentType: "application/json"]
        if code == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        if code == .rateLimited { headers[.retryAfter] = "60" }
        if code == .methodNotAllowed { headers[.allow] = allowedMethods.joined(separator: ", ") }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
