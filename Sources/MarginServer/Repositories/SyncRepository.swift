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
        /// The device whose change wrote it last.
        public var device: String
    }

    public var records: [Record]
    public var cursor: Int64
    public var bound: Int64
    public var more: Bool
    public var reset: Bool
    /// The history `cursor` belongs to (`Commit.history`).
    public var history: String?
    public var restore: RestorePoint?

    /// The page as the protocol's `PullResponse` body, each record naming its device from
    /// protocol version `SyncProtocol.recordDeviceVersion` on.
    public func jsonBytes(protocolVersion: Int) -> [UInt8] {
        let withDevices = protocolVersion >= SyncProtocol.recordDeviceVersion
        var writer = JSONWriter(capacity: records.reduce(256) { $0 + $1.fieldsJSON.utf8.count + 210 })
        PullResponse.write(
            cursor: cursor, bound: bound, more: more, reset: reset, history: history, restore: restore, to: &writer
        ) { writer in
            writer.array(records) { writer, record in
                ServerRecord.write(
                    entity: record.entity, id: record.id, version: record.version, deleted: record.deleted,
                    updatedAt: record.updatedAt, device: withDevices ? record.device : nil, to: &writer
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

    /// The answer to a cursor the library cannot continue from: start again from 0
    /// (`restore`: the device holds history the library lost).
    static func reset(lastSeq: Int64, restore: RestorePoint? = nil) -> PullPage {
        PullPage(records: [], cursor: 0, bound: lastSeq, more: true, reset: true, restore: restore)
    }
}

/// One push's place in a library's history: the sequences it handed out, and a name
/// for that history no other push (on this server or on a copy of it) shares. Devices
/// send back the name of the commit holding their cursor; a server restored from a
/// backup, whose pushes since reused the sequences, does not know it.
///
/// The name is `<milliseconds>-<random hex>`: the time of the commit, so that a restored
/// server can tell which of its commits came after the one a device names.
struct Commit: Sendable, Hashable {
    var firstSeq: Int64
    var lastSeq: Int64
    var history: String
    var committedAt: Int64

    /// A commit of the sequences after `previous` up to `last`, at server time `now`.
    init(after previous: Int64, upTo last: Int64, now: Int64) {
        firstSeq = previous + 1
        lastSeq = last
        committedAt = now
        history = "\(now)-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
    }

    init(firstSeq: Int64, lastSeq: Int64, history: String, committedAt: Int64) {
        self.firstSeq = firstSeq
        self.lastSeq = lastSeq
        self.history = history
        self.committedAt = committedAt
    }

    /// The commit time a history name carries, if it is one.
    static func committedAt(_ history: String) -> Int64? {
        history.split(separator: "-").first.flatMap { Int64($0) }
    }
}

/// Whether a device's view of its library still holds on this server, decided the same way
/// on every backend. A device (protocol 2) sends the history of its cursor and the last of
/// its changes it saw acknowledged; a server restored from a backup, or moved to an older
/// copy, no longer has one or the other. It then answers with a `RestorePoint`: the device
/// pulls everything again and sends back what the server lost.
struct HistoryCheck {
    /// Common history ends at or before this sequence, as far as the request tells.
    private let since: Int64
    private let lastApplied: Int64
    /// The time of the device's commit: the library's commits made after it are not common
    /// history (a restored server's later commits all are), so the first of them bounds it too.
    let commitsAfter: Int64?

    /// The check of `request`, or `nil` when the device's view holds. `commit` is the
    /// commit holding the request's cursor.
    init?(_ request: PullRequest, lastSeq: Int64, lastApplied: Int64, commit: Commit?) {
        guard let pushedSeq = request.pushedSeq else { return nil }  // protocol 1
        let cursorLost = request.cursor > lastSeq || (request.history != nil && commit?.history != request.history)
        guard cursorLost || pushedSeq > lastApplied else { return nil }
        self.lastApplied = lastApplied
        let time = cursorLost ? request.history.flatMap(Commit.committedAt) : nil
        commitsAfter = time
        // Without a history name, nothing is known in common.
        since = cursorLost && time == nil ? 0 : min(request.cursor, lastSeq)
    }

    /// The answer, given the first sequence of the earliest commit after `commitsAfter`.
    func restorePoint(firstSeqAfter first: Int64?) -> RestorePoint {
        RestorePoint(since: max(0, first.map { min(since, $0 - 1) } ?? since), lastApplied: lastApplied)
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

    mutating func add(
        id: String, entity: String, version: Int64, deleted: Bool, fieldsJSON: String, updatedAt: Int64, device: String
    ) {
        rows += 1
        bytes += fieldsJSON.utf8.count + 128
        cursor = version
        guard let entity = RecordEntity(rawValue: entity) else { return }
        records.append(
            PullPage.Record(
                entity: entity, id: id, version: version, deleted: deleted, fieldsJSON: fieldsJSON, updatedAt: updatedAt,
                device: device))
    }

    /// The page of a query for at most `limit` records up to `bound`: more follows when the
    /// query was cut short, and the cursor then stops at the last record read.
    func page(bound: Int64, limit: Int) -> PullPage {
        let more = rows == limit || isFull
        return PullPage(records: records, cursor: more ? cursor : max(bound, start), bound: bound, more: more, reset: false)
    }
}

/// A push whose changes were checked against the rulebook (`RecordRules`): a change that
/// breaks the protocol's shape refuses the whole request (400), one that breaks a rule is
/// refused on its own (`rejected`, with the reason) and the rest apply. A body that breaks
/// a rule is dropped, and the creates of its article are refused with its reason.
public struct CheckedPush: Sendable {
    public var request: PushRequest
    /// The reasons of the changes refused, by sequence number.
    public var refusals: [Int64: String]

    public init(_ request: PushRequest) throws(ServerError) {
        guard request.changes.count <= SyncProtocol.maximumBatchCount else {
            throw ServerError(.badRequest, "a push carries at most \(SyncProtocol.maximumBatchCount) changes; send smaller batches")
        }
        guard (request.after ?? 0) >= 0 else { throw ServerError(.badRequest, "after cannot be negative") }
        var refusals: [Int64: String] = [:]
        for (index, change) in request.changes.enumerated() {
            do throws(MarginError) {
                try RecordRules.checkShape(change)
            } catch {
                throw ServerError(.badRequest, "changes[\(index)]: \(error.message)")
            }
            do throws(MarginError) {
                try RecordRules.check(change.entity, change.op, fields: change.fields)
            } catch {
                refusals[change.seq] = error.message
            }
        }
        var refusedBodies: [String: String] = [:]
        for (index, body) in request.bodies.enumerated() {
            guard ContentHash.isValid(body.hash) else {
                throw ServerError(.badRequest, "bodies[\(index)].hash: must be 64 lowercase hexadecimal digits")
            }
            do throws(MarginError) {
                try RecordRules.check(body: body.text)
            } catch {
                refusedBodies[body.hash] = error.message
            }
        }
        if !refusedBodies.isEmpty {
            for change in request.changes where refusals[change.seq] == nil {
                if let hash = change.bodyHash, let reason = refusedBodies[hash] {
                    refusals[change.seq] = reason
                }
            }
        }
        var request = request
        request.bodies.removeAll { refusedBodies[$0.hash] != nil }
        self.request = request
        self.refusals = refusals
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
}
