import GRDB
import MarginCore

/// What importing highlights from another tool did.
public struct HighlightImportReport: Sendable {
    /// Highlights added, by the state they were anchored in.
    public var anchored = 0
    public var changed = 0
    public var orphaned = 0
    /// Highlights imported before (the same producer's id, or the same content), or deleted since.
    public var skipped = 0
    /// Items of the files that are not highlights of a passage (page notes, replies): not imported.
    public var unquoted = 0
    /// Highlights whose document is not in the library, by its address or title.
    public var unmatched: [ForeignHighlights.Document: [ForeignHighlights.Highlight]] = [:]

    public init() {}

    public mutating func add(_ other: HighlightImportReport) {
        anchored += other.anchored
        changed += other.changed
        orphaned += other.orphaned
        skipped += other.skipped
        unquoted += other.unquoted
        unmatched.merge(other.unmatched) { $0 + $1 }
    }

    /// Whether anything was read.
    public var isEmpty: Bool { anchored + changed + orphaned + skipped + unquoted == 0 && unmatched.isEmpty }
}

extension ForeignHighlights {
    /// The document highlights are on: its address when known, else its title.
    public enum Document: Sendable, Hashable {
        case url(String)
        case title(String)
    }

    /// The highlights grouped by document; those with neither address nor title under an empty title.
    public var byDocument: [Document: [Highlight]] {
        Dictionary(grouping: highlights) { highlight in
            if let url = highlight.url, !url.isEmpty { return .url(url) }
            return .title(ArticleText.normalize(highlight.title ?? "").trimmingWhitespace())
        }
    }
}

extension LibraryStore {
    /// Adds highlights made with another tool to the articles they belong to: the article
    /// with their document's address (canonical address, or `urn:uuid:` id as `margin export
    /// --format w3c` writes it), else the one article with their document's title. Each is
    /// anchored by its quote (see `Anchoring`) — an orphan when it cannot be placed for
    /// certain, never dropped — and gets an id derived from the producer's id, so importing
    /// the same file again adds nothing. Highlights whose document is not in the library are
    /// returned under `unmatched`. Nothing is written if any highlight breaks the rulebook.
    public func importHighlights(_ documents: [ForeignHighlights.Document: [ForeignHighlights.Highlight]]) throws(MarginError) -> HighlightImportReport {
        let time = now()
        return try mutate { db, recorder in
            var report = HighlightImportReport()
            for (document, highlights) in documents.sorted(by: { "\($0.key)" < "\($1.key)" }) {
                guard let articleId = try Self.article(db, for: document), let (hash, text) = try Article.hashedText(db, id: articleId) else {
                    report.unmatched[document, default: []] += highlights
                    continue
                }
                for highlight in highlights {
                    let id = Self.id(of: highlight)
                    if try Annotation.fetchOne(db, id: id) != nil || Tombstones.version(db, id: id) != nil {
                        report.skipped += 1
                        continue
                    }
                    let (annotation, anchor) = try Self.annotation(highlight, id: id, articleId: articleId, in: text, hash: hash, time: time)
                    try annotation.insert(db, anchor: anchor)
                    try recorder.record(db, .annotation, id: annotation.id, .create, old: nil, new: annotation.fieldValues, baseVersion: 0)
                    switch anchor.state {
                    case .anchored, .moved: report.anchored += 1
                    case .changed: report.changed += 1
                    case .orphaned: report.orphaned += 1
                    }
                }
            }
            return report
        }
    }

    /// A highlight's id: its own when it is a `urn:uuid:` (as `margin export --format w3c`
    /// writes them), else one derived from its key.
    private static func id(of highlight: ForeignHighlights.Highlight) -> String {
        let ownPrefix = "w3c:urn:uuid:"
        if highlight.key.hasPrefix(ownPrefix) {
            let own = String(highlight.key.dropFirst(ownPrefix.count)).lowercased()
            if Identifier.isValid(own) { return own }
        }
        return Identifier.derived(from: highlight.key, at: highlight.created ?? Timestamp(milliseconds: 0))
    }

    /// The article a document's highlights belong to.
    private static func article(_ db: Database, for document: ForeignHighlights.Document) throws -> String? {
        switch document {
        case .url(let url):
            if url.hasPrefix("urn:uuid:") {
                let id = String(url.dropFirst("urn:uuid:".count)).lowercased()
                return try Article.fetchOne(db, id: id)?.id
            }
            let withoutFragment = url.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? url
            for candidate in withoutFragment == url ? [url] : [url, withoutFragment] {
                if let id = try Article.id(db, url: candidate) { return id }
                if let id = try String.fetchOne(db, sql: "SELECT id FROM articles WHERE source = ? ORDER BY created_at LIMIT 1", arguments: [candidate]) {
                    return id
                }
            }
            return nil
        case .title(let title):
            guard !title.isEmpty else { return nil }
            let ids = try String.fetchAll(db, sql: "SELECT id FROM articles WHERE title = ? LIMIT 2", arguments: [title])
            return ids.count == 1 ? ids[0] : nil
        }
    }

    /// The annotation a highlight becomes in `text` (whose hash is `hash`, the annotation's
    /// basis), with where it stands. Placed ones take
    /// their quote and context from `text`; changed and orphaned ones keep the tool's quote.
    /// The state is what anchoring the stored selectors gives, as on every other machine.
    private static func annotation(
        _ highlight: ForeignHighlights.Highlight, id: String, articleId: String, in text: ArticleText, hash: String, time: Timestamp
    ) throws(MarginError) -> (Annotation, Anchor) {
        let created = highlight.created ?? time
        var annotation = try canonical(Annotation(
            id: id, articleId: articleId,
            selectors: TextSelectors(start: 0, end: 1, exact: highlight.exact, prefix: highlight.prefix, suffix: highlight.suffix),
            note: highlight.note, tags: highlight.tags, color: highlight.color ?? .yellow, createdAt: created,
            updatedAt: max(highlight.modified ?? created, created), basis: hash))
        let hint = highlight.position.flatMap { $0.upperBound <= text.count ? $0 : nil }
            ?? 0..<max(1, annotation.selectors.exact.unicodeScalars.count)
        annotation.selectors.start = hint.lowerBound
        annotation.selectors.end = hint.upperBound
        let found = Anchoring.anchor(annotation.selectors, in: text)
        switch (found.state, found.range) {
        case (.anchored, let range?), (.moved, let range?):
            annotation.selectors = text.selectors(for: range)
        case (.changed, let range?):
            annotation.selectors.start = range.lowerBound
            annotation.selectors.end = range.upperBound
        default:
            break
        }
        return (annotation, Anchoring.anchor(annotation.selectors, in: text))
    }
}
