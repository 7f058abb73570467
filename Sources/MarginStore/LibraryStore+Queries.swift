import Foundation
import GRDB
import MarginCore

/// A record an id prefix typed by a user resolved to.
public enum ResolvedRecord: Sendable, Hashable {
    case article(String)
    case annotation(String)

    /// The record's full id.
    public var id: String {
        switch self {
        case .article(let id), .annotation(let id): id
        }
    }
}

/// An article with its body and annotations, as `margin show` prints it.
public struct ArticleDetail: Sendable, Hashable {
    public var article: Article
    public var body: ArticleText
    public var annotations: [AnnotationListing]
    /// The text the article had before its last update on this machine (`nil` when it was
    /// never updated here).
    public var previousBody: ArticleText?
}

extension LibraryStore {
    /// The shortest id prefix accepted on the command line.
    public static let minimumPrefixLength = 4

    /// Articles, newest published first; only those tagged `tag` when given.
    public func articles(tag: String? = nil) throws(MarginError) -> [Article] {
        let tag = try tag.map { tag throws(MarginError) in try Tags.normalize(tag) }
        return try read { db in
            guard let tag else { return try Article.fetchAll(db) }
            return try Article.fetchAll(
                db, where: "WHERE a.id IN (SELECT article_id FROM article_tags WHERE tag = ?)", arguments: [tag])
        }
    }

