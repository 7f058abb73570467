import HTTPTypes
import Hummingbird
import MarginCore
import MarginWire
import NIOCore

/// Guards `/v1`: checks the protocol version (missing: 400; another: 426), then the
/// bearer token and device id, and records who sent the request in the context (which the
/// routes behind it see as an `AuthenticatedRequestContext`). Addresses
/// that keep failing are refused for a while (`FailedAuthenticationLimiter`); behind a
/// trusted proxy, the address is the client's (`TrustedProxies`).
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = SyncRequestContext
    let repository: any SyncRepository
    let limiter: FailedAuthenticationLimiter
    let trustedProxies: TrustedProxies
    let metrics: ServerMetrics

    static let protocolHeader = HTTPField.Name(SyncProtocol.versionHeader)!
    static let deviceHeader = HTTPField.Name(SyncProtocol.deviceHeader)!
    static let forwardedForHeader = HTTPField.Name("X-Forwarded-For")!

    func handle(
        _ request: Request, context: SyncRequestContext, next: (Request, SyncRequestContext) async throws -> Response
    ) async throws -> Response {
        guard let version = request.headers[Self.protocolHeader] else {
            throw ServerError(.badRequest, "the \(SyncProtocol.versionHeader) header is missing; margin sends it with every request")
        }
        guard let number = Int(version), SyncProtocol.supportedVersions.contains(number) else {
            throw ServerError(
                .upgradeRequired,
                "this server speaks sync protocol \(SyncProtocol.supportedVersions.lowerBound) to \(SyncProtocol.version) (header \(SyncProtocol.versionHeader)); upgrade margin or the server so that they match")
        }
        let address = trustedProxies.clientAddress(
            peer: context.remoteAddress?.ipAddress ?? "unknown", forwardedFor: request.headers[values: Self.forwardedForHeader])
        guard await limiter.allows(address) else {
            throw ServerError(.rateLimited, "too many failed authentications from this address; wait a minute")
        }
        guard let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer "),
              case let token = authorization.dropFirst("Bearer ".count), !token.isEmpty
        else {
            await fail(address)
            throw ServerError(.unauthorized, "a bearer token is required (Authorization: Bearer TOKEN)")
        }
        guard let deviceId = request.headers[Self.deviceHeader], Identifier.isValid(deviceId) else {
            throw ServerError(.badRequest, "the \(SyncProtocol.deviceHeader) header must carry the device's id")
        }
        let userId: Int64
        do {
            userId = try await repository.authenticate(
                tokenHash: DeviceToken.hash(token), deviceId: deviceId, now: Timestamp.now().milliseconds)
        } catch let error as ServerError where error.code == .unauthorized {
            await fail(address)
            throw error
        }
        var context = context
        context.sender = .init(userId: userId, deviceId: deviceId, protocolVersion: number)
        return try await next(request, context)
    }

    private func fail(_ address: String) async {
        metrics.failedAuthentications.increment()
        await limiter.recordFailure(address)
    }

}

/// Counts failed authentications per address over a sliding minute; an address with too
/// many is refused until the minute passes.
actor FailedAuthenticationLimiter {
    private let limit: Int
    private let window: Duration
    private var failures: [String: [ContinuousClock.Instant]] = [:]

    init(limit: Int = 20, window: Duration = .seconds(60)) {
        self.limit = limit
        self.window = window
    }

    func allows(_ address: String) -> Bool {
        prune(address)
        return (failures[address]?.count ?? 0) < limit
    }

    func recordFailure(_ address: String) {
        prune(address)
        failures[address, default: []].append(.now)
        if failures.count > 10_000 { failures = failures.filter { !$0.value.isEmpty } }
    }

    private func prune(_ address: String) {
        let oldest = ContinuousClock.now - window
        failures[address]?.removeAll { $0 < oldest }
        if failures[address]?.isEmpty == true { failures[address] = nil }
    }
}
