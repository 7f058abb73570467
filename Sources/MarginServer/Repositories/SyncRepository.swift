import MarginCore
import MarginWire
import ServiceLifecycle

/// The failures every backend reports, in the same words.
extension ServerError {
    static let unknownToken = ServerError(
        .unauthorized, "the token is unknown or revoked; ask the server's administrator for a new one")
    static let tokenOfAnotherDevice = ServerError(
        .forbidden, "this token belongs to another device; issue one per device with 'margin-server user token NAME'")
    static let userGone = ServerError(.unauthorized, "the user no longer exists")

    static func userExists(_ name: String) -> ServerError {
        ServerError(.conflict, "a user named '\(name)' exists; use 'user token \(name)' for another device")
    }

    static func noActiveUser(_ name: String) -> ServerError { ServerError(.notFound, "no active user named '\(name)'") }
    static func noUser(_ name: String) -> ServerError { ServerError(.notFound, "no user named '\(name)'") }

    /// Which device `prefix` names among `matches`, the ids of devices starting with it.
    static func device(_ prefix: String, among matches: [String]) throws -> String {
        guard prefix.count >= DeviceSummary.minimumPrefix else {
            throw ServerError(.badRequest, "give at least \(DeviceSummary.minimumPrefix) characters of the device's id")
        }
        guard let first = matches.first else {
            throw ServerError(.notFound, "no device id starts with '\(prefix)'; see margin-server device list NAME")
        }
        guard matches.count == 1 else {
            throw ServerError(.conflict, "'\(prefix)' starts \(matches.count) device ids; give more characters")
        }
        return first
    }
}

/// Where a server keeps users, tokens and libraries. Every backend implements the same
/// protocol with the same behaviour; push resolution itself is `PushPlanner`, shared.
///
/// Pushes to one library are serialized (each takes the library's row lock or the
/// database's write lock), so commit sequences are handed out without gaps or duplicates
/// and become visible in order.
public protocol SyncRepository: Sendable {
    /// The user a token belongs to. The first use binds the token to `deviceId`; a token
    /// used from another device, revoked, or unknown is refused. Records when the token
    /// was first and (to the minute) last used.
    func authenticate(tokenHash: String, deviceId: String, now: Int64) async throws -> Int64

    /// Applies a device's changes atomically and exactly once (changes already applied
    /// are answered `already_applied`, refused ones `rejected`).
    func push(_ push: CheckedPush, userId: Int64, deviceId: String, now: Int64) async throws -> PushOutcome

    /// One page of the records changed after the request's cursor.
    func pull(_ request: PullRequest, userId: Int64, deviceId: String, byteLimit: Int) async throws -> PullPage

    /// The bodies with these hashes that the library holds, up to about `byteLimit` bytes.
    func bodies(_ hashes: [String], userId: Int64, byteLimit: Int) async throws -> [WireBody]

    /// Adds a user with a first token.
    func addUser(name: String, tokenHash: String, now: Int64) async throws
    /// Issues another token (for another device) to an existing user.
    func addToken(userName: String, tokenHash: String, now: Int64) async throws
    /// Revokes the user and all their tokens; their library is kept.
    func revokeUser(name: String, now: Int64) async throws
    func users() async throws -> [UserSummary]
    /// The user's devices and tokens not used yet, first used first.
    func devices(userName: String) async throws -> [DeviceSummary]
    /// Revokes the tokens bound to the device whose id is `device` or starts with it (at
    /// least `DeviceSummary.minimumPrefix` characters); returns the device's id. Other
    /// devices of its user go on syncing.
    func revokeDevice(_ device: String, now: Int64) async throws -> String

    /// Purges tombstones deleted before `cutoff` and moves each library's horizon past
    /// them; returns how many were purged.
    func compact(deletedBefore cutoff: Int64) async throws -> Int

    /// Returns once the database answers a query; throws when it cannot be reached in time.
    func checkReady() async throws

    /// What must run for the repository to answer (PostgreSQL's connection pool): run as
    /// services of the application that serves the repository, or beside a command's work.
    var services: [any Service] { get }

    /// Applies the schema migrations the store lacks; called once the services run, before
    /// the repository serves anything.
    func migrate() async throws
}
