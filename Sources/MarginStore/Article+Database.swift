import Foundation
import GRDB
import MarginCore
import MarginWire

/// How articles are read from and written to the client store. Callers hold the
/// transaction; these helpers keep the tag and search tables in step with the row. An
/// article is read from a row of `selection` (with its tags).
extension Article: FetchableRecord {
    static let selection = """
        SELECT a.id, a.title, a.published, a.source, a.body_hash, a.captions, a.created_at, a.updated_at, \
        a.url, a.author, a.site_name, a.language, \
        (SELECT group_concat(tag, char(31)) FROM article_tags WHERE article_id = a.id) AS tags \
        FROM articles a
        """

    public init(row: Row) throws {
        let captions: String = row["captions"]
        self.init(
            id: row["id"],
            title: row["title"],
            published: (row["published"] as String?).flatMap(CalendarDate.init),
            source: row["source"],
            contentHash: row["body_hash"],
            captions: try JSONNode.parse(captions).array().map { node throws(JSONShapeError) in try node.string() },
            tags: splitTags(row["tags"]),
            createdAt: Timestamp(milliseconds: row["created_at"]),
            updatedAt: Timestamp(milliseconds: row["updated_at"]),
            url: row["url"], author: row["author"], siteName: row["site_name"], language: row["language"]
        )
    }

    static func fetchOne(_ db: Database, id: String) throws -> Article? {
        try fetchOne(db.cachedStatement(sql: selection + " WHERE a.id = ?"), arguments: [id])
    }

