import Hummingbird

/// Endpoints outside the sync protocol: liveness (open to all) and metrics (behind the
/// metrics token; off without one).
struct StatusController {
    let metrics: ServerMetrics
    /// The token `/metrics` requires as a bearer token; `nil` turns metrics off.
    let metricsToken: String?

    func addRoutes(to router: Router<SyncRequestContext>) {
        router.get("healthz") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
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
