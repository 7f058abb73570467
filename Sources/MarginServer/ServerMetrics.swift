import Prometheus

/// The server's Prometheus metrics, served at `/metrics`: requests by route and status,
/// their latency, changes applied and conflicts recorded. Safe to use from any task
/// (swift-prometheus's metrics are atomic).
public final class ServerMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let changesApplied: Counter
    let conflicts: Counter
    let failedAuthentications: Counter

    public init() {
        changesApplied = registry.makeCounter(
            descriptor: MetricNameDescriptor(metricName: "margin_changes_applied", unitName: "total", helpText: "Pushed changes applied, merged or turned into conflicts."))
        conflicts = registry.makeCounter(
            descriptor: MetricNameDescriptor(metricName: "margin_conflicts", unitName: "total", helpText: "Conflict records made by pushes."))
        failedAuthentications = registry.makeCounter(
            descriptor: MetricNameDescriptor(metricName: "margin_failed_authentications", unitName: "total", helpText: "Requests refused for a missing, unknown or revoked token."))
    }

    /// Counts one request and records how long it took.
    func recordRequest(route: String, status: Int, duration: Duration) {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(metricName: "margin_http_requests", unitName: "total", helpText: "HTTP requests by route and status."),
            labels: [("route", route), ("status", String(status))]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(metricName: "margin_http_request_duration", unitName: "seconds", helpText: "Time to answer a request."),
            labels: [("route", route)],
            buckets: [.milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                      .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5)]
        ).record(duration)
    }

    /// The metrics in Prometheus' text format.
    func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }
}
