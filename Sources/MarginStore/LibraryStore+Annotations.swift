import GRDB
import MarginCore

/// Which passage of an article a new annotation covers.
public enum AnnotationTarget: Sendable, Hashable {
    /// The passage equal to this quote (NFC); `occurrence` (1-based) picks one of several.
    case quote(String, occurrence: Int?)
    /// Scalar offsets into the NFC body.
    case range(Range<Int>)
}

/// Changes to an annotation; `nil` and empty mean "leave as it is".
public struct AnnotationChanges: Sendable, Hashable {
    public var note: String?
    public var addTags: [String]
    public var removeTags: [String]
    public var color: HighlightColor?

    /// Changes to make; leave out what stays the same.
    public init(note: String? = nil, addTags: [String] = [], removeTags: [String] = [], color: HighlightColor? = nil) {
        self.note = note
        self.addTags = addTags
        self.removeTags = removeTags
        self.color = color
    }
}

/// Changes to an article; `nil` and empty mean "leave as it is".
public struct ArticleChanges: Sendable, Hashable {
    public var title: String?
    public var addTags: [String]
    public var removeTags: [String]

    /// Changes to make; leave out what stays the same.
    public init(title: String? = nil, addTags: [String] = [], removeTags: [String] = []) {
        self.title = title
        self.addTags = addTags
        self.removeTags = removeTags
    }
}

extension LibraryStore {
    /// Highlights a passage of the article `articleId` and returns the new annotation.
    public func annotate(
        articleId: String, target: AnnotationTarget, note: String = "", tags: [String] = [],
        color: HighlightColor = .yellow
    ) throws(MarginError) -> Annotation {
        let tags = try Tags.set(tags)
        let note = ArticleText.normalize(note)
        let time = now()
        return try mutate { db, recorder in
            guard let article = try Article.fetchOne(db, id: articleId), let text = try Article.text(db, id: articleId) else {
                throw MarginError(.notFound, "no article \(articleId)")
            }
            let range = try Self.locate(target, in: text, title: article.title)
            let annotation = Annotation(
                id: Identifier.make(at: time), articleId: articleId, selectors: text.selectors(for: range),
                note: note, tags: tags, color: color, createdAt: time, updatedAt: time, basis: article.contentHash)
            try annotation.insert(db, anchor: Anchor(state: .anchored, range: range))
            try recorder.record(db, .annotation, id: annotation.id, .create, old: nil, new: annotation.fieldValues, baseVersion: 0)
            return annotation
        }
    }

    /// Applies `changes` to the annotation `id`; `changed` is false (and nothing is
    /// logged) when they leave it as it was.
    public func editAnnotation(id: String, _ changes: AnnotationChanges) throws(MarginError) -> (annotation: Annotation, changed: Bool) {
        let time = now()
        return try mutate { db, recorder in try Self.editAnnotation(db, &recorder, id: id, changes, time: time) }
    }

    /// Applies `changes` to the article `id`; `changed` is false (and nothing is logged)
    /// when they leave it as it was.
    public func editArticle(id: String, _ changes: ArticleChanges) throws(MarginError) -> (article: Article, changed: Bool) {
        let time = now()
        return try mutate { db, recorder in try Self.editArticle(db, &recorder, id: id, changes, time: time) }
    }

    /// Deletes the annotation `id`.
    public func deleteAnnotation(id: String) throws(MarginError) {
        try mutate { db, recorder in try Self.deleteAnnotation(db, &recorder, id: id) }
    }

    /// Deletes the article `id` and its annotations (each logged as a delete) and returns
    /// how many annotations went with it.
    @discardableResult
    public func deleteArticle(id: String) throws(MarginError) -> Int {
        try mutate { db, recorder in try Self.deleteArticle(db, &recorder, id: id) }
    }

    // MARK: - Within a transaction

    static func editAnnotation(
        _ db: Database, _ recorder: inout ChangeRecorder, id: String, _ changes: AnnotationChanges, time: Timestamp
    ) throws -> (annotation: Annotation, changed: Bool) {
        let addTags = try Tags.set(changes.addTags)
        let removeTags = try Tags.set(changes.removeTags)
        try checkDisjoint(addTags, removeTags)
        let note = changes.note.map(ArticleText.normalize)
        guard let old = try Annotation.fetchOne(db, id: id) else { throw MarginError(.notFound, "no annotation \(id)") }
        var new = old
        if let note { new.note = note }
        if let color = changes.color { new.color = color }
        new.tags = Set(old.tags).union(addTags).subtracting(removeTags).sorted()
        guard new != old else { return (old, false) }
        new.updatedAt = max(time, old.updatedAt)
        try new.update(db, old: old)
        try recorder.record(
            db, .annotation, id: id, .update, old: old.fieldValues, new: new.fieldValues,
            baseVersion: try Annotation.version(db, id: id))
        return (new, true)
    }

