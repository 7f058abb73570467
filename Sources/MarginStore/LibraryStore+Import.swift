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

    /// Wraps `document` read from the file `source`, hashing and folding it on this thread.
    public init(document: ParsedDocument, source: String) {
        self.document = document
        self.source = source
        contentHash = document.contentHash
        searchableBody = SearchText.searchable(document.body)
    }
}

/// What importing one document did.
public enum ImportOutcome: Sendable, Hashable {
    case imported(Article)
    /// The library already holds an article with the same body (its id is given).
    case skipped(existingId: String)
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
    /// Adds each document as a new article unless the library already has its body
    /// (same SHA-256), all in one transaction with its change-log entries.
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
            if let existing = try Article.id(db, contentHash: sourced.contentHash) { return .skipped(existingId: existing) }
            let article = Article(
                id: Identifier.make(at: time), title: document.title, published: document.published,
                source: sourced.source, contentHash: sourced.contentHash, captions: document.captions, tags: [],
                createdAt: time, updatedAt: time)
            try article.insert(db, body: document.body, searchableBody: sourced.searchableBody)
            try recorder.record(db, .article, id: article.id, .create, old: nil, new: article.fieldValues, baseVersion: 0)
            return .imported(article)
        }
    }

    /// Adds the articles and annotations of an export that the library does not have yet,
    /// keeping their ids and times. An exported article whose body the library already
    /// holds under another id is matched to it, and its annotations attach there.
    /// Nothing is written if any record is invalid.
    public func importExport(_ export: LibraryExport) throws(MarginError) -> ExportImportReport {
        try mutate { db, recorder in
            var report = ExportImportReport()
            var bodies: [String: ArticleText] = [:]
            var articleIds: [String: String] = [:]
            for (index, exported) in export.articles.enumerated() {
                let article = try validated(exported, index: index)
                let body = ArticleText(exported.body)
                if try Article.fetchOne(db, id: article.id) != nil {
                    articleIds[article.id] = article.id
                    report.skippedArticles += 1
                } else if let existing = try Article.id(db, contentHash: article.contentHash) {
                    articleIds[article.id] = existing
                    report.skippedArticles += 1
                } else {
                    try article.insert(db, body: body.string, searchableBody: SearchText.searchable(body.string))
                    try recorder.record(db, .article, id: article.id, .create, old: nil, new: article.fieldValues, baseVersion: 0)
                    articleIds[article.id] = article.id
                    report.importedArticles += 1
                }
                bodies[articleIds[article.id]!] = body
            }
            for (index, original) in export.annotations.enumerated() {
                var annotation = try validated(original, index: index)
                if try Annotation.fetchOne(db, id: annotation.id) != nil {
                    report.skippedAnnotations += 1
                    continue
                }
                let articleId = articleIds[annotation.articleId] ?? annotation.articleId
                guard let body = try bodies[articleId] ?? Article.text(db, id: articleId) else {
                    throw MarginError(
                        .invalidInput, "annotations[\(index)]: its article \(annotation.articleId) is neither in the file nor in the library")
                }
                annotation.articleId = articleId
                try annotation.insert(db, anchor: Anchoring.anchor(annotation.selectors, in: body))
                try recorder.record(db, .annotation, id: annotation.id, .create, old: nil, new: annotation.fieldValues, baseVersion: 0)
                report.importedAnnotations += 1
            }
            return report
        }
    }

    private func validated(_ exported: LibraryExport.ExportedArticle, index: Int) throws(MarginError) -> Article {
        var article = exported.article
        let context = "articles[\(index)]"
        guard Identifier.isValid(article.id) else {
            throw MarginError(.invalidInput, "\(context): '\(article.id)' is not a valid id")
        }
        guard ContentHash.of(ArticleText.normalize(exported.body)) == article.contentHash else {
            throw MarginError(.invalidInput, "\(context): contentHash does not match the article's body")
        }
        article.title = ArticleText.normalize(article.title).trimmingWhitespace()
        guard !article.title.isEmpty else { throw MarginError(.invalidInput, "\(context): the title is empty") }
        guard !([exported.body, article.title, article.source ?? ""] + article.captions).contains(where: RecordSchema.containsNUL) else {
            throw MarginError(.invalidInput, "\(context): text cannot contain NUL (U+0000) characters")
        }
        article.captions = article.captions.map(ArticleText.normalize)
        article.tags = try Tags.set(article.tags)
        return article
    }

    private func validated(_ original: Annotation, index: Int) throws(MarginError) -> Annotation {
        var annotation = original
        let context = "annotations[\(index)]"
        guard Identifier.isValid(annotation.id) else {
            throw MarginError(.invalidInput, "\(context): '\(annotation.id)' is not a valid id")
        }
        let selectors = annotation.selectors
        guard selectors.start >= 0, selectors.end > selectors.start, !selectors.exact.isEmpty else {
            throw MarginError(.invalidInput, "\(context): the position or quote is empty or out of order")
        }
        guard ![selectors.exact, selectors.prefix, selectors.suffix].contains(where: RecordSchema.containsNUL) else {
            throw MarginError(.invalidInput, "\(context): a quote cannot contain NUL (U+0000) characters")
        }
        annotation.selectors.exact = ArticleText.normalize(selectors.exact)
        annotation.selectors.prefix = ArticleText.normalize(selectors.prefix)
        annotation.selectors.suffix = ArticleText.normalize(selectors.suffix)
        do {
            annotation.note = try Self.validatedNote(annotation.note)
        } catch {
            throw MarginError(.invalidInput, "\(context): \(error.message)")
        }
        annotation.tags = try Tags.set(annotation.tags)
        return annotation
    }
}
