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
public enum RecordEntity: String, Sendable, Hashable, Codable {
    case article, annotation
    /// A value that lost a conflict, or a delete that lost to an edit, kept so that it can
    /// be restored. Made by the server; devices may only delete (dismiss) one.
    case conflict
}

/// One change a device pushes: a change-log entry on the wire.
public struct WireChange: Sendable, Hashable, Codable {
    private enum CodingKeys: String, CodingKey, CaseIterable {
        case seq, entity, id, op, baseVersion, hlc, fields
    }

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

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        seq = try container.decode(Int64.self, forKey: .seq)
        entity = try container.decode(RecordEntity.self, forKey: .entity)
        id = try container.decode(String.self, forKey: .id)
        op = try container.decode(ChangeEntry.Operation.self, forKey: .op)
        baseVersion = try container.decode(Int64.self, forKey: .baseVersion)
        hlc = try container.decode(Int64.self, forKey: .hlc)
        fields = try container.decode([String: ChangeEntry.FieldChange].self, forKey: .fields)
    }
}

/// An article body, addressed by the SHA-256 of its NFC text.
public struct WireBody: Sendable, Hashable, Codable {
    private enum CodingKeys: String, CodingKey, CaseIterable {
        case hash, text
    }

    public var hash: String
    public var text: String

    public init(hash: String, text: String) {
        self.hash = hash
        self.text = text
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        hash = try container.decode(String.self, forKey: .hash)
        text = try container.decode(String.self, forKey: .text)
    }
}

/// `POST /v1/push`: changes in sequence order, with the bodies of the articles they create.
public struct PushRequest: Sendable, Hashable, Codable {
    private enum CodingKeys: String, CodingKey, CaseIterable {
        case changes, bodies
    }

    public var changes: [WireChange]
    public var bodies: [WireBody]

    public init(changes: [WireChange], bodies: [WireBody]) {
        self.changes = changes
        self.bodies = bodies
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        changes = try container.decode([WireChange].self, forKey: .changes)
        bodies = try container.decodeIfPresent([WireBody].self, forKey: .bodies) ?? []
    }
}

/// A record as the server holds it: every field, its version, whether it is deleted.
public struct ServerRecord: Sendable, Hashable, Codable {
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
public struct ChangeResult: Sendable, Hashable, Codable {
    public enum Outcome: String, Sendable, Hashable, Codable, CaseIterable {
        /// Applied as sent.
        case applied
        /// Combined with concurrent changes from other devices, nothing lost.
        case merged
        /// A concurrent change overlapped; the losing value is kept as a conflict record.
        case conflict
        /// Applied by an earlier push (a retry after a lost reply).
        case alreadyApplied = "already_applied"
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
/// the push touched (conflict records included), so that the device need not pull its own
/// changes back.
public struct PushResponse: Sendable, Hashable, Codable {
    public var results: [ChangeResult]
    public var records: [ServerRecord]

    public init(results: [ChangeResult], records: [ServerRecord]) {
        self.results = results
        self.records = records
    }
}

/// `POST /v1/pull`: the records changed after `cursor`, up to `bound`.
public struct PullRequest: Sendable, Hashable, Codable {
    private enum CodingKeys: String, CodingKey, CaseIterable {
        case cursor, bound, limit
    }

    /// The library sequence this device has pulled up to (0: it has nothing).
    public var cursor: Int64
    /// The upper bound the server fixed on the pull's first page; absent on that page.
    public var bound: Int64?
    /// The most records wanted in the page (the server caps it).
    public var limit: Int?

    public init(cursor: Int64, bound: Int64?, limit: Int?) {
        self.cursor = cursor
        self.bound = bound
        self.limit = limit
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        cursor = try container.decode(Int64.self, forKey: .cursor)
        bound = try container.decodeIfPresent(Int64.self, forKey: .bound)
        limit = try container.decodeIfPresent(Int.self, forKey: .limit)
    }
}

/// One page of a pull. With `cursor` 0 it is a snapshot of current state (no tombstones).
public struct PullResponse: Sendable, Hashable, Codable {
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
public struct BodiesRequest: Sendable, Hashable, Codable {
    private enum CodingKeys: String, CodingKey, CaseIterable {
        case hashes
    }

    public var hashes: [String]

    public init(hashes: [String]) {
        self.hashes = hashes
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        hashes = try decoder.container(keyedBy: CodingKeys.self).decode([String].self, forKey: .hashes)
    }
}

/// The bodies asked for that the library holds; a page may stop early (by size), and the
/// device asks again for the rest.
public struct BodiesResponse: Sendable, Hashable, Codable {
    public var bodies: [WireBody]

    public init(bodies: [WireBody]) {
        self.bodies = bodies
    }
}

/// The JSON body of every error reply: `{"error": {"code": …, "message": …}}`.
public struct ErrorResponse: Sendable, Hashable, Codable {
    public struct Detail: Sendable, Hashable, Codable {
        public var code: String
        public var message: String
    }

    public var error: Detail

    public init(code: String, message: String) {
        error = Detail(code: code, message: message)
    }
}

/// A key the decoder did not expect.
private struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension Decoder {
    /// Throws if the object being decoded has a member `Keys` does not name: the protocol's
    /// request objects are strict, so a misspelt field is an error, not silently ignored.
    func rejectUnknownKeys<Keys: CodingKey & CaseIterable>(_ keys: Keys.Type) throws {
        let container = try self.container(keyedBy: AnyCodingKey.self)
        let known = Set(Keys.allCases.map(\.stringValue))
        if let unknown = container.allKeys.first(where: { !known.contains($0.stringValue) }) {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: codingPath + [unknown], debugDescription: "unknown field '\(unknown.stringValue)'"))
        }
    }
}