    static func editArticle(
        _ db: Database, _ recorder: inout ChangeRecorder, id: String, _ changes: ArticleChanges, time: Timestamp
    ) throws -> (article: Article, changed: Bool) {
        let addTags = try Tags.set(changes.addTags)
        let removeTags = try Tags.set(changes.removeTags)
        try checkDisjoint(addTags, removeTags)
        let title = changes.title.map { ArticleText.normalize($0).trimmingWhitespace() }
        guard let old = try Article.fetchOne(db, id: id) else { throw MarginError(.notFound, "no article \(id)") }
        var new = old
        if let title { new.title = title }
        new.tags = Set(old.tags).union(addTags).subtracting(removeTags).sorted()
        guard new != old else { return (old, false) }
        new.updatedAt = max(time, old.updatedAt)
        try new.update(db, old: old)
        try recorder.record(
            db, .article, id: id, .update, old: old.fieldValues, new: new.fieldValues,
            baseVersion: try Article.version(db, id: id))
        return (new, true)
    }

    static func deleteAnnotation(_ db: Database, _ recorder: inout ChangeRecorder, id: String) throws {
        guard let old = try Annotation.fetchOne(db, id: id) else { throw MarginError(.notFound, "no annotation \(id)") }
        let version = try Annotation.version(db, id: id)
        try old.delete(db)
        try Tombstones.record(db, .annotation, id: id, version: version)
        try recorder.record(db, .annotation, id: id, .delete, old: old.fieldValues, new: nil, baseVersion: version)
    }

    static func deleteArticle(_ db: Database, _ recorder: inout ChangeRecorder, id: String) throws -> Int {
        guard let article = try Article.fetchOne(db, id: id) else { throw MarginError(.notFound, "no article \(id)") }
        let annotations = try Annotation.fetchListings(db, where: "WHERE n.article_id = ?", arguments: [id])
        for listing in annotations {
            try deleteAnnotation(db, &recorder, id: listing.annotation.id)
        }
        let version = try Article.version(db, id: id)
        try article.delete(db)
        try Tombstones.record(db, .article, id: id, version: version)
        try recorder.record(db, .article, id: id, .delete, old: article.fieldValues, new: nil, baseVersion: version)
        return annotations.count
    }

    /// The range `target` designates in `text`, or a one-line explanation of why none does.
    static func locate(_ target: AnnotationTarget, in text: ArticleText, title: String) throws(MarginError) -> Range<Int> {
        switch target {
        case .range(let range):
            guard range.lowerBound >= 0, range.upperBound <= text.count, !range.isEmpty else {
                throw MarginError(
                    .invalidInput,
                    "the range \(range.lowerBound):\(range.upperBound) is outside the article, which has \(text.count) characters (Unicode scalars); use START:END with 0 ≤ START < END ≤ \(text.count)")
            }
            return range
        case .quote(let quote, let occurrence):
            let needle = Array(ArticleText.normalize(quote).unicodeScalars)
            guard !needle.isEmpty else { throw MarginError(.invalidInput, "the quote is empty") }
            let starts = text.occurrences(of: needle)
            guard !starts.isEmpty else {
                throw MarginError(.notFound, "the quote does not occur in '\(title)'; check its spelling and diacritics")
            }
            if let occurrence {
                guard (1...starts.count).contains(occurrence) else {
                    throw MarginError(
                        .invalidInput,
                        "--occurrence \(occurrence) is out of range: the quote occurs \(starts.count) time\(starts.count == 1 ? "" : "s")")
                }
                return starts[occurrence - 1]..<starts[occurrence - 1] + needle.count
            }
            guard starts.count == 1 else {
                throw MarginError(
                    .ambiguous,
                    "the quote occurs \(starts.count) times in '\(title)'; choose one with --occurrence N (1 to \(starts.count))")
            }
            return starts[0]..<starts[0] + needle.count
        }
    }

    private static func checkDisjoint(_ added: [String], _ removed: [String]) throws(MarginError) {
        if let tag = Set(added).intersection(removed).first {
            throw MarginError(.invalidInput, "the tag '\(tag)' is both added and removed")
        }
    }
}
