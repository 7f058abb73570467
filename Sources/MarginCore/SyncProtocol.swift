/// The sync protocol's messages (version 1), shared by `margin` and `margin-server`.
/// `Schema/openapi.json` describes the same shapes; a test keeps the two in step.
///
/// Every request carries `Margin-Protocol: 1`, `Margin-Device: <device id>` and
/// `Authorization: Bearer <token>`. Records travel as maps of field values, the same
/// values the change log records.
public enum SyncProtocol {
    /// The protocol version this build speaks.
    public static let version = 1
    public static let versionHeader = "Margin-Protocol"
    public static let deviceHeader = "Margin-Device"
    /// The most changes one push may carry, and the most records one pull page may hold.
    public static let maximumBatchCount = 5_000
    /// The largest request body the server accepts, before and after gzip decompression.
    public static let maximumRequestBytes = 16 * 1024 * 1024
}

/// The kinds of records the protocol carries.
public enum RecordEntity: String, Sendable, Hashable, Codable, CaseIterable {
    case article, annotation
    /// A value that lost a conflict, or a delete that lost to an edit, kept so that it can
    /// be restored. Made by the server; devices may only delete (dismiss) one.
    case conflict
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
    public var fields: [String: ChangeEntry.FieldChange]

    public init(
        seq: Int64, entity: RecordEntity, id: String, op: ChangeEntry.Operation, baseVersion: Int64, hlc: Int64,
        fields: [String: ChangeEntry.FieldChange]
    ) {
        self.seq = seq
        self.entity = entity
        self.id = id
        self.op = op
        self.baseVersion = baseVersion
        self.hlc = hlc
        self.fields = fields
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

/// `POST /v1/push`: changes in sequence order, with the bodies of the articles they create.
public struct PushRequest: Sendable, Hashable {
    public var changes: [WireChange]
    public var bodies: [WireBody]

    public init(changes: [WireChange], bodies: [WireBody]) {
        self.changes = changes
        self.bodies = bodies
    }

}

/// A record as the server holds it: every field, its version, whether it is deleted.
public struct ServerRecord: Sendable, Hashable {
    public var entity: RecordEntity
    public var id: String
    /// The library sequence at which the record last changed.
    public var version: Int64
    public var deleted: Bool
    public var fields: [String: FieldValue]
    /// Milliseconds since 1970: the wall-clock part of the last change's clock.
    public var updatedAt: Int64

    public init(
        entity: RecordEntity, id: String, version: Int64, deleted: Bool, fields: [String: FieldValue], updatedAt: Int64
    ) {
        self.entity = entity
        self.id = id
        self.version = version
        self.deleted = deleted
        self.fields = fields
        self.updatedAt = updatedAt
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
        /// Not applied, for `reason`; it will not be applied if sent again.
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
    /// Whether the pass began at cursor 0 (a new device, or a reset): the server sends
    /// current state (no tombstones, the device's own records too) on every page, and
    /// tombstones purged meanwhile do not interrupt it.
    public var snapshot: Bool

    public init(cursor: Int64, bound: Int64?, limit: Int?, snapshot: Bool = false) {
        self.cursor = cursor
        self.bound = bound
        self.limit = limit
        self.snapshot = snapshot
    }

}

/// One page of a pull. With `cursor` 0 it is a snapshot of current state (no tombstones).
public struct PullResponse: Sendable, Hashable {
    /// Records with `cursor < version ≤ bound`, in version order; a device's own writes
    /// are left out (its push replies carried them) except in a snapshot.
    public var records: [ServerRecord]
    /// Where the next page starts.
    public var cursor: Int64
    public var bound: Int64
    /// Whether records up to `bound` remain.
    public var more: Bool
    /// The cursor is older than the library's compacted history: pull again from 0.
    public var reset: Bool

    public init(records: [ServerRecord], cursor: Int64, bound: Int64, more: Bool, reset: Bool) {
        self.records = records
        self.cursor = cursor
        self.bound = bound
        self.more = more
        self.reset = reset
    }
}

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

