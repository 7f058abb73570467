import MarginCore

/// The sync protocol's messages (version 6), shared by `margin` and `margin-server`.
/// `Schema/openapi.json` describes the same shapes; a test keeps the two in step.
///
/// Version 2 added what survives a server restored from a backup: pull pages name the
/// history their cursor belongs to (`PullResponse.history`), devices send it back with
/// what they believe the server applied of theirs, and a server that lost either answers
/// with where the histories part (`RestorePoint`). Version 3 adds the web fields of
/// articles (`url`, `author`, `siteName`, `language`), which an older client cannot read:
/// it is answered 426 and told to upgrade. Version 4 lets an article's text change (an
/// update may set `contentHash`, with the new body sent beside it, and the fields that come
/// with the text) and gives annotations their `basis`, the text their selectors were made
/// on; an older client would keep highlights on a text it no longer shows, so it is
/// answered 426 as well. Version 5 names, in each pulled record, the device that wrote it
/// last (`ServerRecord.device`), for a record's history on other machines; a server
/// answers version 4 too, without that field. Version 6 lets a pull from cursor 0 be an
/// ordinary pull of every change (deletes included, the device's own records left out),
/// for a device that holds records already (its first sync pushed them): it no longer
/// pulls its own records back. An older server would answer such a pull with a snapshot
/// (no deletes), so it is not spoken to; older clients' pulls from 0 are snapshots still.
///
/// Every request carries `Margin-Protocol: 6`, `Margin-Device: <device id>` and
/// `Authorization: Bearer <token>`. Records travel as maps of field values, the same
/// values the change log records.
public enum SyncProtocol {
    /// The protocol version this build speaks.
    public static let version = 6
    /// The versions a server answers.
    public static let supportedVersions: ClosedRange<Int> = 4...6
    /// The first version whose pulled records name the device that wrote them.
    public static let recordDeviceVersion = 5
    /// The first version whose pulls from cursor 0 are snapshots only when they say so
    /// (`PullRequest.snapshot`); before it, every pull from 0 is one.
    public static let plainPullFromZeroVersion = 6
    public static let versionHeader = "Margin-Protocol"
    public static let deviceHeader = "Margin-Device"
    /// The most changes one push may carry, and the most records one pull page may hold.
    public static let maximumBatchCount = 5_000
    /// The largest request body the server accepts, before and after gzip decompression.
    public static let maximumRequestBytes = 16 * 1024 * 1024
}

/// One change a device pushes: a change-log entry on the wire.
public struct WireChange: Sendable, Hashable {
    public var seq: Int64
    public var entity: RecordEntity
    public var id: String
    public var op: ChangeEntry.Operation
    /// The server version of the record the change was made on (0 for a create).
    public var baseVersion: Int64
    public var hlc: Int64
    public var fields: [RecordField: ChangeEntry.FieldChange]

    public init(
        seq: Int64, entity: RecordEntity, id: String, op: ChangeEntry.Operation, baseVersion: Int64, hlc: Int64,
        fields: [RecordField: ChangeEntry.FieldChange]
    ) {
        self.seq = seq
        self.entity = entity
        self.id = id
        self.op = op
        self.baseVersion = baseVersion
        self.hlc = hlc
        self.fields = fields
    }

    /// The body the change needs the server to hold: that of an article it creates, or
    /// the new text of an article it updates (sent in the push's `bodies` when the server
    /// may lack it).
    public var bodyHash: String? {
        guard entity == .article, op != .delete else { return nil }
        return fields[.contentHash]?.new.textValue
    }
}

/// An article body, addressed by the SHA-256 of its NFC text.
public struct WireBody: Sendable, Hashable {
    public var hash: String
    public var text: String

    public init(hash: String, text: String) {
        self.hash = hash
        self.text = text
    }

}

