import GRDB
import MarginCore

/// What `LibraryStore.undo(seq:)` did.
public struct UndoResult: Sendable, Hashable {
    /// The change taken back.
    public var undone: ChangeEntry
    /// The record the undo wrote: the one changed, or for a deleted annotation, the copy
    /// made of it (a new id; the deleted one stays deleted on every device).
    public var recordId: String
    /// The changes the undo logged (they sync like any other).
    public var changes: ClosedRange<Int64>
}

extension LibraryStore {
    /// Takes back a change made on this device as new, ordinary changes that sync: the change
    /// `seq`, or else the last one not undone yet (and not itself an undo, so that repeated
    /// undos walk back through the log; undoing an undo, by its `seq`, makes the change
    /// again).
    ///
    /// - An edit gets its fields' earlier values back, an article its earlier text.
    /// - A new annotation is deleted; an imported article too, unless it has annotations.
    /// - A deleted annotation is made again, with its note, tags, color and passage, under a
    ///   new id (its article must still be here).
    ///
    /// A record changed since (here or by a sync) in the fields the change wrote is refused:
    /// undoing it would overwrite the later change; `margin history` shows it.
    public func undo(seq: Int64? = nil) throws(MarginError) -> UndoResult {
        let time = now()
        return try mutate { db, recorder in
            let state = try SyncState.current(db)
            let target = try seq ?? Int64.fetchOne(
                db,
                sql: """
                    SELECT seq FROM changes c WHERE entity IN ('article', 'annotation') AND undo_of IS NULL \
                    AND NOT EXISTS (SELECT 1 FROM changes u WHERE u.undo_of = c.seq) ORDER BY seq DESC LIMIT 1
                    """)
            guard let target, let row = try Row.fetchOne(
                db, sql: "SELECT \(ChangeEntry.columns) FROM changes WHERE seq = ?", arguments: [target])
            else {
                throw MarginError(.notFound, seq.map { "no change #\($0) in this library's log; see margin log" } ?? "nothing to undo")
            }
            let change = try state.change(row)
            if let later = try Int64.fetchOne(db, sql: "SELECT seq FROM changes WHERE undo_of = ?", arguments: [target]) {
                throw MarginError(.invalidInput, "change #\(target) was undone by #\(later) already; undo #\(later) to make it again")
            }
            let first = recorder.nextSeq
            let recordId = try Self.takeBack(change, db, &recorder, time: time)
            try db.execute(sql: "UPDATE changes SET undo_of = ? WHERE seq >= ?", arguments: [target, first])
            return UndoResult(undone: change, recordId: recordId, changes: first...(recorder.nextSeq - 1))
        }
    }

    private static func takeBack(_ change: ChangeEntry, _ db: Database, _ recorder: inout ChangeRecorder, time: Timestamp) throws -> String {
        let what = "\(change.entity.rawValue) \(change.entityId)"
        switch (change.entity, change.op) {
        case (.annotation, .create), (.annotation, .update):
            guard let current = try Annotation.fetchOne(db, id: change.entityId) else {
                throw MarginError(.invalidInput, "\(what) was deleted since; see margin history \(change.entityId)")
            }
            try checkUnchanged(current.fieldValues, since: change, what: what)
            if change.op == .create {
                try deleteAnnotation(db, &recorder, id: current.id)
                return current.id
            }
            let earlier = Annotation(id: current.id, fields: before(change, current.fieldValues), updatedAt: max(time, current.updatedAt))
            try earlier.update(db, old: current)
            try recorder.record(
                db, .annotation, id: current.id, .update, old: current.fieldValues, new: earlier.fieldValues,
                baseVersion: try Annotation.version(db, id: current.id))
            return current.id
        case (.annotation, .delete):
            let values = change.fields.mapValues(\.old)
            guard let articleId = values[.articleId]?.textValue, let current = try Article.hashedText(db, id: articleId) else {
                throw MarginError(.invalidInput, "the article of deleted \(what) is gone; nothing to put it back on")
            }
            var copy = Annotation(id: Identifier.make(at: time), fields: values, updatedAt: time)
            copy.createdAt = time
            var texts: [String: ArticleText] = [:]
            try copy.insert(db, anchor: try copy.anchor(db, in: current.text, hash: current.hash, texts: &texts))
            try recorder.record(db, .annotation, id: copy.id, .create, old: nil, new: copy.fieldValues, baseVersion: 0)
            return copy.id
        case (.article, .create), (.article, .update):
            guard let current = try Article.fetchOne(db, id: change.entityId) else {
                throw MarginError(.invalidInput, "\(what) was deleted since; see margin history \(change.entityId)")
            }
            try checkUnchanged(current.fieldValues, since: change, what: what)
            if change.op == .create {
                let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM annotations WHERE article_id = ?", arguments: [current.id]) ?? 0
                guard count == 0 else {
                    throw MarginError(
                        .invalidInput, "\(what) has \(count) annotation(s); undoing its import would delete them: use margin delete")
                }
                _ = try deleteArticle(db, &recorder, id: current.id)
                return current.id
            }
            let earlier = Article(id: current.id, fields: before(change, current.fieldValues), updatedAt: max(time, current.updatedAt))
            if earlier.contentHash != current.contentHash {
                guard try Article.body(db, hash: earlier.contentHash) != nil else {
                    throw MarginError(.invalidInput, "this library no longer holds the earlier text of \(what)")
                }
                if let other = try Article.id(db, contentHash: earlier.contentHash), other != current.id {
                    throw MarginError(.invalidInput, "the earlier text of \(what) is article \(other) now")
                }
            }
            try earlier.update(db, old: current)
            try recorder.record(
                db, .article, id: current.id, .update, old: current.fieldValues, new: earlier.fieldValues,
                baseVersion: try Article.version(db, id: current.id))
            return current.id
        case (.article, .delete):
            throw MarginError(
                .invalidInput, "a deleted article cannot be undone: import it again (its annotations were deleted with it; see margin log)")
        case (.conflict, _):
            throw MarginError(.invalidInput, "change #\(change.seq) dismissed a conflict; it cannot be undone")
        }
    }

    /// `current` with the fields `change` wrote set back to their values before it.
    private static func before(_ change: ChangeEntry, _ current: [RecordField: FieldValue]) -> [RecordField: FieldValue] {
        current.merging(change.fields.mapValues(\.old)) { _, old in old }
    }

    /// The fields a create is compared on: what a user changes (a sync may move an
    /// annotation to an article of the same text, which undoing its create does not mind).
    private static let comparedOnCreate: Set<RecordField> = [.note, .tags, .color, .title, .contentHash]

    /// Refuses when a field `change` wrote holds another value now.
    private static func checkUnchanged(_ current: [RecordField: FieldValue], since change: ChangeEntry, what: String) throws {
        let compared = change.op == .create ? change.fields.filter { comparedOnCreate.contains($0.key) } : change.fields
        let changed = compared.filter { current[$0.key] ?? .null != $0.value.new }.keys.map(\.rawValue).sorted()
        guard changed.isEmpty else {
            throw MarginError(
                .invalidInput,
                "the \(changed.joined(separator: ", ")) of \(what) changed since #\(change.seq), here or on another device; see margin history \(change.entityId)")
        }
    }
}
