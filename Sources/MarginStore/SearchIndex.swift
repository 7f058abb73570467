import GRDB
import MarginCore
import MarginSQLite

/// The contentless full-text tables (see `Schema/client-001-library.sql`). They keep no
/// copy of the text, so a row is removed by handing FTS5 the exact folded text it was
/// indexed with; every helper here takes the original text and folds it the same way.
enum SearchIndex: String {
    case articles = "article_search"
    case annotations = "annotation_search"

    /// Indexes the row `rowid` with the given column texts, already folded.
    func insert(_ db: Database, rowid: Int64, folded columns: [String]) throws {
        try db.cachedStatement(sql: "INSERT INTO \(rawValue) (rowid, \(columnNames)) VALUES (?, ?, ?)")
            .execute(bound: [.integer(rowid)] + columns.map(BoundValue.text))
    }

    /// Removes the row `rowid`, indexed with the given column texts, already folded.
    func delete(_ db: Database, rowid: Int64, folded columns: [String]) throws {
        try db.cachedStatement(
            sql: "INSERT INTO \(rawValue) (\(rawValue), rowid, \(columnNames)) VALUES ('delete', ?, ?, ?)"
        ).execute(bound: [.integer(rowid)] + columns.map(BoundValue.text))
    }

    /// Replaces the entry of `rowid` when its folded texts change.
    func replace(_ db: Database, rowid: Int64, old: [String], new: [String]) throws {
        guard old != new else { return }
        try delete(db, rowid: rowid, folded: old)
        try insert(db, rowid: rowid, folded: new)
    }

    private var columnNames: String {
        switch self {
        case .articles: "title, body"
        case .annotations: "note, tags"
        }
    }
}

extension Annotation {
    /// The folded note and tags, as the search index holds them.
    var searchColumns: [String] {
        [SearchText.searchable(note), SearchText.searchable(tags.joined(separator: " "))]
    }
}