/// `POST /v1/push`: changes in sequence order, with the bodies they need (`WireChange.bodyHash`).
public struct PushRequest: Sendable, Hashable {
    public var changes: [WireChange]
    public var bodies: [WireBody]
    /// After a restore: the last of this device's changes the server still had
    /// (`RestorePoint.lastApplied`). The batch continues from there although its first
    /// change is numbered higher: the changes in between were lost with the server's
    /// history, and the device sends their effect again as new changes.
    public var after: Int64?

    public init(changes: [WireChange], bodies: [WireBody], after: Int64? = nil) {
        self.changes = changes
        self.bodies = bodies
        self.after = after
    }
}

/// A record as the server holds it: every field, its version, whether it is deleted.
public struct ServerRecord: Sendable, Hashable {
    public var entity: RecordEntity
    public var id: String
    /// The library sequence at which the record last changed.
    public var version: Int64
    public var deleted: Bool
    public var fields: [RecordField: FieldValue]
    /// Milliseconds since 1970: the wall-clock part of the last change's clock.
    public var updatedAt: Int64
    /// The device whose change wrote the record last (pulls from protocol 5 on; push
    /// replies leave it out).
    public var device: String?

    public init(
        entity: RecordEntity, id: String, version: Int64, deleted: Bool, fields: [RecordField: FieldValue], updatedAt: Int64,
        device: String? = nil
    ) {
        self.entity = entity
        self.id = id
        self.version = version
        self.deleted = deleted
        self.fields = fields
        self.updatedAt = updatedAt
        self.device = device
    }
}

/// What the server did with one pushed change.
public struct ChangeResult: Sendable, Hashable {
    public enum Outcome: String, Sendable, Hashable, CaseIterable {
        /// Applied as sent.
        case applied
        /// Combined with concurrent changes from other devices, nothing lost.
        case merged
        /// A concurrent change overlapped; the losing value is kept as a conflict record.
        case conflict
        /// Applied by an earlier push (a retry after a lost reply).
        case alreadyApplied = "already_applied"
        /// Not applied: the record, or an annotation's article, is not in the library (its
        /// tombstone was purged while this device was away). The device sends the record
        /// whole again, as a create.
        case missing
        /// Not applied, for `reason` (it breaks the rulebook, `RecordRules`, or cannot apply
        /// to the library); it will not be applied if sent again. The reply carries the
        /// record as the server holds it, when it has one.
        case rejected
    }

    public var seq: Int64
    public var outcome: Outcome
    /// The version of the record after the change (absent when rejected).
    public var version: Int64?
    /// Set when the change was applied to another record: an article whose body the
    /// library already held under this id.
    public var canonicalId: String?
    public var reason: String?

    public init(seq: Int64, outcome: Outcome, version: Int64?, canonicalId: String? = nil, reason: String? = nil) {
        self.seq = seq
        self.outcome = outcome
        self.version = version
        self.canonicalId = canonicalId
        self.reason = reason
    }
}

/// The reply to a push: one result per change, and the resulting state of every record
/// whose state the device cannot know from its results (merged or conflicting changes,
/// retries, conflict records), so that it need not pull its own changes back. A change
/// `applied` as sent left the record as the device has it, at the result's `version`,
/// its `updatedAt` the later of the previous one and the change's clock.
public struct PushResponse: Sendable, Hashable {
    public var results: [ChangeResult]
    public var records: [ServerRecord]

    public init(results: [ChangeResult], records: [ServerRecord]) {
        self.results = results
        self.records = records
    }
}

/// `POST /v1/pull`: the records changed after `cursor`, up to `bound`.
public struct PullRequest: Sendable, Hashable {
    /// The library sequence this device has pulled up to (0: it has nothing).
    public var cursor: Int64
    /// The upper bound the server fixed on the pull's first page; absent on that page.
    public var bound: Int64?
    /// The most records wanted in the page (the server caps it).
    public var limit: Int?
    /// Whether the pass is a snapshot (a new device, or a reset; it begins at cursor 0):
    /// the server sends current state (no tombstones, the device's own records too) on
    /// every page, and tombstones purged meanwhile do not interrupt it. Otherwise the server
    /// sends the changes after `cursor`, tombstones included, the device's own records left
    /// out — from cursor 0 too (protocol 6), unless the library's history before its
    /// compaction horizon is gone, when it answers with a reset.
    public var snapshot: Bool
    /// The history `cursor` belongs to, as the page that gave it said (`PullResponse.history`).
    public var history: String?
    /// The last of its own changes the device believes the server applied.
    public var pushedSeq: Int64?

