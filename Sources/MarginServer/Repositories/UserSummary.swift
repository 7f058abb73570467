/// A user of the server, as `margin-server user list` shows them.
public struct UserSummary: Sendable, Hashable, Codable {
    public var name: String
    public var createdAt: Int64
    public var revoked: Bool
    /// Tokens issued and not revoked.
    public var tokens: Int
    /// Devices that have pushed at least once.
    public var devices: Int
    /// Live records (articles, annotations, conflicts) in the user's library.
    public var records: Int
}

/// A device of a user as `margin-server device list` shows it: its tokens' uses, and its
/// pushes. A token issued and not used yet is listed with `deviceId` nil.
public struct DeviceSummary: Sendable, Hashable, Codable {
    /// The shortest device-id prefix `revokeDevice` accepts.
    public static let minimumPrefix = 4

    public var deviceId: String?
    /// When its (first) token was issued.
    public var tokenCreatedAt: Int64
    /// When its token was first used; nil for a token bound before the server recorded it.
    public var firstSeenAt: Int64?
    /// When it last made an authenticated request, to the minute.
    public var lastSeenAt: Int64?
    /// When it last pushed changes, and how many it has pushed (its last change sequence).
    public var lastPushAt: Int64?
    public var changesPushed: Int64
    /// When its tokens were revoked; nil while one is valid.
    public var revokedAt: Int64?

    public init(
        deviceId: String?, tokenCreatedAt: Int64, firstSeenAt: Int64?, lastSeenAt: Int64?, lastPushAt: Int64?,
        changesPushed: Int64, revokedAt: Int64?
    ) {
        self.deviceId = deviceId
        self.tokenCreatedAt = tokenCreatedAt
        self.firstSeenAt = firstSeenAt
        self.lastSeenAt = lastSeenAt
        self.lastPushAt = lastPushAt
        self.changesPushed = changesPushed
        self.revokedAt = revokedAt
    }
}
