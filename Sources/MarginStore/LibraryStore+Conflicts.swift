import Foundation
import GRDB
import MarginCore

extension LibraryStore {
    /// Conflicts, newest first.
    public func conflicts() throws(MarginError) -> [ConflictRecord] {
        try read { db in try Self.fetchConflicts(db, where: "", arguments: []) }
    }

    /// The conflict whose id starts with `prefix` (at least four characters).
    public func conflict(_ prefix: String) throws(MarginError) -> ConflictRecord {
        let canonical = try Self.canonicalPrefix(prefix, naming: "a conflict id")
        let matches = try read { db in
            try Self.fetchConflicts(db, where: "WHERE id >= ? AND id < ?", arguments: [canonical, canonical + "~"])
        }
        guard let first = matches.first else {
            throw MarginError(.notFound, "no conflict has an id starting with '\(prefix)'; see margin conflicts")
        }
        guard matches.count == 1 else {
            throw MarginError(.ambiguous, "the conflict id '\(prefix)' matches \(matches.count) conflicts; give more characters")
        }
        return first
    }

    /// Puts the losing value back (or re-applies the losing delete) as a new local change,
    /// and dismisses the conflict, in one transaction; both are pushed at the next sync.
    public func restoreConflict(id: String) throws(MarginError) -> ConflictRecord {
        let time = now()
        return try mutate { db, recorder in
            guard let conflict = try Self.fetchConflicts(db, where: "WHERE id = ?", arguments: [id]).first else {
                throw MarginError(.notFound, "no conflict \(id)")
            }
            switch (conflict.kind, conflict.recordEntity) {
            case (.delete, .annotation):
                try Self.deleteAnnotation(db, &recorder, id: conflict.recordId)
            case (.delete, .article):
                _ = try Self.deleteArticle(db, &recorder, id: conflict.recordId)
            case (.value, .annotation):
                var changes = AnnotationChanges()
                switch (conflict.field, conflict.value) {
                case (.note, .text(let note)): changes.note = note
                case (.color, .text(let color)): changes.color = HighlightColor(rawValue: color)
                default: throw MarginError(.invalidInput, "this conflict's value cannot be restored; edit the annotation by hand")
                }
                _ = try Self.editAnnotation(db, &recorder, id: conflict.recordId, changes, time: time)
            case (.value, .article):
                guard conflict.field == .title, case .text(let title) = conflict.value else {
                    throw MarginError(.invalidInput, "this conflict's value cannot be restored; edit the article by hand")
                }
                _ = try Self.editArticle(db, &recorder, id: conflict.recordId, ArticleChanges(title: title), time: time)
            default:
                throw MarginError(.invalidInput, "this conflict cannot be restored")
            }
            try Self.dismissConflict(db, &recorder, conflict)
            return conflict
        }
    }

    /// Forgets a conflict (on every device, after the next sync), keeping the record as it is.
    public func dismissConflict(id: String) throws(MarginError) {
        try mutate { db, recorder in
            guard let conflict = try Self.fetchConflicts(db, where: "WHERE id = ?", arguments: [id]).first else {
                throw MarginError(.notFound, "no conflict \(id)")
            }
            try Self.dismissConflict(db, &recorder, conflict)
        }
    }

    static func dismissConflict(_ db: Database, _ recorder: inout ChangeRecorder, _ conflict: ConflictRecord) throws {
        let version = try Int64.fetchOne(db, sql: "SELECT version FROM conflicts WHERE id = ?", arguments: [conflict.id]) ?? 0
        try db.execute(sql: "DELETE FROM conflicts WHERE id = ?", arguments: [conflict.id])
        try Tombstones.record(db, .conflict, id: conflict.id, version: version)
        try recorder.record(db, .conflict, id: conflict.id, .delete, old: conflict.fieldValues, new: nil, baseVersion: version)
    }

    static func fetchConflicts(_ db: Database, where condition: String, arguments: StatementArguments) throws -> [ConflictRecord] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT id, record_entity, record_id, kind, field, value, device, hlc, created_at FROM conflicts \
                \(condition) ORDER BY created_at DESC, id
                """,
            arguments: arguments
        ).map { row in
            let valueText: String = row["value"]
            guard let entity = RecordEntity(rawValue: row["record_entity"]), let kind = ConflictRecord.Kind(rawValue: row["kind"]) else {
                throw MarginError(.corruptStore, "a conflict record has an unknown kind")
            }
            var conflict = ConflictRecord(
                id: row["id"], recordEntity: entity, recordId: row["record_id"], kind: kind,
                field: (row["field"] as String?).flatMap(RecordField.init), value: try JSONNode.parse(valueText).fieldValue(),
                device: row["device"], hlc: row["hlc"], createdAt: Timestamp(milliseconds: row["created_at"]))
            if let field = conflict.field {
                let fields = entity == .article
                    ? try Article.fetchOne(db, id: conflict.recordId)?.fieldValues
                    : try Annotation.fetchOne(db, id: conflict.recordId)?.fieldValues
                conflict.currentValue = fields?[field]
            }
            return conflict
        }
    }
}
