import Foundation
import GRDB
import MarginCore

/// What pushing and pulling share: checks of what the server sends, and moving an
/// article's records to the id the server knows it by.
extension LibraryStore {
    /// Refuses bodies that do not match their hash, before anything is written.
    static func check(_ bodies: [WireBody]) throws(MarginError) {
        for body in bodies where ContentHash.of(body.text) != body.hash {
            throw MarginError(.invalidInput, "the server sent a body that does not match its hash; nothing was applied")
        }
    }

    /// Refuses records a server should never send, before anything is written. Limits
    /// are not checked: a record stored under an earlier release's rules stays readable.
    static func validate(_ records: [ServerRecord]) throws(MarginError) {
        for record in records {
            guard Identifier.isValid(record.id), record.version > 0 else {
                throw MarginError(.invalidInput, "the server sent a record with an invalid id or version; nothing was applied")
            }
            if record.deleted { continue }
            do throws(MarginError) {
                try RecordRules.check(record: record.fields, of: record.entity, limits: false)
            } catch {
                throw MarginError(.invalidInput, "the server sent an invalid \(record.entity.rawValue) record (\(error.message)); nothing was applied")
            }
        }
    }

    /// Gives a local article the id the server knows it by (another device imported the
    /// same body first), with its tags, annotations and logged changes.
    static func renameArticle(_ db: Database, from old: String, to new: String) throws {
        guard try Article.fetchOne(db, id: old) != nil, try Article.fetchOne(db, id: new) == nil else { return }
        try db.execute(sql: "PRAGMA defer_foreign_keys = ON")
        try db.execute(sql: "UPDATE articles SET id = ?, handle = ? WHERE id = ?", arguments: [new, Handle.of(new), old])
        try db.execute(sql: "UPDATE article_tags SET article_id = ? WHERE article_id = ?", arguments: [new, old])
        try repoint(db, from: old, to: new)
    }

    /// Folds the local article `old` into the article `new`, which is taking its text (the
    /// server merged the two: `old` is an alias of `new` there): its annotations and logged
    /// changes go to `new`, and the row goes. Nothing is logged: the server did it.
    static func foldArticle(_ db: Database, from old: String, into new: String) throws {
        guard let article = try Article.fetchOne(db, id: old) else { return }
        try repoint(db, from: old, to: new)
        try article.delete(db)
    }

    /// Points the annotations and logged changes of the article `old` at `new`.
    private static func repoint(_ db: Database, from old: String, to new: String) throws {
        try db.execute(sql: "UPDATE annotations SET article_id = ? WHERE article_id = ?", arguments: [new, old])
        try db.execute(sql: "UPDATE changes SET entity_id = ? WHERE entity_id = ?", arguments: [new, old])
        try db.execute(sql: "UPDATE pulled_changes SET entity_id = ? WHERE entity_id = ?", arguments: [new, old])
        try db.execute(
            sql: """
                UPDATE changes SET fields = json_set(fields, '$.articleId.new', ?) \
                WHERE entity = 'annotation' AND json_extract(fields, '$.articleId.new') = ?
                """,
            arguments: [new, old])
        try db.execute(
            sql: """
                UPDATE changes SET fields = json_set(fields, '$.articleId.old', ?) \
                WHERE entity = 'annotation' AND json_extract(fields, '$.articleId.old') = ?
                """,
            arguments: [new, old])
    }
}
