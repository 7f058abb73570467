import GRDB
import MarginCore

/// A parsed file and where it came from, with its content hash and folded search text
/// computed when it is made (importers make these on their parsing threads, sparing the
/// single writer).
public struct SourcedDocument: Sendable {
    public let document: ParsedDocument
    /// The file name recorded as the article's source.
    public let source: String
    let contentHash: String
    let searchableBody: String

    /// Wraps `document` read from the file `source`, hashing and folding it on this thread,
    /// or explains why the article it makes would break the rulebook (`RecordRules`).
    public init(document: ParsedDocument, source: String) throws(MarginError) {
        try RecordRules.check(body: document.body)
        let fields: [RecordField: FieldValue] = [
            .title: .text(document.title), .source: .text(source), .captions: .list(document.captions),
            .url: document.url.map(FieldValue.text) ?? .null, .author: document.author.map(FieldValue.text) ?? .null,
            .siteName: document.siteName.map(FieldValue.text) ?? .null, .language: document.language.map(FieldValue.text) ?? .null,
        ]
        for (field, value) in fields { try RecordRules.check(value, field, of: .article) }
        self.document = document
        self.source = source
        contentHash = document.contentHash
        searchableBody = SearchText.searchable(document.body)
    }
}

/// What importing one document did.
public enum ImportOutcome: Sendable, Hashable {
    case imported(Article)
    /// The library already holds an article with the same body, or from the same address
    /// with the same text (its id is given).
    case skipped(existingId: String)
    /// The library held an article from the same address with another text: the article
    /// now has the new text (and the title, date, captions and byline that came with it),
    /// and its annotations were anchored anew, standing as `annotations` counts.
    case updated(Article, annotations: AnchorCounts)
}

/// What importing a library export did.
public struct ExportImportReport: Sendable, Hashable {
    public var importedArticles = 0
    public var skippedArticles = 0
    public var importedAnnotations = 0
    public var skippedAnnotations = 0

    /// Adds the counts of another import to these.
    mutating func add(_ other: ExportImportReport) {
        importedArticles += other.importedArticles
        skippedArticles += other.skippedArticles
        importedAnnotations += other.importedAnnotations
        skippedAnnotations += other.skippedAnnotations
    }
}

extension LibraryStore {
    /// Adds each document as a new article unless the library already has it — an article
    /// from the same address (`ParsedDocument.url`), or with the same body (same SHA-256) —
    /// all in one transaction with its change-log entries. A document from an address the
    /// library holds with another text updates that article (`updateText`).
    public func importDocuments(_ documents: [SourcedDocument]) throws(MarginError) -> [ImportOutcome] {
        let time = now()
        return try mutate { db, recorder in try Self.insert(documents, db, &recorder, time: time) }
    }

    /// Inserts documents within the caller's transaction.
    static func insert(
        _ documents: [SourcedDocument], _ db: Database, _ recorder: inout ChangeRecorder, time: Timestamp
    ) throws -> [ImportOutcome] {
        try documents.map { sourced in
            let document = sourced.document
            if let other = try Article.id(db, contentHash: sourced.contentHash) { return .skipped(existingId: other) }
            if let url = document.url, let id = try Article.id(db, url: url), let existing = try Article.fetchOne(db, id: id) {
                return try updateText(of: existing, to: sourced, db, &recorder, time: time)
            }
            let article = Article(
                id: Identifier.make(at: time), title: document.title, published: document.published,
                source: sourced.source, contentHash: sourced.contentHash, captions: document.captions, tags: [],
                createdAt: time, updatedAt: time, url: document.url, author: document.author, siteName: document.siteName,
                language: document.language)
            try article.insert(db, body: document.body, searchableBody: sourced.searchableBody)
            try recorder.record(db, .article, id: article.id, .create, old: nil, new: article.fieldValues, baseVersion: 0)
            return .imported(article)
        }
    }

    /// Gives each article the text of its page fetched again: `.skipped` when the text is
    /// the same, or another article's (named); `.updated` otherwise. One transaction.
    public func refresh(_ pages: [(articleId: String, document: SourcedDocument)]) throws(MarginError) -> [ImportOutcome] {
        let time = now()
        return try mutate { db, recorder in
            try pages.map { articleId, sourced in
                guard let article = try Article.fetchOne(db, id: articleId) else { throw MarginError(.notFound, "no article \(articleId)") }
                if article.contentHash == sourced.contentHash { return .skipped(existingId: articleId) }
                if let other = try Article.id(db, contentHash: sourced.contentHash) { return .skipped(existingId: other) }
                return try Self.updateText(of: article, to: sourced, db, &recorder, time: time)
            }
        }
    }

