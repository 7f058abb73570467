import Hummingbird
import Logging
import MarginCore
import ServiceLifecycle

/// How `margin-server serve` runs.
public struct ServerConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port; the chosen one is passed to `onListening`.
    public var port: Int
    /// Deleted records are purged after this many seconds; devices whose cursor is older
    /// get a reset.
    public var tombstoneRetention: Int64
    /// The bearer token `/metrics` requires; `nil` turns metrics off.
    public var metricsToken: String?
    /// Failed authentications an address may make in a minute before it is refused.
    public var failedAuthenticationLimit: Int
    /// The reverse proxies whose `X-Forwarded-For` names the client's address.
    public var trustedProxies: TrustedProxies

    public init(
        host: String = "127.0.0.1", port: Int = 8080, tombstoneRetention: Int64 = 90 * 86_400, metricsToken: String? = nil,
        failedAuthenticationLimit: Int = 20, trustedProxies: TrustedProxies = .none
    ) {
        self.host = host
        self.port = port
        self.tombstoneRetention = tombstoneRetention
        self.metricsToken = metricsToken
        self.failedAuthenticationLimit = failedAuthenticationLimit
        self.trustedProxies = trustedProxies
    }
}

/// The server application: the router over `repository`, the repository's own services
/// (PostgreSQL's connection pool) and tombstone compaction. The repository is migrated
/// before the server listens; compaction starts once it does.
///
/// For example:
/// ```swift
/// try await withServableRepository(.sqlite(path: "server.sqlite"), logger: logger) { repository in
///     let app = buildApplication(ServerConfiguration(port: 0), repository: repository, logger: logger) { port in
///         print("listening on \(port)")
///     }
///     try await app.runService()
/// }
/// ```
public func buildApplication(
    _ configuration: ServerConfiguration, repository: any SyncRepository, logger: Logger,
    onListening: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let metrics = ServerMetrics()
    let (listening, startListening) = AsyncStream<Never>.makeStream()
    var app = Application(
        router: buildRouter(configuration, repository: repository, metrics: metrics),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "margin-server"),
        onServerRunning: { channel in
            startListening.finish()
            await onListening(channel.localAddress?.port ?? configuration.port)
        },
        logger: logger)
    // Services stop in the reverse order of their start: the pool outlives whatever uses it.
    app.addServices(repository.services)
    app.addServices(
        TombstoneCompaction(
            repository: repository, retention: configuration.tombstoneRetention, listening: listening, logger: logger))
    app.beforeServerStarts { try await repository.migrate() }
    return app
}

/// The routes: liveness in the open, metrics behind their own token, the sync protocol
/// under `/v1` behind device authentication.
func buildRouter(
    _ configuration: ServerConfiguration, repository: any SyncRepository, metrics: ServerMetrics
) -> Router<SyncRequestContext> {
    let router = Router(context: SyncRequestContext.self)
    router.add(middleware: ResponseMiddleware(metrics: metrics))
    StatusController(repository: repository, metrics: metrics, metricsToken: configuration.metricsToken).addRoutes(to: router)
    let limiter = FailedAuthenticationLimiter(limit: configuration.failedAuthenticationLimit)
    let v1 = router.group("v1")
        .add(middleware: AuthenticationMiddleware(
            repository: repository, limiter: limiter, trustedProxies: configuration.trustedProxies, metrics: metrics))
        .group(context: AuthenticatedRequestContext.self)
    SyncController(repository: repository, metrics: metrics).addRoutes(to: v1)
    return router
}

/// Purges tombstones past the retention window, once the server listens (the store is
/// migrated then) and every tenth of the window after (between one second and one hour).
struct TombstoneCompaction: Service {
    let repository: any SyncRepository
    let retention: Int64
    /// Ends when the server listens.
    let listening: AsyncStream<Never>
    let logger: Logger

    func run() async throws {
        let interval = Duration.seconds(min(max(retention / 10, 1), 3_600))
        try? await cancelWhenGracefulShutdown {
            for await _ in listening {}
            while !Task.isCancelled {
                do {
                    let purged = try await repository.compact(deletedBefore: Timestamp.now().milliseconds - retention * 1_000)
                    if purged > 0 { logger.info("compacted tombstones", metadata: ["sync.compaction.purged": "\(purged)"]) }
                } catch {
                    logger.error("tombstone compaction failed", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: interval)
            }
        }
    }
}
