import Foundation
import MarginCore

/// A library as Markdown, through a `MarkdownTemplate` (`defaultTemplate` unless the user
/// gives one): one document with a section per article, or one file per article for note
/// apps (Obsidian, Logseq), with YAML front matter and the export inside a marked block, so
/// that a re-export replaces the block and keeps what the user wrote around it.
public enum MarkdownExport {
    /// What a template may name about an article.
    public static let articleVariables: Set<String> = [
        "title", "url", "author", "siteName", "published", "source", "tags", "id", "handle", "byline", "highlights",
    ]
    /// What a template may name about each item of `highlights`.
    public static let highlightVariables: Set<String> = [
        "quote", "blockquote", "note", "color", "tags", "id", "handle", "state", "created", "updated",
    ]

    /// The section of one article: its title (a link when it has an address), a line of
    /// facts, then each highlight as a quote, its note, and its tags, color and id.
    public static let defaultTemplate = """
        {{#url}}
        ## [{{title}}](<{{url}}>)
        {{/url}}
        {{^url}}
        ## {{title}}
        {{/url}}

        {{byline}}

        {{#highlights}}
        {{blockquote}}

        {{#note}}
        {{note}}

        {{/note}}
        <sub>{{#tags}}{{tags}} · {{/tags}}{{color}} · `{{id}}`</sub>

        {{/highlights}}
        {{^highlights}}
        _No highlights._

        {{/highlights}}
        """

    /// `source` parsed as an export template.
    public static func template(_ source: String) throws(MarginError) -> MarkdownTemplate {
        try MarkdownTemplate(source, variables: articleVariables.union(highlightVariables))
    }

    /// One article with its annotations (in text order) and where each stands now.
    public struct Entry: Sendable {
        public var article: Article
        public var annotations: [Annotation]
        public var states: [String: AnchorState]

        public init(article: Article, annotations: [Annotation], states: [String: AnchorState]) {
            self.article = article
            self.annotations = annotations
            self.states = states
        }

        /// The template's variables for this article.
        var values: [String: TemplateValue] {
            var facts: [String] = []
            if let author = article.author { facts.append("by \(author)") }
            if let siteName = article.siteName { facts.append(siteName) }
            if let published = article.published { facts.append("Published \(published)") }
            if let source = article.source { facts.append("source: \(source)") }
            if !article.tags.isEmpty { facts.append("tags: " + MarkdownExport.hashtags(article.tags)) }
            facts.append("id: `\(article.id)`")
            return [
                "title": .text(article.title), "url": .text(article.url ?? ""), "author": .text(article.author ?? ""),
                "siteName": .text(article.siteName ?? ""), "published": .text(article.published?.description ?? ""),
                "source": .text(article.source ?? ""), "tags": .text(MarkdownExport.hashtags(article.tags)),
                "id": .text(article.id), "handle": .text(Handle.of(article.id)), "byline": .text(facts.joined(separator: " · ")),
                "highlights": .list(annotations.map { annotation in
                    let quote = annotation.selectors.exact
                    return [
                        "quote": .text(quote),
                        "blockquote": .text(quote.split(separator: "\n", omittingEmptySubsequences: false).map { "> \($0)" }
                            .joined(separator: "\n")),
                        "note": .text(annotation.note), "color": .text(annotation.color.rawValue),
                        "tags": .text(MarkdownExport.hashtags(annotation.tags)), "id": .text(annotation.id),
                        "handle": .text(Handle.of(annotation.id)),
                        "state": .text((states[annotation.id] ?? .anchored).rawValue),
                        "created": .text(annotation.createdAt.iso8601), "updated": .text(annotation.updatedAt.iso8601),
                    ]
                }),
            ]
        }
    }

    /// One document: a title, then each entry's section.
    public static func document(_ entries: [Entry], template: MarkdownTemplate) -> String {
        let sections = entries.map { template.render($0.values) }
        return ("# Marginalia\n\n" + sections.joined()).trimmingTrailingNewlines() + "\n"
    }

    // MARK: - One file per article

    /// The first line of the block a re-export rewrites, and its last.
    public static let blockStart = "<!-- margin:begin · margin export rewrites this block; write outside it -->"
    public static let blockEnd = "<!-- margin:end -->"

    /// The front matter keys an export writes, in this order; a re-export rewrites them and
    /// keeps every other key.
    public static let frontMatterKeys = ["title", "url", "author", "site", "published", "tags", "id"]

    /// A stable file name for `article`: its title folded to plain words, then its handle
    /// (`hoi-nghi-thuong-dinh-6DQ2Z5RD.md`), so that names sort by title and never collide.
    public static func fileName(_ article: Article) -> String {
        let words = SearchText.searchable(article.title).split(separator: " ")
        var slug = ""
        for word in words where slug.count + word.count + 1 <= 60 { slug += (slug.isEmpty ? "" : "-") + word }
        return (slug.isEmpty ? "article" : slug) + "-" + Handle.of(article.id).prefix(8) + ".md"
    }

