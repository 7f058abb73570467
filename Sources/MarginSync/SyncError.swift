import MarginCore

/// Why a sync failed, shaped like swift-nio's `FileSystemError`: a `code` that callers
/// (and `margin sync`'s exit status) branch on, a one-line `message` naming what to do,
/// and the underlying `cause`.
public struct SyncError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// No remote set, no token, an unreadable token file.
        case configuration
        /// The server could not be reached or did not answer in time (retryable).
        case network
        /// The token was refused.
        case authentication
        /// The server failed, or answered something that is not the protocol.
        case server
        /// The server has not applied changes of this device it once acknowledged: it was
        /// restored from a backup. The sync finds out where its history parts, then goes on.
        case restoredServer = "restored_server"
        /// The server speaks another protocol version.
        case protocolMismatch = "protocol_mismatch"
        /// Another sync of the same store is running.
        case alreadyRunning = "already_running"
        /// The local store failed.
        case store
    }

    public var code: Code
    public var message: String
    public var cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String { message }
}
