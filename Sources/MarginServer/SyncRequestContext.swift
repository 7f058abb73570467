import Hummingbird
import MarginCore
import MarginWire
import NIOCore

/// The per-request context: Hummingbird's core storage, the peer's address (for the
/// failed-authentication limit) and, once `AuthenticationMiddleware` has checked the
/// request, who sent it.
public struct SyncRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's address, as the TCP connection gives it.
    public let remoteAddress: SocketAddress?
    /// Set by `AuthenticationMiddleware`; the routes under `/v1` see it as an
    /// `AuthenticatedRequestContext`.
    public var sender: Sender?

    /// Who sent an authenticated request, and in which protocol version.
    public struct Sender: Sendable {
        public var userId: Int64
        public var deviceId: String
        /// The protocol version the request speaks (`SyncProtocol.supportedVersions`).
        public var protocolVersion: Int
    }

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    public var maxUploadSize: Int { SyncProtocol.maximumRequestBytes }
}

/// The context of the routes under `/v1`: made from a `SyncRequestContext` that
/// `AuthenticationMiddleware` has authenticated, so the user and device are always there.
public struct AuthenticatedRequestContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let userId: Int64
    public let deviceId: String
    public let protocolVersion: Int

    public init(context: SyncRequestContext) throws {
        // Only a route mounted without AuthenticationMiddleware in front could get here.
        guard let sender = context.sender else { throw ServerError(.unauthorized, "a bearer token is required") }
        coreContext = context.coreContext
        userId = sender.userId
        deviceId = sender.deviceId
        protocolVersion = sender.protocolVersion
    }

    public var maxUploadSize: Int { SyncProtocol.maximumRequestBytes }
}
