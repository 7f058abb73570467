import MarginCore

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

/// One page of a pull as a repository reads it: each record's fields are the JSON text
/// the repository stored, spliced into the reply without being decoded.
public struct PullPage: Sendable {
    public struct Record: Sendable {
        public var entity: RecordEntity
        public var id: String
        public var version: Int64
        public var deleted: Bool
        /// A JSON object of field values, as stored.
        public var fieldsJSON: String
        public var updatedAt: Int64
    }

    public var records: [Record]
    public var cursor: Int64
    public var bound: Int64
    public var more: Bool
    public var reset: Bool

    /// The page as the protocol's `PullResponse` body.
    public var jsonBytes: [UInt8] {
        var writer = JSONWriter(capacity: records.reduce(256) { $0 + $1.fieldsJSON.utf8.count + 160 })
        PullResponse.write(cursor: cursor, bound: bound, more: more, reset: reset, to: &writer) { writer in
            writer.array(records) { writer, record in
                ServerRecord.write(
                    entity: record.entity, id: record.id, version: record.version, deleted: record.deleted,
                    updatedAt: record.updatedAt, to: &writer
                ) { writer in writer.rawJSON(record.fieldsJSON) }
            }
        }
        return writer.bytes
    }
}

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
}

/// How every backend checks a token: `lookup` finds the token's user and the device it is
/// bound to (nil when unknown or revoked); the first use binds it through `bind`, which
/// returns the device the token is bound to afterwards (another, if a concurrent first use
/// won). A token used from another device is refused.
func authenticatedUser(
    deviceId: String, lookup: () async throws -> (userId: Int64, deviceId: String?)?, bind: () async throws -> String?
) async throws -> Int64 {
    guard let (userId, boundDevice) = try await lookup() else { throw ServerError.unknownToken }
    switch boundDevice {
    case deviceId?: return userId
    case nil:
        guard try await bind() == deviceId else { throw ServerError.tokenOfAnotherDevice }
        return userId
    default: throw ServerError.tokenOfAnotherDevice
    }
}

/// What a pull reads, decided from the library's sequence and compaction horizon the same
/// way on every backend.
struct PullWindow {
    /// The highest version this pass pulls: fixed by its first page.
    let bound: Int64
    let limit: Int
    /// A pass from cursor 0 (a new device, or a reset) is a snapshot of current state, on
    /// every page: no tombstones, own records included.
    let snapshot: Bool

    /// Nil when the cursor is ahead of the library, or behind its horizon in an
    /// incremental pull (it may have missed purged tombstones): the device resets. A
    /// snapshot pass needs no tombstones, so purges during it do not matter.
    init?(_ request: PullRequest, lastSeq: Int64, horizon: Int64) {
        snapshot = request.cursor == 0 || request.snapshot
        if request.cursor > lastSeq || (!snapshot && request.cursor < horizon) { return nil }
        bound = min(request.bound ?? lastSeq, lastSeq)
        limit = min(max(request.limit ?? 1_000, 1), SyncProtocol.maximumBatchCount)
    }

    /// The answer to a cursor the library cannot continue from: start again from 0.
    static func reset(lastSeq: Int64) -> PullPage {
        PullPage(records: [], cursor: 0, bound: lastSeq, more: true, reset: true)
    }
}

/// Collects a pull's records up to the page's byte budget, the same way on every backend.
struct PullPageBuilder {
    private var records: [PullPage.Record] = []
    /// Rows read, kept or not: what the query's LIMIT counts.
    private var rows = 0
    private var bytes = 0
    private let start: Int64
    private var cursor: Int64
    private let byteLimit: Int

    /// A page after the request's `cursor`.
    init(cursor: Int64, byteLimit: Int) {
        start = cursor
        self.cursor = cursor
        self.byteLimit = byteLimit
    }

    /// Whether the page has reached its byte budget.
    var isFull: Bool { bytes >= byteLimit }

    mutating func add(id: String, entity: String, version: Int64, deleted: Bool, fieldsJSON: String, updatedAt: Int64) {
        rows += 1
        bytes += fieldsJSON.utf8.count + 128
        cursor = version
        guard let entity = RecordEntity(rawValue: entity) else { return }
        records.append(
            PullPage.Record(entity: entity, id: id, version: version, deleted: deleted, fieldsJSON: fieldsJSON, updatedAt: updatedAt))
    }

    /// The page of a query for at most `limit` records up to `bound`: more follows when the
    /// query was cut short, and the cursor then stops at the last record read.
    func page(bound: Int64, limit: Int) -> PullPage {
        let more = rows == limit || isFull
        return PullPage(records: records, cursor: more ? cursor : max(bound, start), bound: bound, more: more, reset: false)
    }
}

/// What a push did, for the reply and the server's metrics.
public struct PushOutcome: Sendable {
    public var response: PushResponse
    /// Changes applied, merged or turned into conflicts in this push.
    public var applied: Int
    public var conflicts: Int
}

/// Where a server keeps users, tokens and libraries. Every backend implements the same
/// protocol with the same behaviour; push resolution itself is `PushPlanner`, shared.
///
/// Pushes to one library are serialized (each takes the library's row lock or the
/// database's write lock), so commit sequences are handed out without gaps or duplicates
/// and become visible in order.
public protocol SyncRepository: Sendable {
    /// The user a token belongs to. The first use binds the token to `deviceId`; a token
    /// used from another device, revoked, or unknown is refused.
    func authenticate(tokenHash: String, deviceId: String) async throws -> Int64

    /// Applies a device's changes atomically and exactly once (changes already applied
    /// are answered `already_applied`).
    func push(_ request: PushRequest, userId: Int64, deviceId: String, now: Int64) async throws -> PushOutcome

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

    /// Purges tombstones deleted before `cutoff` and moves each library's horizon past
    /// them; returns how many were purged.
    func compact(deletedBefore cutoff: Int64) async throws -> Int
}
