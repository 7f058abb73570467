import ArgumentParser
import Foundation
import MarginCore
import MarginPresentation
import MarginStore

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write the library as JSON, W3C Web Annotations, Markdown or CSV.",
        discussion: """
            json re-imports with 'margin import' to an identical library; w3c is JSON-LD; csv has one row \
            per annotation. --article and --since narrow any format to one article, or to what changed \
            since a day (articles changed since, and annotations changed since with their articles). \
            markdown --per-article --output DIR writes one file per article for note apps, with YAML \
            front matter; exporting again rewrites only the marked block and the export's front matter \
            keys, keeping what you wrote. --template FILE renders each article (see the README, \
            "Markdown templates").
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case json, w3c, markdown, csv
    }

    @OptionGroup var library: LibraryOptions
    @Option(help: "json, w3c, markdown or csv.") var format: Format = .json
    @Option(name: .shortAndLong, help: "Write to this file (mode 0600) instead of standard output.") var output: String?
    @Option(help: "Only this article and its annotations (a handle or id, or a unique prefix).") var article: String?
    @Option(help: "Only what was created or changed on or after this day (YYYY-MM-DD, UTC).") var since: String?
    @Flag(help: "With --format markdown: one file per article in the folder --output names.") var perArticle = false
    @Option(help: "With --format markdown: render each article with this template file.") var template: String?

    func validate() throws {
        if let since, CalendarDate(since) == nil { throw ValidationError("--since must be a day, YYYY-MM-DD") }
        if perArticle || template != nil, format != .markdown {
            throw ValidationError("--per-article and --template go with --format markdown")
        }
        if perArticle, output == nil { throw ValidationError("--per-article needs --output DIR, the folder to write the files in") }
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
            return try exportMarkdown(export, store: store, articleId: articleId)
        case .csv:
            let kept = Set(export.annotations.map(\.id))
            let listings = try store.annotations(articleId: articleId).filter { kept.contains($0.annotation.id) }
            let articles = Dictionary(uniqueKeysWithValues: export.articles.map { ($0.article.id, $0.article) })
            data = Data(CSVExport.document(listings.map { ($0.annotation, $0.anchor.state) }, articles: articles).utf8)
        }
        try write(data)
    }

    /// Markdown: one document, or with `--per-article` one file per article in `--output`.
    private func exportMarkdown(_ export: LibraryExport, store: LibraryStore, articleId: String?) throws {
        let template = try reportingUsageErrors { () throws(MarginError) in
            try MarkdownExport.template(try self.template.map(Self.readTemplate) ?? MarkdownExport.defaultTemplate)
        }
        let grouped = Dictionary(grouping: export.annotations, by: \.articleId)
        let states = Dictionary(uniqueKeysWithValues: try store.annotations(articleId: articleId).map { ($0.annotation.id, $0.anchor.state) })
        let entries = export.articles.map { MarkdownExport.Entry(article: $0.article, annotations: grouped[$0.article.id] ?? [], states: states) }
        guard perArticle, let output else { return try write(Data(MarkdownExport.document(entries, template: template).utf8)) }
        let report = try MarkdownFolder(path: output).export(entries, template: template)
        print("\(output): \(report.created.count) new, \(report.updated.count) updated, \(report.unchanged.count) unchanged"
            + (report.skipped.isEmpty ? "" : ", \(report.skipped.count) left as they were"))
        for skipped in report.skipped { Terminal.printError("\(skipped.file) was left as it was: \(skipped.reason)") }
        if !report.skipped.isEmpty { throw ExitCode.failure }
    }

    private static func readTemplate(_ path: String) throws(MarginError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MarginError(.invalidInput, "cannot read the template \(path)")
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw MarginError(.invalidInput, "the template \(path) is not UTF-8 text")
        }
        return text
    }

    /// Writes an export to `--output` (mode 0600) or standard output, ending with a line break.
    private func write(_ data: Data) throws {
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
