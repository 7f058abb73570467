import GRDB
import MarginCore
import MarginSQLite

/// An annotation as listed: with its article's title and where it is shown now.
public struct AnnotationListing: Sendable, Hashable {
    public var annotation: Annotation
    public var articleTitle: String
    /// Where it stands in the current body, and the range it is shown at (none for an orphan).
    public var anchor: Anchor

    /// A listing entry.
    public init(annotation: Annotation, articleTitle: String, anchor: Anchor) {
        self.annotation = annotation
        self.articleTitle = articleTitle
        self.anchor = anchor
    }
}

/// How annotations are read from and written to the client store. Callers hold the
/// transaction; these helpers keep the tag and search tables in step with the row. An
/// annotation is read from a row of `selection` (with its tags and its article's title).
extension Annotation: FetchableRecord {
    static let selection = """
        SELECT n.id, n.article_id, n.start, n."end", n.exact, n.prefix, n.suffix, n.note, n.color, n.basis, \
        n.created_at, n.updated_at, n.anchor_start, n.anchor_end, n.anchor_state, a.title AS article_title, \
        (SELECT group_concat(tag, char(31)) FROM annotation_tags WHERE annotation_id = n.id) AS tags \
        FROM annotations n JOIN articles a ON a.id = n.article_id
        """

    public init(row: Row) throws {
        let colorName: String = row["color"]
        guard let color = HighlightColor(rawValue: colorName) else {
            throw MarginError(.corruptStore, "an annotation has the unknown color '\(colorName)'")
        }
        self.init(
            id: row["id"],
            articleId: row["article_id"],
            selectors: TextSelectors(
                start: row["start"], end: row["end"], exact: row["exact"], prefix: row["prefix"], suffix: row["suffix"]),
            note: row["note"],
            tags: splitTags(row["tags"]),
            color: color,
            createdAt: Timestamp(milliseconds: row["created_at"]),
            updatedAt: Timestamp(milliseconds: row["updated_at"]),
            basis: row["basis"]
        )
    }

    static func fetchOne(_ db: Database, id: String) throws -> Annotation? {
        try fetchOne(db.cachedStatement(sql: selection + " WHERE n.id = ?"), arguments: [id])
    }

    static func fetchListings(
        _ db: Database, where condition: String = "", arguments: StatementArguments = []
    ) throws -> [AnnotationListing] {
        try Row.fetchAll(
            db,
            sql: selection + " \(condition) ORDER BY a.published IS NULL, a.published DESC, n.article_id, "
                + "n.anchor_start IS NULL, n.anchor_start, n.id",
            arguments: arguments
        ).map { row in
            let start: Int? = row["anchor_start"]
            let end: Int? = row["anchor_end"]
            let stateName: String = row["anchor_state"]
            guard let state = AnchorState(rawValue: stateName) else {
                throw MarginError(.corruptStore, "an annotation has the unknown anchor state '\(stateName)'")
            }
            return AnnotationListing(
                annotation: try Annotation(row: row), articleTitle: row["article_title"],
                anchor: Anchor(state: state, range: start.flatMap { start in end.map { start..<$0 } }))
        }
    }