    /// How many annotations each article has (articles without any are absent).
    public func annotationCounts() throws(MarginError) -> [String: Int] {
        try read { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT article_id, count(*) AS n FROM annotations GROUP BY article_id") {
                counts[row["article_id"]] = row["n"]
            }
            return counts
        }
    }

    /// The article `id` with its body and annotations in text order (orphans last).
    public func articleDetail(id: String) throws(MarginError) -> ArticleDetail {
        try read { db in
            guard let article = try Article.fetchOne(db, id: id), let body = try Article.text(db, id: id) else {
                throw MarginError(.notFound, "no article \(id)")
            }
            let annotations = try Annotation.fetchListings(db, where: "WHERE n.article_id = ?", arguments: [id])
            return ArticleDetail(
                article: article, body: body, annotations: annotations, previousBody: try Article.previousText(db, id: id))
        }
    }

    /// Annotations, filtered by article, tag and anchor state (any of `states`; all when empty).
    public func annotations(
        articleId: String? = nil, tag: String? = nil, states: Set<AnchorState> = []
    ) throws(MarginError) -> [AnnotationListing] {
        let tag = try tag.map { tag throws(MarginError) in try Tags.normalize(tag) }
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let articleId {
            conditions.append("n.article_id = ?")
            arguments += [articleId]
        }
        if let tag {
            conditions.append("n.id IN (SELECT annotation_id FROM annotation_tags WHERE tag = ?)")
            arguments += [tag]
        }
        if !states.isEmpty {
            conditions.append("n.anchor_state IN (\(states.map { _ in "?" }.joined(separator: ", ")))")
            arguments += StatementArguments(states.map(\.rawValue).sorted())
        }
        let condition = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try read { db in try Annotation.fetchListings(db, where: condition, arguments: arguments) }
    }

    /// The change log, oldest first; only entries not yet acknowledged by a server when
    /// `pendingOnly`.
    public func changes(pendingOnly: Bool = false) throws(MarginError) -> [ChangeEntry] {
        try read { db in
            let state = try SyncState.current(db)
            return try Row.fetchAll(
                db, sql: "SELECT \(ChangeEntry.columns) FROM changes WHERE seq > ? ORDER BY seq",
                arguments: [pendingOnly ? state.pushedSeq : 0]
            ).map(state.change)
        }
    }

    /// The whole library, for `margin export`.
    public func exportLibrary() throws(MarginError) -> LibraryExport {
        let time = now()
        return try read { db in
            var bodies: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT hash, text FROM bodies") { bodies[row["hash"]] = row["text"] }
            let articles = try Article.fetchAll(db).map { article in
                LibraryExport.ExportedArticle(article: article, body: bodies[article.contentHash] ?? "")
            }
            let annotations = try Annotation.fetchListings(db).map(\.annotation)
            return LibraryExport(exportedAt: time, articles: articles, annotations: annotations)
        }
    }

    /// What a user typed to name a record, read both ways it may be meant: the start of
    /// a handle (`Handle`, at least three characters, as listings show it) and the start of
    /// an id (at least four hexadecimal characters, hyphens optional).
    struct TypedReference {
        let id: String?
        let handle: String?

        /// `text` read both ways; refused, saying what `noun` takes, when it is neither.
        init(_ text: String, naming noun: String) throws(MarginError) {
            id = text.filter { $0 != "-" }.count >= LibraryStore.minimumPrefixLength ? Identifier.canonicalPrefix(text) : nil
            handle = Handle.canonicalPrefix(text)
            guard id != nil || handle != nil else {
                throw MarginError(
                    .invalidInput,
                    "'\(text)' is not \(noun): give at least \(Handle.minimumLength) characters of the handle listings show, "
                        + "or \(LibraryStore.minimumPrefixLength) hexadecimal characters of the id")
            }
        }

        /// Whether it names the record `id`.
        func matches(_ recordId: String) -> Bool {
            id.map { recordId.hasPrefix($0) } == true || handle.map { Handle.of(recordId).hasPrefix($0) } == true
        }
    }

    /// The article or annotation `text` names (a `TypedReference`), restricted to `kinds`.
    public func resolve(
        _ text: String, kinds: Set<ChangeEntry.Entity> = [.article, .annotation]
    ) throws(MarginError) -> ResolvedRecord {
        let reference = try TypedReference(text, naming: "a handle or an id")
        let (id, handle) = (reference.id, reference.handle)
        let kindsText = kinds.count == 2 ? "article or annotation" : kinds.first!.rawValue
        return try read { db in
            var matches: [String: (ResolvedRecord, String)] = [:]
            func find(_ table: String, _ column: String, _ prefix: String, _ describe: (Row) -> (ResolvedRecord, String)) throws {
                let label = table == "articles" ? "title" : "exact"
                for row in try Row.fetchAll(
                    db, sql: "SELECT id, \(label) FROM \(table) WHERE \(column) >= ? AND \(column) < ? ORDER BY \(column) LIMIT 11",
                    arguments: [prefix, prefix + "~"])
                { matches[row["id"]] = describe(row) }
            }
            for (column, prefix) in [("id", id), ("handle", handle)] {
                guard let prefix else { continue }
                if kinds.contains(.article) {
                    try find("articles", column, prefix) { (.article($0["id"]), "article: \($0["title"] as String)") }
                }
                if kinds.contains(.annotation) {
                    try find("annotations", column, prefix) {
                        (.annotation($0["id"]), "annotation on “\(($0["exact"] as String).excerpt(40))”")
                    }
                }
            }
            guard let first = matches.values.first else {
                throw MarginError(
                    .notFound, "no \(kindsText) has a handle or id starting with '\(text)'; see margin list or margin annotations")
            }
            guard matches.count == 1 else {
                let candidates = matches.sorted { $0.key < $1.key }.prefix(10).map { "\($0.key) (\($0.value.1))" }.joined(separator: "; ")
                throw MarginError(.ambiguous, "'\(text)' is ambiguous; it matches \(candidates); give more characters")
            }
            return first.0
        }
    }

    /// For each id, what listings show of it: the shortest prefix of its handle that no
    /// other article or annotation shares (at least `Handle.minimumLength` characters).
    public func shortIds(_ ids: [String]) throws(MarginError) -> [String: String] {
        try read { db in
            let neighbours = try db.cachedStatement(sql: """
                SELECT (SELECT max(handle) FROM (SELECT max(handle) AS handle FROM articles WHERE handle < ?1 \
                UNION ALL SELECT max(handle) FROM annotations WHERE handle < ?1)), \
                (SELECT min(handle) FROM (SELECT min(handle) AS handle FROM articles WHERE handle > ?1 \
                UNION ALL SELECT min(handle) FROM annotations WHERE handle > ?1))
                """)
            var result: [String: String] = [:]
            for id in ids {
                let handle = Handle.of(id)
                let row = try Row.fetchOne(neighbours, arguments: [handle])!
                let shared = [row[0] as String?, row[1] as String?].compactMap { $0 }
                    .map { zip($0.utf8, handle.utf8).prefix { $0 == $1 }.count }.max() ?? 0
                result[id] = String(handle.prefix(max(Handle.minimumLength, shared + 1)))
            }
            return result
        }
    }

    /// Counts of what the library holds.
    public func statistics() throws(MarginError) -> LibraryStatistics {
        try read { db in
            let state = try SyncState.current(db)
            let row = try Row.fetchOne(db, sql: """
                SELECT articles, annotations, \
                (SELECT count(*) FROM annotations INDEXED BY annotations_orphans WHERE anchor_start IS NULL) FROM library_counts
                """)!
            return LibraryStatistics(
                articles: row[0], annotations: row[1], orphans: row[2], pendingChanges: state.pendingCount, deviceId: state.deviceId)
        }
    }
}

/// Counts of what a library holds.
public struct LibraryStatistics: Sendable, Hashable, Codable {
    public var articles: Int
    public var annotations: Int
    public var orphans: Int
    public var pendingChanges: Int
    public var deviceId: String
}
