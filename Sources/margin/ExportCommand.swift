import ArgumentParser
import Foundation
import MarginCore

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write the library as JSON, W3C Web Annotations, Markdown or CSV.",
        discussion: """
            json re-imports with 'margin import' to an identical library; w3c is JSON-LD; csv has one row \
            per annotation. --article and --since narrow any format to one article, or to what changed \
            since a day (articles changed since, and annotations changed since with their articles).
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case json, w3c, markdown, csv
    }

    @OptionGroup var library: LibraryOptions
    @Option(help: "json, w3c, markdown or csv.") var format: Format = .json
    @Option(name: .shortAndLong, help: "Write to this file (mode 0600) instead of standard output.") var output: String?
    @Option(help: "Only this article and its annotations (a handle or id, or a unique prefix).") var article: String?
    @Option(help: "Only what was created or changed on or after this day (YYYY-MM-DD, UTC).") var since: String?

    func validate() throws {
        if let since, CalendarDate(since) == nil { throw ValidationError("--since must be a day, YYYY-MM-DD") }
    }

    func run() throws {
        let store = try library.open()
        let articleId = try article.map { try library.resolve(store, $0, kinds: [.article]).id }
        let start = since.flatMap(CalendarDate.init).map { Timestamp(milliseconds: $0.daysSinceEpoch * 86_400_000) }
        let export = Self.narrowed(try store.exportLibrary(), article: articleId, since: start)
        let data: Data
        switch format {
        case .json:
            data = try export.encoded()
        case .w3c:
            let articles = Dictionary(uniqueKeysWithValues: export.articles.map { ($0.article.id, $0.article) })
            let document = W3CExport.document(annotations: export.annotations, articles: articles, id: Identifier.make())
            data = try JSONEncoder.marginOutput.encode(document)
        case .markdown:
            let grouped = Dictionary(grouping: export.annotations, by: \.articleId)
            data = Data(MarkdownExport.document(articles: export.articles.map(\.article), annotations: grouped).utf8)
        case .csv:
            let kept = Set(export.annotations.map(\.id))
            let listings = try store.annotations(articleId: articleId).filter { kept.contains($0.annotation.id) }
            let articles = Dictionary(uniqueKeysWithValues: export.articles.map { ($0.article.id, $0.article) })
            data = Data(CSVExport.document(listings.map { ($0.annotation, $0.anchor.state) }, articles: articles).utf8)
        }
        var text = data
        if text.last != UInt8(ascii: "\n") { text.append(UInt8(ascii: "\n")) }
        guard let output else {
            FileHandle.standardOutput.write(text)
            return
        }
        guard FileManager.default.createFile(atPath: output, contents: text, attributes: [.posixPermissions: 0o600]) else {
            throw ExportFailure(path: output)
        }
    }
}

extension ExportCommand {
    /// `export` with only the article `article` (and its annotations), and only what was
    /// created or changed at or after `since`: articles changed since, and annotations changed
    /// since with their articles (so that a JSON export still imports).
    static func narrowed(_ export: LibraryExport, article: String?, since: Timestamp?) -> LibraryExport {
        var export = export
        if let article {
            export.articles.removeAll { $0.article.id != article }
            export.annotations.removeAll { $0.articleId != article }
        }
        if let since {
            export.annotations.removeAll { $0.updatedAt < since }
            let needed = Set(export.annotations.map(\.articleId))
            export.articles.removeAll { $0.article.updatedAt < since && !needed.contains($0.article.id) }
        }
        return export
    }
}

private struct ExportFailure: Error, CustomStringConvertible {
    var path: String
    var description: String { "cannot write \(path); check the folder exists and is writable" }
}