    static func version(_ db: Database, id: String) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT version FROM annotations WHERE id = ?", arguments: [id]) ?? 0
    }

    /// Where the annotation stands in its article's current text: anchored from the text
    /// its selectors were made on (`basis`) when that is another one, so that every store
    /// holding the same texts finds the same place. `texts` caches the earlier texts read.
    func anchor(_ db: Database, in current: ArticleText, hash: String, texts: inout [String: ArticleText]) throws -> Anchor {
        guard let basis, basis != hash else { return Anchoring.anchor(selectors, in: current) }
        if texts[basis] == nil, let body = try Article.body(db, hash: basis) { texts[basis] = ArticleText(body) }
        return Anchoring.anchor(selectors, in: current, previous: texts[basis])
    }

    /// Moves the annotation to its article `articleId` (another one than the row names),
    /// anchored in that article's current text `current` (hash `hash`).
    func move(_ db: Database, in current: ArticleText, hash: String, texts: inout [String: ArticleText]) throws {
        let anchor = try anchor(db, in: current, hash: hash, texts: &texts)
        try db.execute(
            sql: "UPDATE annotations SET article_id = ?, anchor_start = ?, anchor_end = ?, anchor_state = ? WHERE id = ?",
            arguments: [articleId, anchor.range?.lowerBound, anchor.range?.upperBound, anchor.state.rawValue, id])
    }

    /// Anchors every annotation of the article `articleId` in its current text `current`
    /// (hash `hash`), after the text changed.
    static func reanchor(_ db: Database, articleId: String, in current: ArticleText, hash: String) throws {
        var texts: [String: ArticleText] = [:]
        let update = try db.cachedStatement(sql: "UPDATE annotations SET anchor_start = ?, anchor_end = ?, anchor_state = ? WHERE id = ?")
        for annotation in try fetchAll(db, sql: selection + " WHERE n.article_id = ?", arguments: [articleId]) {
            let anchor = try annotation.anchor(db, in: current, hash: hash, texts: &texts)
            try update.execute(bound: [
                BoundValue(anchor.range.map { Int64($0.lowerBound) }), BoundValue(anchor.range.map { Int64($0.upperBound) }),
                .text(anchor.state.rawValue), .text(annotation.id),
            ])
        }
    }

    /// Inserts the annotation, anchored as `anchor` says, at server `version` (0: never
    /// synchronized).
    func insert(_ db: Database, anchor: Anchor, version: Int64 = 0) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO annotations (id, article_id, start, "end", exact, prefix, suffix, note, color, basis, \
                created_at, updated_at, anchor_start, anchor_end, anchor_state, version, handle) \
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(bound: [
            .text(id), .text(articleId), .integer(Int64(selectors.start)), .integer(Int64(selectors.end)), .text(selectors.exact),
            .text(selectors.prefix), .text(selectors.suffix), .text(note), .text(color.rawValue), BoundValue(basis),
            .integer(createdAt.milliseconds),
            .integer(updatedAt.milliseconds), BoundValue(anchor.range.map { Int64($0.lowerBound) }),
            BoundValue(anchor.range.map { Int64($0.upperBound) }), .text(anchor.state.rawValue), .integer(version),
            .text(Handle.of(id)),
        ])
        let localId = db.lastInsertedRowID
        try db.cachedStatement(sql: "UPDATE library_counts SET annotations = annotations + 1 WHERE id = 1").execute(bound: [])
        try insertTags(db)
        try SearchIndex.annotations.insert(db, rowid: localId, folded: searchColumns)
    }

    /// Writes the editable fields (note, tags, color, updated time) of an existing
    /// annotation, previously `old`.
    func update(_ db: Database, old: Annotation) throws {
        try db.execute(
            sql: "UPDATE annotations SET note = ?, color = ?, created_at = ?, updated_at = ? WHERE id = ?",
            arguments: [note, color.rawValue, createdAt.milliseconds, updatedAt.milliseconds, id])
        try db.execute(sql: "DELETE FROM annotation_tags WHERE annotation_id = ?", arguments: [id])
        try insertTags(db)
        try SearchIndex.annotations.replace(db, rowid: try Self.localId(db, id: id), old: old.searchColumns, new: searchColumns)
    }

    /// Removes the annotation with its tags and search entry.
    func delete(_ db: Database) throws {
        try SearchIndex.annotations.delete(db, rowid: try Self.localId(db, id: id), folded: searchColumns)
        try db.execute(sql: "DELETE FROM annotation_tags WHERE annotation_id = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM annotations WHERE id = ?", arguments: [id])
        try db.execute(sql: "UPDATE library_counts SET annotations = annotations - 1 WHERE id = 1")
    }

    private static func localId(_ db: Database, id: String) throws -> Int64 {
        guard let localId = try Int64.fetchOne(db, sql: "SELECT local_id FROM annotations WHERE id = ?", arguments: [id])
        else { throw MarginError(.notFound, "no annotation \(id)") }
        return localId
    }

    private func insertTags(_ db: Database) throws {
        let insert = try db.cachedStatement(sql: "INSERT INTO annotation_tags (annotation_id, tag) VALUES (?, ?)")
        for tag in tags { try insert.execute(bound: [.text(id), .text(tag)]) }
    }
}
