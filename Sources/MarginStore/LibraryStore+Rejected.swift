import Foundation
import GRDB
import MarginCore
import MarginWire

/// A change the server refused for good (it breaks a rule of `RecordRules`, or cannot
/// apply), parked with the server's reason so that it never holds back the rest of the
/// change log. It stays listed until a later change to the same record is accepted in its
/// place (for an update, changes covering every field it set) or the user discards it.
///
/// What the device shows meanwhile: a refused update or delete leaves the record as the
/// server has it (the refused values live on here); a refused create leaves the record on
/// this device only.
public struct RejectedChange: Sendable, Hashable {
    public var change: ChangeEntry
    public var reason: String
    public var rejectedAt: Timestamp
}

extension LibraryStore {
    /// The parked changes, oldest first.
    public func rejectedChanges() throws(MarginError) -> [RejectedChange] {
        try read { db in try Self.fetchRejected(db, where: "", arguments: []) }
    }

    /// Discards the parked change `seq`. A refused create's record is deleted from this
    /// device (a delete the server, which never had it, answers as applied); a refused
    /// update or delete is forgotten, the record being as the server has it already.
    @discardableResult
    public func discardRejected(seq: Int64) throws(MarginError) -> RejectedChange {
        try mutate { db, recorder in
            guard let rejected = try Self.fetchRejected(db, where: "WHERE r.seq = ?", arguments: [seq]).first else {
                throw MarginError(.notFound, "no refused change #\(seq); see margin log --rejected")
            }
            try db.execute(sql: "DELETE FROM rejected_changes WHERE seq = ?", arguments: [seq])
            let change = rejected.change
            guard change.op == .create else { return rejected }
            switch change.entity {
            case .article:
                if try Article.fetchOne(db, id: change.entityId) != nil { _ = try Self.deleteArticle(db, &recorder, id: change.entityId) }
            case .annotation:
                if try Annotation.fetchOne(db, id: change.entityId) != nil { try Self.deleteAnnotation(db, &recorder, id: change.entityId) }
            case .conflict:
                if let conflict = try Self.fetchConflicts(db, where: "WHERE id = ?", arguments: [change.entityId]).first {
                    try Self.dismissConflict(db, &recorder, conflict)
                }
            }
            return rejected
        }
    }

    // MARK: - Within a push reply's transaction

    /// Parks `change`, refused for `reason`. Later pending updates of the same fields were
    /// made on the refused values; they now replace what the server holds, so their old
    /// values become the refused change's old values (what the server kept).
    static func park(_ db: Database, _ change: WireChange, reason: String, at time: Timestamp, pushedSeq: Int64) throws {
        let open = change.op == .update ? JSONText.array(change.fields.keys.sorted().map(\.rawValue)) : nil
        try db.execute(
            sql: "INSERT OR REPLACE INTO rejected_changes (seq, reason, rejected_at, open_fields) VALUES (?, ?, ?, ?)",
            arguments: [change.seq, reason, time.milliseconds, open])
        guard change.op == .update else { return }
        for row in try Row.fetchAll(
            db, sql: "SELECT seq, fields FROM changes WHERE entity_id = ? AND op = 'update' AND seq > ?",
            arguments: [change.id, pushedSeq]) {
            let fieldsText: String = row["fields"]
            var fields = try JSONNode.parse(fieldsText).fieldChanges()
            var rewritten = false
            for (field, refused) in change.fields where fields[field]?.old == refused.new {
                fields[field]?.old = refused.old
                rewritten = true
            }
            if rewritten {
                try db.execute(
                    sql: "UPDATE changes SET fields = ? WHERE seq = ?", arguments: [JSONText.fieldChanges(fields), row["seq"]])
            }
        }
    }

    /// Settles the parked changes that `accepted` (applied, merged or in conflict) takes
    /// the place of: any parked create or delete of its record, and the fields it covers
    /// of parked updates.
    static func settleRejected(_ db: Database, by accepted: WireChange) throws {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT r.seq, r.open_fields FROM rejected_changes r JOIN changes c ON c.seq = r.seq \
                WHERE c.entity_id = ? AND r.seq < ?
                """,
            arguments: [accepted.id, accepted.seq])
        for row in rows {
            let seq: Int64 = row["seq"]
            guard accepted.op == .update, let openText: String = row["open_fields"] else {
                try db.execute(sql: "DELETE FROM rejected_changes WHERE seq = ?", arguments: [seq])
                continue
            }
            let open = try JSONNode.parse(openText).array().map { try $0.string() }
                .filter { RecordField(rawValue: $0).map { accepted.fields[$0] == nil } ?? false }
            if open.isEmpty {
                try db.execute(sql: "DELETE FROM rejected_changes WHERE seq = ?", arguments: [seq])
            } else {
                try db.execute(sql: "UPDATE rejected_changes SET open_fields = ? WHERE seq = ?", arguments: [JSONText.array(open), seq])
            }
        }
    }

    /// The reason the create of record `id` is parked, if it is: the server does not have
    /// the record, and changes that need it wait with it.
    static func parkedCreateReason(_ db: Database, id: String) throws -> String? {
        try String.fetchOne(
            db,
            sql: "SELECT r.reason FROM rejected_changes r JOIN changes c ON c.seq = r.seq WHERE c.entity_id = ? AND c.op = 'create'",
            arguments: [id])
    }

    static func fetchRejected(_ db: Database, where condition: String, arguments: StatementArguments) throws -> [RejectedChange] {
        let deviceId = try SyncState.current(db).deviceId
        let columns = ChangeEntry.columns.split(separator: ", ").map { "c.\($0)" }.joined(separator: ", ")
        return try Row.fetchAll(
            db,
            sql: "SELECT \(columns), r.reason, r.rejected_at FROM rejected_changes r JOIN changes c ON c.seq = r.seq \(condition) ORDER BY r.seq",
            arguments: arguments
        ).map { row in
            RejectedChange(
                change: try ChangeEntry(row: row, deviceId: deviceId, pushedSeq: .max), reason: row["reason"],
                rejectedAt: Timestamp(milliseconds: row["rejected_at"]))
        }
    }
}
