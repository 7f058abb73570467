import Hummingbird
import Logging
import MarginCore
import MarginSchema
import MarginWire

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
            let serverError = Self.serverError(error, path: request.uri.path)
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

    /// The methods of each documented path (Schema/openapi.json), for 405 replies.
    static let allowedMethods: [String: [String]] = {
        guard case .object(let root)? = try? JSONNode.parse(EmbeddedSchema.openAPI),
              case .object(let paths)? = root.first(where: { $0.key == "paths" })?.value
        else { return [:] }
        var table: [String: [String]] = [:]
        for (path, operations) in paths {
            if case .object(let methods) = operations { table[path] = methods.map { $0.key.uppercased() }.sorted() }
        }
        return table
    }()

    /// The reply for any error: the server's own errors as they are, Hummingbird's
    /// (unknown route — or a known one with another method —, oversized body, …) by
    /// status, anything else as a 500.
    static func serverError(_ error: any Error, path: String) -> ServerError {
        if let error = error as? ServerError { return error }
        if let error = error as? any HTTPResponseError {
            switch error.status {
            case .notFound, .methodNotAllowed:
                guard let methods = allowedMethods[path] else {
                    return ServerError(.notFound, "no such endpoint; see /v1/openapi.json")
                }
                var refusal = ServerError(.methodNotAllowed, "\(path) takes \(methods.joined(separator: " or ")) only")
                refusal.allowedMethods = methods
                return refusal
            case .contentTooLarge:
                return ServerError(.tooLarge, "the request body is larger than \(SyncProtocol.maximumRequestBytes >> 20) MiB")
            default: return ServerError(.badRequest, "bad request (\(error.status.code))")
            }
        }
        return ServerError(.internalError, "the server failed; the request was not applied. Try again later.")
    }
}
