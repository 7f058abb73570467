import GRDB
import Hummingbird
import Logging
import MarginCore

/// Outermost middleware: turns every error into a JSON error reply (never a stack trace,
/// never a payload), logs one line per request, and feeds the request metrics.
struct ResponseMiddleware: RouterMiddleware {
    typealias Context = SyncRequestContext
    let metrics: ServerMetrics

    func handle(
        _ request: Request, context: SyncRequestContext, next: (Request, SyncRequestContext) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let serverError = Self.serverError(error)
            if serverError.code == .internalError || serverError.code == .unavailable {
                context.logger.error(
                    "request failed", metadata: ["http.path": "\(request.uri.path)", "error": "\(String(describing: error))"])
            }
            response = try serverError.response(from: request, context: context)
        }
        let duration = ContinuousClock.now - start
        let route = context.endpointPath ?? "unmatched"
        metrics.recordRequest(route: route, status: response.status.code, duration: duration)
        context.logger.info(
            "request",
            metadata: [
                "http.method": "\(request.method)", "http.route": "\(route)", "http.status": "\(response.status.code)",
                "http.duration_ms": "\(Int((duration / .microseconds(1)).rounded()) / 1000)",
            ])
        return response
    }

    /// The reply for any error: the server's own errors as they are, Hummingbird's
    /// (unknown route, oversized body, …) by status, anything else as a 500.
    static func serverError(_ error: any Error) -> ServerError {
        if let error = error as? ServerError { return error }
        if let error = error as? any HTTPResponseError {
            switch error.status {
            case .notFound: return ServerError(.notFound, "no such endpoint; see /v1/openapi.json")
            case .methodNotAllowed: return ServerError(.badRequest, "method not allowed on this endpoint")
            case .contentTooLarge:
                return ServerError(.tooLarge, "the request body is larger than \(SyncProtocol.maximumRequestBytes >> 20) MiB")
            default: return ServerError(.badRequest, "bad request (\(error.status.code))")
            }
        }
        if let error = error as? DatabaseError, [.SQLITE_BUSY, .SQLITE_LOCKED].contains(error.resultCode) {
            return ServerError(.unavailable, "the server is busy; try again shortly")
        }
        return ServerError(.internalError, "the server failed; the request was not applied. Try again later.")
    }
}
