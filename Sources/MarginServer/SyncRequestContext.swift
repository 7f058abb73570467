import Hummingbird
import MarginCore
import MarginWire
import NIOCore

/// The per-request context: Hummingbird's core storage, the peer's address (for the
/// failed-authentication limit) and, once authenticated, the user and device.
public struct SyncRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's address, as the TCP connection gives it.
    public let remoteAddress: SocketAddress?
    /// Set by `AuthenticationMiddleware`.
    public var userId: Int64?
    public var deviceId: String?
    /// The protocol version the request speaks (`SyncProtocol.supportedVersions`), set by
    /// `AuthenticationMiddleware`.
    public var protocolVersion = SyncProtocol.version

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    public var maxUploadSize: Int { SyncProtocol.maximumRequestBytes }
}
