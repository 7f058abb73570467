import GRDB
import MarginCore

/// One search result: an article (title or body matched) or an annotation (note or tags).
public struct SearchHit: Sendable, Hashable {
    /// Whether an article or an annotation matched.
    public enum Kind: String, Sendable, Hashable, Codable {
        case article, annotation
    }

    public var kind: Kind
    public var id: String
    public var articleId: String
    public var articleTitle: String
    /// The matched text around the first hit, each matched word wrapped in `[` `]`.
    public var snippet: String
    /// SQLite FTS5 bm25 rank: lower is better.
    public var rank: Double
}

extension LibraryStore {
    /// Articles and notes matching every word of `query`, ignoring case and diacritics:
    /// those holding the words as a phrase first, then the rest, each group best first
    /// (bm25; a title match weighs ten times a body match).
    public func search(_ query: String, limit: Int = 20) throws(MarginError) -> [SearchHit] {
        let terms = SearchText.terms(of: query)
        guard let allWords = SearchText.matchExpression(terms: terms) else {
            throw MarginError(.invalidInput, "the search has no words to look for")
        }
        let phrase = SearchText.phraseExpression(terms: terms)
        return try read { db in
            var hits: [SearchHit] = []
            var seen = Set<String>()
            for expression in [phrase, allWords].compactMap({ $0 }) {
                let found = try Self.articleHits(db, expression, terms: terms, limit: limit)
                    + Self.annotationHits(db, expression, terms: terms, limit: limit)
                for hit in found.sorted(by: { $0.rank < $1.rank }) where seen.insert(hit.id).inserted {
                    hits.append(hit)
                }
            }
            return Array(hits.prefix(limit))
        }
    }

    private static func articleHits(_ db: Database, _ expression: String, terms: [String], limit: Int) throws -> [SearchHit] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT a.id, a.title, b.text, bm25(article_search, 10.0, 1.0) AS rank FROM article_search \
                JOIN articles a ON a.local_id = article_search.rowid JOIN bodies b ON b.hash = a.body_hash \
                WHERE article_search MATCH ? ORDER BY rank LIMIT ?
                """,
            arguments: [expression, limit]
        ).map { row in
            let title: String = row["title"]
            let body: String = row["text"]
            return SearchHit(
                kind: .article, id: row["id"], articleId: row["id"], articleTitle: title,
                snippet: SearchText.snippet(of: body, terms: terms) ?? SearchText.snippet(of: title, terms: terms)
                    ?? body.excerpt(160),
                rank: row["rank"])
        }
    }

    private static func annotationHits(_ db: Database, _ expression: String, terms: [String], limit: Int) throws -> [SearchHit] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT n.id, n.article_id, n.note, a.title, bm25(annotation_search, 1.0, 1.0) AS rank, \
                (SELECT group_concat(tag, ' ') FROM annotation_tags WHERE annotation_id = n.id) AS tags \
                FROM annotation_search JOIN annotations n ON n.local_id = annotation_search.rowid \
                JOIN articles a ON a.id = n.article_id WHERE annotation_search MATCH ? ORDER BY rank LIMIT ?
                """,
            arguments: [expression, limit]
        ).map { row in
            let note: String = row["note"]
            let tags: String = row["tags"] ?? ""
            return SearchHit(
                kind: .annotation, id: row["id"], articleId: row["article_id"], articleTitle: row["title"],
                snippet: SearchText.snippet(of: note, terms: terms) ?? SearchText.snippet(of: tags, terms: terms)
                    ?? note.excerpt(160),
                rank: row["rank"])
        }
    }
}
