import Foundation
import GRDB
import MarginCore

/// How articles are read from and written to the client store. Callers hold the
/// transaction; these helpers keep the tag and search tables in step with the row.
extension Article {
    static let selection = """
        SELECT a.id, a.title, a.published, a.source, a.body_hash, a.captions, a.created_at, a.updated_at, \
        a.url, a.author, a.site_name, a.language, \
        (SELECT group_concat(tag, char(31)) FROM article_tags WHERE article_id = a.id) AS tags \
        FROM articles a
        """

    init(row: Row) throws {
        let captions: String = row["captions"]
        self.init(
            id: row["id"],
            title: row["title"],
            published: (row["published"] as String?).flatMap(CalendarDate.init),
            source: row["source"],
            contentHash: row["body_hash"],
            captions: try JSONDecoder().decode([String].self, from: Data(captions.utf8)),
            tags: splitTags(row["tags"]),
            createdAt: Timestamp(milliseconds: row["created_at"]),
            updatedAt: Timestamp(milliseconds: row["updated_at"]),
            url: row["url"], author: row["author"], siteName: row["site_name"], language: row["language"]
        )
    }

    static func fetchOne(_ db: Database, id: String) throws -> Article? {
        try Row.fetchOne(db.cachedStatement(sql: selection + " WHERE a.id = ?"), arguments: [id]).map(Article.init(row:))
    }

    static func fetchAll(_ db: Database, where condition: String = "", arguments: StatementArguments = []) throws -> [Article] {
        try Row.fetchAll(
            db, sql: selection + " \(condition) ORDER BY a.published IS NULL, a.published DESC, a.created_at DESC, a.id",
            arguments: arguments
        ).map(Article.init(row:))
    }

    /// The server version the article was last synchronized at.
    static func version(_ db: Database, id: String) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT version FROM articles WHERE id = ?", arguments: [id]) ?? 0
    }

    static func body(_ db: Database, hash: String) throws -> String? {
        try String.fetchOne(db, sql: "SELECT text FROM bodies WHERE hash = ?", arguments: [hash])
    }

    /// The article's row id and its body, or `nil` if there is no such article.
    static func localIdAndBody(_ db: Database, id: String) throws -> (Int64, String)? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT a.local_id, b.text FROM articles a JOIN bodies b ON b.hash = a.body_hash WHERE a.id = ?"),
            arguments: [id]
        ).map { ($0[0], $0[1]) }
    }

    /// The body of the article `id`, or `nil` if there is no such article.
    static func text(_ db: Database, id: String) throws -> ArticleText? {
        try localIdAndBody(db, id: id).map { ArticleText($0.1) }
    }

    /// The article whose canonical address is `url`, if there is one.
    static func id(_ db: Database, url: String) throws -> String? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT id FROM articles WHERE url = ? ORDER BY created_at LIMIT 1"), arguments: [url])
    }

    /// Whether an article with this body already exists, and its id.
    static func id(_ db: Database, contentHash: String) throws -> String? {
        try String.fetchOne(
            db.cachedStatement(sql: "SELECT id FROM articles WHERE body_hash = ?"), arguments: [contentHash])
    }

    /// Inserts the article with its body; `searchableBody` is `SearchText.searchable(body)`,
    /// which importers compute on their parsing threads.
    func insert(_ db: Database, body: String, searchableBody: String) throws {
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO bodies (hash, text) VALUES (?, ?)")
            .execute(arguments: [contentHash, body])
        try db.cachedStatement(
            sql: """
                INSERT INTO articles (id, title, published, source, body_hash, captions, created_at, updated_at, \
                url, author, site_name, language) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            id, title, published?.description, source, contentHash, JSONText.array(captions),
            createdAt.milliseconds, updatedAt.milliseconds, url, author, siteName, language,
        ])
        let localId = db.lastInsertedRowID
        try db.cachedStatement(sql: "UPDATE library_counts SET articles = articles + 1 WHERE id = 1").execute()
        try insertTags(db)
        try SearchIndex.articles.insert(db, rowid: localId, folded: [SearchText.searchable(title), searchableBody])
    }

    /// Writes the fields of an existing article, previously `old`, except its body
    /// (see `replaceBody`).
    func update(_ db: Database, old: Article) throws {
        try db.execute(
            sql: """
                UPDATE articles SET title = ?, published = ?, source = ?, captions = ?, created_at = ?, updated_at = ?, \
                url = ?, author = ?, site_name = ?, language = ? WHERE id = ?
                """,
            arguments: [
                title, published?.description, source, JSONText.array(captions), createdAt.milliseconds,
                updatedAt.milliseconds, url, author, siteName, language, id,
            ])
        try db.execute(sql: "DELETE FROM article_tags WHERE article_id = ?", arguments: [id])
        try insertTags(db)
        if title != old.title, let (localId, body) = try Self.localIdAndBody(db, id: id) {
            let folded = SearchText.searchable(body)
            try SearchIndex.articles.replace(
                db, rowid: localId, old: [SearchText.searchable(old.title), folded],
                new: [SearchText.searchable(title), folded])
        }
    }

    /// Removes the article row with its tags, search entry and (if unshared) body.
    /// Its annotations must be gone already.
    func delete(_ db: Database) throws {
        if let (localId, body) = try Self.localIdAndBody(db, id: id) {
            try SearchIndex.articles.delete(
                db, rowid: localId, folded: [SearchText.searchable(title), SearchText.searchable(body)])
        }
        try db.execute(sql: "DELETE FROM article_tags WHERE article_id = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM articles WHERE id = ?", arguments: [id])
        try db.execute(sql: "UPDATE library_counts SET articles = articles - 1 WHERE id = 1")
        try db.execute(
            sql: "DELETE FROM bodies WHERE hash = ? AND NOT EXISTS (SELECT 1 FROM articles WHERE body_hash = ?)",
            arguments: [contentHash, contentHash])
    }

    private func insertTags(_ db: Database) throws {
        let insert = try db.cachedStatement(sql: "INSERT INTO article_tags (article_id, tag) VALUES (?, ?)")
        for tag in tags { try insert.execute(arguments: [id, tag]) }
    }
}

/// Tags read back from `group_concat(tag, char(31))` (tags cannot contain control characters).
func splitTags(_ joined: String?) -> [String] {
    guard let joined, !joined.isEmpty else { return [] }
    return joined.split(separator: "\u{1F}").map(String.init).sorted()
}