    /// A new file for `entry`: front matter, then the rendered section in the marked block.
    public static func file(_ entry: Entry, template: MarkdownTemplate) -> String {
        "---\n" + frontMatter(entry.article).joined(separator: "\n") + "\n---\n\n" + block(entry, template: template) + "\n"
    }

    /// `existing` (a file an earlier export wrote, maybe edited since) with its block and
    /// its front matter keys rewritten for `entry`; everything else stays as the user left
    /// it. Nil when the file has no intact block (its markers were removed or repeated).
    public static func updated(_ existing: String, with entry: Entry, template: MarkdownTemplate) -> String? {
        let text = existing.replacingOccurrences(of: "\r\n", with: "\n")
        guard let start = text.range(of: blockStart), let end = text.range(of: blockEnd, range: start.upperBound..<text.endIndex),
              text.range(of: blockStart, range: start.upperBound..<text.endIndex) == nil,
              text.range(of: blockEnd, range: end.upperBound..<text.endIndex) == nil
        else { return nil }
        let replaced = String(text[..<start.lowerBound]) + block(entry, template: template) + String(text[end.upperBound...])
        return mergedFrontMatter(replaced, article: entry.article)
    }

    /// The article's id as the front matter of a file gives it, if it has one.
    public static func articleId(inFile text: String) -> String? {
        guard let (lines, _) = frontMatter(of: text) else { return nil }
        for line in lines where line.hasPrefix("id:") {
            let value = line.dropFirst(3).trimmingSpaces()
            return value.hasPrefix("\"") ? String(value.dropFirst().dropLast()) : value
        }
        return nil
    }

    static func block(_ entry: Entry, template: MarkdownTemplate) -> String {
        blockStart + "\n" + template.render(entry.values).trimmingTrailingNewlines() + "\n" + blockEnd
    }

    /// The front matter lines for `article`: `frontMatterKeys` that have a value.
    static func frontMatter(_ article: Article) -> [String] {
        var lines: [String] = ["title: \(yamlString(article.title))"]
        if let url = article.url { lines.append("url: \(yamlString(url))") }
        if let author = article.author { lines.append("author: \(yamlString(author))") }
        if let siteName = article.siteName { lines.append("site: \(yamlString(siteName))") }
        if let published = article.published { lines.append("published: \(published)") }
        lines.append(article.tags.isEmpty ? "tags: []" : "tags:\n" + article.tags.map { "  - \(yamlString($0))" }.joined(separator: "\n"))
        lines.append("id: \(article.id)")
        return lines
    }

    /// `text` with the export's front matter keys rewritten for `article`, the user's keys
    /// kept after them; a file without front matter gets it.
    static func mergedFrontMatter(_ text: String, article: Article) -> String {
        let ours = frontMatter(article).joined(separator: "\n")
        guard let (lines, rest) = frontMatter(of: text) else { return "---\n" + ours + "\n---\n\n" + text }
        var kept: [String] = []
        var skipping = false
        for line in lines {
            if let first = line.first, first != " ", first != "\t", first != "-", first != "#" {
                let key = line.prefix { $0 != ":" }
                skipping = frontMatterKeys.contains(String(key)) && line.contains(":")
            }
            if !skipping { kept.append(line) }
        }
        return "---\n" + ([ours] + kept).joined(separator: "\n") + "\n---\n" + rest
    }

    /// The lines between a file's opening `---` and closing `---`, and what follows the
    /// closing line; nil when the file does not start with front matter.
    static func frontMatter(of text: String) -> (lines: [String], rest: Substring)? {
        guard text.hasPrefix("---\n") else { return nil }
        var lines: [String] = []
        var position = text.index(text.startIndex, offsetBy: 4)
        while position < text.endIndex {
            let end = text[position...].firstIndex(of: "\n") ?? text.endIndex
            let line = String(text[position..<end])
            let next = end < text.endIndex ? text.index(after: end) : end
            if line == "---" || line == "..." { return (lines, text[next...]) }
            lines.append(line)
            position = next
        }
        return nil
    }

    /// `text` as a YAML double-quoted scalar.
    static func yamlString(_ text: String) -> String {
        var quoted = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\t": quoted += "\\t"
            case "\r": quoted += "\\r"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                quoted += "\\x" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16, uppercase: true)
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + "\""
    }

    static func hashtags(_ tags: [String]) -> String {
        tags.map { "#\($0)" }.joined(separator: " ")
    }
}

extension String {
    fileprivate func trimmingTrailingNewlines() -> String {
        var text = self
        while text.last == "\n" { text.removeLast() }
        return text
    }
}
