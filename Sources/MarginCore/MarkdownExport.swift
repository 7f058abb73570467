/// A library as Markdown: one section per article with its highlights and notes.
public enum MarkdownExport {
    /// The document for `articles`, each followed by its annotations in text order.
    public static func document(articles: [Article], annotations: [String: [Annotation]]) -> String {
        var lines = ["# Marginalia", ""]
        for article in articles {
            lines.append(article.url.map { "## [\(article.title)](<\($0)>)" } ?? "## \(article.title)")
            lines.append("")
            var facts: [String] = []
            if let author = article.author { facts.append("by \(author)") }
            if let siteName = article.siteName { facts.append(siteName) }
            if let published = article.published { facts.append("Published \(published)") }
            if let source = article.source { facts.append("source: \(source)") }
            if !article.tags.isEmpty { facts.append("tags: " + article.tags.map { "#\($0)" }.joined(separator: " ")) }
            facts.append("id: `\(article.id)`")
            lines.append(facts.joined(separator: " · "))
            lines.append("")
            let items = annotations[article.id] ?? []
            if items.isEmpty {
                lines.append("_No highlights._")
                lines.append("")
            }
            for annotation in items {
                for quoteLine in annotation.selectors.exact.split(separator: "\n", omittingEmptySubsequences: false) {
                    lines.append("> \(quoteLine)")
                }
                lines.append("")
                if !annotation.note.isEmpty {
                    lines.append(contentsOf: annotation.note.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
                    lines.append("")
                }
                var meta = ["\(annotation.color.rawValue)", "`\(annotation.id)`"]
                if !annotation.tags.isEmpty { meta.insert(annotation.tags.map { "#\($0)" }.joined(separator: " "), at: 0) }
                lines.append("<sub>" + meta.joined(separator: " · ") + "</sub>")
                lines.append("")
            }
        }
        return lines.joined(separator: "\n")
    }
}
