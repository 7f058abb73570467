/// A token as authentication reads it.
struct TokenUse: Sendable {
    var userId: Int64
    /// The device the token is bound to; nil until its first use.
    var deviceId: String?
    /// When an authenticated request last used it (milliseconds since 1970), to the minute.
    var lastUsedAt: Int64?

    /// How stale `lastUsedAt` may grow before a request writes it again: a token's use is
    /// written at most once a minute, not on every request.
    static let touchInterval: Int64 = 60_000
}

/// How every backend checks a token: `lookup` finds the token (nil when unknown or revoked);
/// the first use binds it to `deviceId` through `bind`, which also records the first use
/// and returns the device the token is bound to afterwards (another, if a concurrent first
/// use won). A token used from another device is refused. A use more than
/// `TokenUse.touchInterval` after the last recorded one is recorded through `touch`.
func authenticatedUser(
    deviceId: String, now: Int64, lookup: () async throws -> TokenUse?, bind: () async throws -> String?,
    touch: () async throws -> Void
) async throws -> Int64 {
    guard let token = try await lookup() else { throw ServerError.unknownToken }
    switch token.deviceId {
    case deviceId?:
        if token.lastUsedAt.map({ now - $0 >= TokenUse.touchInterval }) ?? true { try await touch() }
    case nil:
        guard try await bind() == deviceId else { throw ServerError.tokenOfAnotherDevice }
    default: throw ServerError.tokenOfAnotherDevice
    }
    return token.userId
}