    public init(
        cursor: Int64, bound: Int64?, limit: Int?, snapshot: Bool = false, history: String? = nil, pushedSeq: Int64? = nil
    ) {
        self.cursor = cursor
        self.bound = bound
        self.limit = limit
        self.snapshot = snapshot
        self.history = history
        self.pushedSeq = pushedSeq
    }

    /// Asks for the page after `page`, in the same pass.
    package mutating func follow(_ page: PullResponse) {
        (cursor, bound, history) = (page.cursor, page.bound, page.history)
    }
}

/// Where a device's history and the server's part: the server was restored from a backup
/// (or moved to an older copy) and lost what it had acknowledged after it.
public struct RestorePoint: Sendable, Hashable {
    /// Records the device holds at a version up to this one are from history the server
    /// still has; above it, they may be from history it lost, and the device sends them again.
    public var since: Int64
    /// The last of this device's changes the server has applied.
    public var lastApplied: Int64

    public init(since: Int64, lastApplied: Int64) {
        self.since = since
        self.lastApplied = lastApplied
    }
}

/// One page of a pull, over the kind of record it carries: the protocol's reply
/// (`PullResponse`) carries `ServerRecord`s; a server builds its pages from records whose
/// fields stay the JSON text it stored. With `cursor` 0 it is a snapshot of current state
/// (no tombstones).
public struct PullReply<Record: Sendable>: Sendable {
    /// Records with `cursor < version ≤ bound`, in version order; a device's own writes
    /// are left out (its push replies carried them) except in a snapshot.
    public var records: [Record]
    /// Where the next page starts.
    public var cursor: Int64
    public var bound: Int64
    /// Whether records up to `bound` remain.
    public var more: Bool
    /// The cursor is older than the library's compacted history, or from history the
    /// server lost (`restore` set): pull again from 0.
    public var reset: Bool
    /// The history `cursor` belongs to, to send with the next pull (absent for history
    /// older than protocol 2).
    public var history: String?
    /// Set with `reset` when the server lost history the device holds.
    public var restore: RestorePoint?

    public init(
        records: [Record], cursor: Int64, bound: Int64, more: Bool, reset: Bool, history: String? = nil,
        restore: RestorePoint? = nil
    ) {
        self.records = records
        self.cursor = cursor
        self.bound = bound
        self.more = more
        self.reset = reset
        self.history = history
        self.restore = restore
    }
}

extension PullReply: Equatable where Record: Equatable {}
extension PullReply: Hashable where Record: Hashable {}

/// `POST /v1/pull`'s reply: one page of records.
public typealias PullResponse = PullReply<ServerRecord>

/// `POST /v1/bodies`: article bodies by hash.
public struct BodiesRequest: Sendable, Hashable {
    public var hashes: [String]

    public init(hashes: [String]) {
        self.hashes = hashes
    }

}

/// The bodies asked for that the library holds; a page may stop early (by size), and the
/// device asks again for the rest.
public struct BodiesResponse: Sendable, Hashable {
    public var bodies: [WireBody]

    public init(bodies: [WireBody]) {
        self.bodies = bodies
    }
}

/// The JSON body of every error reply: `{"error": {"code": …, "message": …}}`.
public struct ErrorResponse: Sendable, Hashable {
    public struct Detail: Sendable, Hashable {
        public var code: String
        public var message: String
    }

    public var error: Detail

    public init(code: String, message: String) {
        error = Detail(code: code, message: message)
    }
}

