import Foundation
import GRDB
import MarginCore
import MarginWire

/// One change of a record as `margin history` shows it: made here (a change-log entry), or
/// brought by a pull from another device.
public struct HistoryEntry: Sendable, Hashable, Encodable {
    public enum Origin: String, Sendable, Hashable, Encodable {
        /// Made on this device (`margin log` lists it).
        case local
        /// Brought by a pull: written on another device (or on this one, before a reset).
        case pulled
        /// Brought by the server's answer to a push: this device's change merged with what
        /// other devices wrote meanwhile (their values).
        case merged
    }

    public var origin: Origin
    public var op: ChangeEntry.Operation
    public var entity: RecordEntity
    public var entityId: String
    /// The device that made the change; nil for a pull from a server older than protocol 5.
    public var device: String?
    /// When the change was made (its clock's wall time; for a pulled change, the record's).
    public var at: Timestamp
    /// The fields it changed, from and to.
    public var fields: [RecordField: ChangeEntry.FieldChange]
    /// A local change's sequence number (`margin undo --change SEQ`); nil for a pulled one.
    public var seq: Int64?
    /// Whether a local change was pushed to the server; nil for a pulled one.
    public var pushed: Bool?
    /// The change a local change took back (`margin undo`).
    public var undoOf: Int64?
    /// When this library learned of the change: made here, or received. History is in
    /// this order.
    var knownAt: Timestamp

    enum CodingKeys: String, CodingKey {
        case origin, op, entity, entityId, device, at, fields, seq, pushed, undoOf
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(origin, forKey: .origin)
        try container.encode(op, forKey: .op)
        try container.encode(entity, forKey: .entity)
        try container.encode(entityId, forKey: .entityId)
        try container.encode(device, forKey: .device)
        try container.encode(at, forKey: .at)
        try container.encode(Dictionary(uniqueKeysWithValues: fields.map { ($0.key.rawValue, $0.value) }), forKey: .fields)
        try container.encodeIfPresent(seq, forKey: .seq)
        try container.encodeIfPresent(pushed, forKey: .pushed)
        try container.encodeIfPresent(undoOf, forKey: .undoOf)
    }
}

extension LibraryStore {
    /// Every change of the record `id` this library knows, oldest first: the changes made
    /// here and those pulls brought. A record that arrived with a whole library (a first
    /// sync) has no pulled entry for what came before.
    public func history(of id: String) throws(MarginError) -> [HistoryEntry] {
        try read { db in
            let state = try SyncState.current(db)
            let local = try Row.fetchAll(
                db, sql: "SELECT \(ChangeEntry.columns), undo_of FROM changes WHERE entity_id = ? ORDER BY seq", arguments: [id]
            ).map { row in
                let change = try state.change(row)
                return HistoryEntry(
                    origin: .local, op: change.op, entity: change.entity, entityId: change.entityId, device: change.deviceId,
                    at: change.hlc.physical, fields: change.fields, seq: change.seq, pushed: change.pushed, undoOf: row["undo_of"],
                    knownAt: change.hlc.physical)
            }
            let pulled = try Row.fetchAll(
                db,
                sql: """
                    SELECT origin, entity, entity_id, op, fields, device, written_at, pulled_at FROM pulled_changes \
                    WHERE entity_id = ? ORDER BY id
                    """,
                arguments: [id]
            ).map { row in
                guard let origin = HistoryEntry.Origin(rawValue: row["origin"]), let entity = RecordEntity(rawValue: row["entity"]),
                      let op = ChangeEntry.Operation(rawValue: row["op"])
                else { throw MarginError(.corruptStore, "a pulled change has an unknown kind") }
                return HistoryEntry(
                    origin: origin, op: op, entity: entity, entityId: row["entity_id"], device: row["device"],
                    at: Timestamp(milliseconds: row["written_at"]), fields: try JSONNode.parse(row["fields"]).fieldChanges(),
                    knownAt: Timestamp(milliseconds: row["pulled_at"]))
            }
            // In the order this library learned of them; a change received in the same
            // millisecond as one made here goes after it, and each list keeps its own order.
            let all = local.map { ($0, 0) } + pulled.map { ($0, 1) }
            return all.enumerated().sorted { a, b in
                (a.element.0.knownAt, a.element.1, a.offset) < (b.element.0.knownAt, b.element.1, b.offset)
            }.map(\.element.0)
        }
    }
}

/// Writes what a sync changed in this store (`pulled_changes`) for `margin history`: what
/// a pull brought, or (`merged`) what the server's answer to a push brought of others'
/// changes. A pull of a whole library (`recordsCreates` false) records only changes to
/// records the store already held.
struct PulledHistory {
    let origin: HistoryEntry.Origin
    let receivedAt: Timestamp
    let recordsCreates: Bool

    /// Records what `record` changed in the store, from `old` to `new`.
    func record(
        _ db: Database, _ entity: RecordEntity, id: String, _ op: ChangeEntry.Operation, old: [RecordField: FieldValue]?,
        new: [RecordField: FieldValue]?, from record: ServerRecord
    ) throws {
        try self.record(
            db, entity, id: id, op, old: old, new: new, device: record.device, version: record.version,
            writtenAt: Timestamp(milliseconds: record.updatedAt))
    }

    func record(
        _ db: Database, _ entity: RecordEntity, id: String, _ op: ChangeEntry.Operation, old: [RecordField: FieldValue]?,
        new: [RecordField: FieldValue]?, device: String?, version: Int64, writtenAt: Timestamp
    ) throws {
        guard op != .create || recordsCreates else { return }
        let fields = ChangeEntry.fieldChanges(from: old, to: new)
        guard !fields.isEmpty else { return }
        try db.cachedStatement(
            sql: """
                INSERT INTO pulled_changes (origin, entity, entity_id, op, fields, device, version, written_at, pulled_at) \
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            origin.rawValue, entity.rawValue, id, op.rawValue, JSONText.fieldChanges(fields), device, version,
            writtenAt.milliseconds, receivedAt.milliseconds,
        ])
    }
}
