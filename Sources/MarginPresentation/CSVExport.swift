import MarginCore

/// Annotations as CSV (RFC 4180, CRLF): one row per annotation, under a header, with its
/// article's title and address; text cells that a spreadsheet would take for a formula are
/// made safe (`CSV.safe`).
public enum CSVExport {
    public static let header = [
        "id", "article_id", "article_title", "article_url", "quote", "note", "tags", "color", "state", "start", "end",
        "created_at", "updated_at",
    ]

    /// The document for `annotations` (each with its anchor state); `articles` by id.
    public static func document(_ annotations: [(Annotation, AnchorState)], articles: [String: Article]) -> String {
        var text = CSV.row(header)
        for (annotation, state) in annotations {
            let article = articles[annotation.articleId]
            let cells = [
                annotation.id, annotation.articleId, CSV.safe(article?.title ?? ""), CSV.safe(article?.url ?? article?.source ?? ""),
                CSV.safe(annotation.selectors.exact), CSV.safe(annotation.note), CSV.safe(annotation.tags.joined(separator: ", ")),
                annotation.color.rawValue, state.rawValue, String(annotation.selectors.start), String(annotation.selectors.end),
                annotation.createdAt.iso8601, annotation.updatedAt.iso8601,
            ]
            text += CSV.row(cells)
        }
        return text
    }
}