    static func fetchAll(_ db: Database, where condition: String = "", arguments: StatementArguments = []) throws -> [Article] {
        try fetchAll(
            db, sql: selection + " \(condition) ORDER BY a.published IS NULL, a.published DESC, a.created_at DESC, a.id",
            arguments: arguments)
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

    /// The current text of the article `id` with its hash, or `nil` if there is no such article.
    static func hashedText(_ db: Database, id: String) throws -> (hash: String, text: ArticleText)? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT a.body_hash, b.text FROM articles a JOIN bodies b ON b.hash = a.body_hash WHERE a.id = ?"),
            arguments: [id]
        ).map { ($0[0], ArticleText($0[1])) }
    }

    /// The text the article `id` had before its last update, if it was updated.
    static func previousText(_ db: Database, id: String) throws -> ArticleText? {
        try String.fetchOne(
            db, sql: "SELECT b.text FROM articles a JOIN bodies b ON b.hash = a.previous_hash WHERE a.id = ?", arguments: [id]
        ).map(ArticleText.init)
    }

    /// Keeps `text` among the bodies, under its content hash `hash` (bodies are shared:
    /// one already there stays as it is).
    static func keep(_ db: Database, body text: String, hash: String) throws {
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO bodies (hash, text) VALUES (?, ?)").execute(arguments: [hash, text])
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
        try Self.keep(db, body: body, hash: contentHash)
        try db.cachedStatement(
            sql: """
                INSERT INTO articles (id, title, published, source, body_hash, captions, created_at, updated_at, \
                url, author, site_name, language, handle) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            id, title, published?.description, source, contentHash, JSONText.array(captions),
            createdAt.milliseconds, updatedAt.milliseconds, url, author, siteName, language, Handle.of(id),
        ])
        let localId = db.lastInsertedRowID
        try db.cachedStatement(sql: "UPDATE library_counts SET articles = articles + 1 WHERE id = 1").execute()
        try insertTags(db)
        try SearchIndex.articles.insert(db, rowid: localId, folded: [SearchText.searchable(title), searchableBody])
    }

    /// Writes the fields of an existing article, previously `old`. A new text
    /// (`contentHash`) is stored from `body`, or from the bodies the store holds; the
    /// earlier one is kept as the article's previous text, and every annotation of the
    /// article is anchored anew.
    func update(_ db: Database, old: Article, body newBody: String? = nil) throws {
        var text: String?
        if contentHash != old.contentHash {
            guard let body = try newBody ?? Self.body(db, hash: contentHash) else {
                throw MarginError(.invalidInput, "the new text of article \(id) is missing")
            }
            try Self.keep(db, body: body, hash: contentHash)
            text = body
        }
        // The search entry is replaced by giving the text it was indexed with, read before
        // the row changes, and only when the title or the text does.
        let indexed = title != old.title || text != nil ? try Self.localIdAndBody(db, id: id) : nil
        try db.execute(
            sql: """
                UPDATE articles SET title = ?, published = ?, source = ?, body_hash = ?, captions = ?, created_at = ?, \
                updated_at = ?, url = ?, author = ?, site_name = ?, language = ?, \
                previous_hash = CASE WHEN body_hash = ? THEN previous_hash ELSE body_hash END WHERE id = ?
                """,
            arguments: [
                title, published?.description, source, contentHash, JSONText.array(captions), createdAt.milliseconds,
                updatedAt.milliseconds, url, author, siteName, language, contentHash, id,
            ])
        try db.execute(sql: "DELETE FROM article_tags WHERE article_id = ?", arguments: [id])
        try insertTags(db)
        if let (localId, oldBody) = indexed {
            let folded = SearchText.searchable(oldBody)
            try SearchIndex.articles.replace(
                db, rowid: localId, old: [SearchText.searchable(old.title), folded],
                new: [SearchText.searchable(title), text.map(SearchText.searchable) ?? folded])
        }
        if let text { try Annotation.reanchor(db, articleId: id, in: ArticleText(text), hash: contentHash) }
    }

    /// Removes the article row with its tags, search entry and (if no other article holds
    /// them) its current and previous texts. Its annotations must be gone already.
    func delete(_ db: Database) throws {
        if let (localId, body) = try Self.localIdAndBody(db, id: id) {
            try SearchIndex.articles.delete(
                db, rowid: localId, folded: [SearchText.searchable(title), SearchText.searchable(body)])
        }
        let previousHash = try String.fetchOne(db, sql: "SELECT previous_hash FROM articles WHERE id = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM article_tags WHERE article_id = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM articles WHERE id = ?", arguments: [id])
        try db.execute(sql: "UPDATE library_counts SET articles = articles - 1 WHERE id = 1")
        try db.execute(
            sql: """
                DELETE FROM bodies WHERE hash IN (?, ?) AND NOT EXISTS (SELECT 1 FROM articles WHERE body_hash = hash) \
                AND NOT EXISTS (SELECT 1 FROM articles WHERE previous_hash = hash)
                """,
            arguments: [contentHash, previousHash])
    }

    private func insertTags(_ db: Database) throws {
        let insert = try db.cachedStatement(sql: "INSERT INTO article_tags (article_id, tag) VALUES (?, ?)")
        for tag in tags { try insert.execute(arguments: [id, tag]) }
    }

    // MARK: - The id the server knows it by

    /// Gives a local article the id the server knows it by (another device imported the
    /// same body first), with its tags, annotations and logged changes.
    static func rename(_ db: Database, from old: String, to new: String) throws {
        guard try fetchOne(db, id: old) != nil, try fetchOne(db, id: new) == nil else { return }
        try db.execute(sql: "PRAGMA defer_foreign_keys = ON")
        try db.execute(sql: "UPDATE articles SET id = ?, handle = ? WHERE id = ?", arguments: [new, Handle.of(new), old])
        try db.execute(sql: "UPDATE article_tags SET article_id = ? WHERE article_id = ?", arguments: [new, old])
        try repoint(db, from: old, to: new)
    }

    /// Folds the local article `old` into the article `new`, which is taking its text (the
    /// server merged the two: `old` is an alias of `new` there): its annotations and logged
    /// changes go to `new`, and the row goes. Nothing is logged: the server did it.
    static func fold(_ db: Database, from old: String, into new: String) throws {
        guard let article = try fetchOne(db, id: old) else { return }
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

/// Tags read back from `group_concat(tag, char(31))` (tags cannot contain control characters).
func splitTags(_ joined: String?) -> [String] {
    guard let joined, !joined.isEmpty else { return [] }
    return joined.split(separator: "\u{1F}").map(String.init).sorted()
}
