import Hummingbird

/// Endpoints outside the sync protocol: liveness and readiness (open to all) and metrics
/// (behind the metrics token; off without one).
struct StatusController {
    let repository: any SyncRepository
    let metrics: ServerMetrics
    /// The token `/metrics` requires as a bearer token; `nil` turns metrics off.
    let metricsToken: String?

    func addRoutes(to router: Router<SyncRequestContext>) {
        router.get("healthz") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
        }
        // Ready: the database answers. A load balancer or orchestrator sends no traffic until then.
        router.get("readyz") { _, _ in
            do {
                try await repository.checkReady()
            } catch {
                throw ServerError(.unavailable, "the database cannot be reached", cause: error)
            }
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ready"}"#)))
        }
        router.get("metrics") { request, _ in
            guard let metricsToken else {
                throw ServerError(.notFound, "metrics are off; start margin-server with --metrics-token-file")
            }
            guard let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer "),
                  DeviceToken.matches(authorization.dropFirst("Bearer ".count), metricsToken)
            else {
                throw ServerError(.unauthorized, "the metrics token is required (Authorization: Bearer TOKEN)")
            }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
    }
}