    /// Gives the article `old` the text of `sourced`, a newer copy of the same page, with
    /// the fields that come with the text; the article keeps its address, tags and
    /// creation time. Its annotations are anchored anew from the text each was made on
    /// (`Annotation.basis`), which is kept, and the update is logged as one change.
    static func updateText(
        of old: Article, to sourced: SourcedDocument, _ db: Database, _ recorder: inout ChangeRecorder, time: Timestamp
    ) throws -> ImportOutcome {
        let document = sourced.document
        var new = old
        new.contentHash = sourced.contentHash
        new.title = document.title
        new.published = document.published ?? old.published
        new.captions = document.captions
        new.author = document.author ?? old.author
        new.siteName = document.siteName ?? old.siteName
        new.language = document.language ?? old.language
        new.updatedAt = max(time, old.updatedAt)
        try new.update(db, old: old, body: document.body)
        try recorder.record(
            db, .article, id: old.id, .update, old: old.fieldValues, new: new.fieldValues, baseVersion: try Article.version(db, id: old.id))
        var counts = AnchorCounts()
        for state in try String.fetchAll(db, sql: "SELECT anchor_state FROM annotations WHERE article_id = ?", arguments: [old.id]) {
            if let state = AnchorState(rawValue: state) { counts.add(state) }
        }
        return .updated(new, annotations: counts)
    }

    /// Adds the articles and annotations of an export that the library does not have yet,
    /// keeping their ids and times. An exported article whose body the library already
    /// holds under another id is matched to it, and its annotations attach there.
    /// Nothing is written if any record is invalid.
    public func importExport(_ export: LibraryExport) throws(MarginError) -> ExportImportReport {
        try mutate { db, recorder in
            var report = ExportImportReport()
            var bodies: [String: (hash: String, text: ArticleText)] = [:]
            var articleIds: [String: String] = [:]
            for (index, exported) in export.articles.enumerated() {
                try Self.naming("articles[\(index)]") {
                    let (article, body) = try Self.canonical(exported)
                    if try Article.fetchOne(db, id: article.id) != nil {
                        articleIds[article.id] = article.id
                        report.skippedArticles += 1
                    } else if let existing = try Article.id(db, contentHash: article.contentHash) {
                        articleIds[article.id] = existing
                        report.skippedArticles += 1
                    } else {
                        try article.insert(db, body: body.string, searchableBody: SearchText.searchable(body.string))
                        try Tombstones.remove(db, id: article.id)
                        try recorder.record(db, .article, id: article.id, .create, old: nil, new: article.fieldValues, baseVersion: 0)
                        articleIds[article.id] = article.id
                        report.importedArticles += 1
                    }
                    bodies[articleIds[article.id]!] = (article.contentHash, body)
                }
            }
            for (index, original) in export.annotations.enumerated() {
                try Self.naming("annotations[\(index)]") {
                    var annotation = try Self.canonical(original)
                    if try Annotation.fetchOne(db, id: annotation.id) != nil {
                        report.skippedAnnotations += 1
                        return
                    }
                    let articleId = articleIds[annotation.articleId] ?? annotation.articleId
                    guard let current = try bodies[articleId] ?? Article.hashedText(db, id: articleId) else {
                        throw MarginError(
                            .invalidInput, "its article \(annotation.articleId) is neither in the file nor in the library")
                    }
                    annotation.articleId = articleId
                    // An export carries articles' current texts only: an annotation made on a
                    // text this library does not hold is taken as made on the current one.
                    if try annotation.basis.map({ try Article.body(db, hash: $0) == nil }) ?? true {
                        annotation.basis = current.hash
                    }
                    var texts: [String: ArticleText] = [:]
                    try annotation.insert(db, anchor: annotation.anchor(db, in: current.text, hash: current.hash, texts: &texts))
                    try Tombstones.remove(db, id: annotation.id)
                    try recorder.record(
                        db, .annotation, id: annotation.id, .create, old: nil, new: annotation.fieldValues, baseVersion: 0)
                    report.importedAnnotations += 1
                }
            }
            return report
        }
    }

    /// Runs `body`, naming `context` (the record's place in the file) in its error.
    private static func naming(_ context: String, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as MarginError {
            throw MarginError(error.code, "\(context): \(error.message)", cause: error.cause)
        }
    }

    /// The exported article in canonical form (NFC, trimmed title, tags as a set) with its
    /// body, which must match its hash and the rulebook; the record itself is checked when
    /// it is logged.
    private static func canonical(_ exported: LibraryExport.ExportedArticle) throws(MarginError) -> (Article, ArticleText) {
        var article = exported.article
        let body = ArticleText(exported.body)
        try RecordRules.check(body: body.string)
        guard ContentHash.of(body.string) == article.contentHash else {
            throw MarginError(.invalidInput, "contentHash does not match the article's body")
        }
        article.title = ArticleText.normalize(article.title).trimmingWhitespace()
        article.captions = article.captions.map(ArticleText.normalize)
        article.tags = try Tags.set(article.tags)
        return (article, body)
    }

    /// An imported annotation (from an export, or a highlight from another tool) in
    /// canonical form: NFC selectors with at most `TextSelectors.contextLength` scalars of
    /// context on each side (other tools keep more), NFC note, tags as a set.
    static func canonical(_ original: Annotation) throws(MarginError) -> Annotation {
        var annotation = original
        let selectors = annotation.selectors
        let context = TextSelectors.contextLength
        annotation.selectors.exact = ArticleText.normalize(selectors.exact)
        annotation.selectors.prefix = String(String.UnicodeScalarView(ArticleText.normalize(selectors.prefix).unicodeScalars.suffix(context)))
        annotation.selectors.suffix = String(String.UnicodeScalarView(ArticleText.normalize(selectors.suffix).unicodeScalars.prefix(context)))
        annotation.note = ArticleText.normalize(annotation.note)
        annotation.tags = try Tags.set(annotation.tags)
        return annotation
    }
}
