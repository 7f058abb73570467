import Foundation
import GRDB
import MarginCore
import MarginWire

extension LibraryStore {
    /// Conflicts, newest first.
    public func conflicts() throws(MarginError) -> [ConflictRecord] {
        try read { db in try Self.fetchConflicts(db, where: "", arguments: []) }
    }

    /// The ids of the conflicts this library holds.
    public func conflictIds() throws(MarginError) -> Set<String> {
        try read { db in try Set(String.fetchAll(db, sql: "SELECT id FROM conflicts")) }
    }

    /// Conflicts other than `known`, newest first (those a sync brought): only they are
    /// read with their records' current values.
    public func conflicts(excluding known: Set<String>) throws(MarginError) -> [ConflictRecord] {
        try read { db in
            try Self.fetchConflicts(db, where: "WHERE id NOT IN (SELECT value FROM json_each(?))", arguments: [JSONText.array(Array(known))])
        }
    }

    /// The conflict whose handle (at least three characters) or id (at least four) starts
    /// with `prefix`.
    public func conflict(_ prefix: String) throws(MarginError) -> ConflictRecord {
        let reference = try TypedReference(prefix, naming: "a conflict's handle or id")
        let matches = try read { db in try Self.fetchConflicts(db, where: "", arguments: []) }.filter { reference.matches($0.id) }
        guard let first = matches.first else {
            throw MarginError(.notFound, "no conflict has a handle or id starting with '\(prefix)'; see margin conflicts")
        }
        guard matches.count == 1 else {
            throw MarginError(.ambiguous, "the conflict '\(prefix)' matches \(matches.count) conflicts; give more characters")
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
                switch (conflict.field, conflict.value) {
                case (.title, .text(let title)):
                    _ = try Self.editArticle(db, &recorder, id: conflict.recordId, ArticleChanges(title: title), time: time)
                case (.contentHash, .text(let hash)):
                    try Self.restoreText(db, &recorder, articleId: conflict.recordId, hash: hash, time: time)
                default:
                    throw MarginError(.invalidInput, "this conflict's value cannot be restored; edit the article by hand")
                }
            default:
                throw MarginError(.invalidInput, "this conflict cannot be restored")
            }
            try Self.dismissConflict(db, &recorder, conflict)
            return conflict
        }
    }

    /// Gives the article back a text it had (one that lost a conflict), if this store holds it.
    private static func restoreText(
        _ db: Database, _ recorder: inout ChangeRecorder, articleId: String, hash: String, time: Timestamp
    ) throws {
        guard let old = try Article.fetchOne(db, id: articleId) else { throw MarginError(.notFound, "no article \(articleId)") }
        guard try Article.body(db, hash: hash) != nil else {
            throw MarginError(.invalidInput, "this library does not hold that text; sync, then restore again")
        }
        if let other = try Article.id(db, contentHash: hash), other != articleId {
            throw MarginError(.invalidInput, "that text is article \(other) now")
        }
        var new = old
        new.contentHash = hash
        new.updatedAt = max(time, old.updatedAt)
        try new.update(db, old: old)
        try recorder.record(
            db, .article, id: articleId, .update, old: old.fieldValues, new: new.fieldValues, baseVersion: try Article.version(db, id: articleId))
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
