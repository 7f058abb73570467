import MarginCore
import MarginWire

/// One page of a pull as a repository reads it: each record's fields are the JSON text
/// the repository stored, spliced into the reply without being decoded.
public typealias PullPage = PullReply<StoredPullRecord>

/// A record of a `PullPage`.
public struct StoredPullRecord: Sendable {
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

extension PullReply where Record == StoredPullRecord {
    /// The page as the protocol's `PullResponse` body, each record naming its device from
    /// protocol version `SyncProtocol.recordDeviceVersion` on.
    public func jsonBytes(protocolVersion: Int) -> [UInt8] {
        let withDevices = protocolVersion >= SyncProtocol.recordDeviceVersion
        var writer = JSONWriter(capacity: records.reduce(256) { $0 + $1.fieldsJSON.utf8.count + 210 })
        write(to: &writer) { writer, record in
            ServerRecord.write(
                entity: record.entity, id: record.id, version: record.version, deleted: record.deleted,
                updatedAt: record.updatedAt, device: withDevices ? record.device : nil, to: &writer
            ) { writer in writer.rawJSON(record.fieldsJSON) }
        }
        return writer.bytes
    }
}

/// Collects a pull's records up to the page's byte budget, the same way on every backend.
struct PullPageBuilder {
    private var records: [StoredPullRecord] = []
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
            StoredPullRecord(
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
