import ArgumentParser
import Foundation
import MarginCore
import MarginExtract
import MarginStore
import MarginSync

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import web pages by address, saved pages, article files, folders (recursively), margin JSON exports and highlights from other tools.",
        discussion: """
            A web page's article is its readable text, without the site around it. Articles whose text is already \
            in the library are skipped; a page whose address is in the library with other text updates that \
            article, and its highlights follow their words or become orphans (margin annotations --changed, \
            --orphans). Highlights exported by Hypothesis (JSON), any Web Annotation producer (W3C \
            JSON-LD) or Readwise (CSV) are added to their articles, found by address (fetched when missing) or, for \
            Readwise, by title. Exits 1 if anything failed to import.
            """)

    @OptionGroup var library: LibraryOptions
    @Argument(help: "Addresses (http, https), files or folders to import; - reads one HTML page from standard input.")
    var sources: [String] = []
    @Option(name: .customLong("urls-from"), help: "A file of addresses to import, one per line (# starts a comment).")
    var urlsFrom: String?
    @Option(help: "The address of the page read from standard input (-).") var url: String?
    @Option(help: "Give up on a page after this many seconds.") var timeout: Int = 30
    @Flag(help: "Skip TLS certificate checks when fetching pages (only for a site you trust).") var insecure = false
    @Flag(help: "Print the result as JSON.") var json = false

    func validate() throws {
        guard !sources.isEmpty || urlsFrom != nil else {
            throw ValidationError("give at least one address, file or folder to import (or --urls-from FILE)")
        }
        guard (1...3_600).contains(timeout) else { throw ValidationError("--timeout must be 1 to 3600 seconds") }
        if url != nil, !sources.contains("-") { throw ValidationError("--url names the page read from standard input; add -") }
        if let url, RecordRules.isWebAddress(url) == false { throw ValidationError("--url must be an http or https address") }
    }

    func run() throws {
        let store = try library.open()
        var addresses = sources.filter(Self.isAddress)
        if let urlsFrom { addresses += try Self.addresses(in: urlsFrom) }
        let files = sources.filter { !Self.isAddress($0) && $0 != "-" }
        var report = try store.importFiles(files) { done, total in Terminal.progress("importing", done: done, total: total) }
        if sources.contains("-") { report.merge(try importStandardInput(into: store)) }
        if !addresses.isEmpty { report.merge(try fetch(addresses, into: store)) }
        try placeUnmatchedHighlights(&report, into: store)
        for failure in report.failures { Terminal.printError(failure.message) }
        if json {
            try Terminal.printJSON(ImportResult(report))
        } else {
            var summary = "imported \(report.imported.count), skipped \(report.skipped.count) (already in the library)"
            if !report.updated.isEmpty { summary += ", updated \(report.updated.count) (new text)" }
            if !report.failures.isEmpty { summary += ", failed \(report.failures.count)" }
            print(summary)
            Self.printUpdates(report)
            let highlights = report.highlights
            if !highlights.isEmpty {
                var line = "highlights from other tools: \(highlights.anchored) anchored, \(highlights.changed) changed, "
                    + "\(highlights.orphaned) orphaned, \(highlights.skipped) already present"
                if highlights.unquoted > 0 { line += "; \(highlights.unquoted) without a quote (page notes, replies) not imported" }
                print(line)
            }
            let exports = report.exports
            if exports.importedAnnotations + exports.skippedAnnotations + exports.importedArticles + exports.skippedArticles > 0 {
                print("from exports: \(exports.importedArticles) articles and \(exports.importedAnnotations) annotations imported, "
                    + "\(exports.skippedArticles) articles and \(exports.skippedAnnotations) annotations already present")
            }
        }
        if !report.failures.isEmpty { throw ExitCode(1) }
    }

    /// Fetches the pages of highlights whose article is not in the library (by address),
    /// adds the highlights to them, and reports those still without an article, one line
    /// per document.
    private func placeUnmatchedHighlights(_ report: inout FileImportReport, into store: LibraryStore) throws {
        let unmatched = report.highlights.unmatched
        guard !unmatched.isEmpty else { return }
        report.highlights.unmatched = [:]
        let addresses = unmatched.keys.compactMap { document -> String? in
            if case .url(let url) = document, Self.isAddress(url) { return url }
            return nil
        }.sorted()
        var fetchFailures: [String: String] = [:]
        if !addresses.isEmpty {
            var web = try fetch(addresses, into: store)
            // Reported below, with the highlights that needed the page.
            for failure in web.failures { fetchFailures[failure.path] = failure.message }
            web.failures = []
            report.merge(web)
        }
        report.highlights.add(try store.importHighlights(unmatched))
        for (document, highlights) in report.highlights.unmatched.sorted(by: { "\($0.key)" < "\($1.key)" }) {
            let count = "\(highlights.count) highlight\(highlights.count == 1 ? "" : "s")"
            switch document {
            case .url(let url):
                let why = fetchFailures[url].map { "; fetching it failed: \($0.dropFirst(url.count + 2))" }
                    ?? (Self.isAddress(url) ? "" : " (not a web address to fetch)")
                report.failures.append((url, "\(count) of \(url): no article with this address in the library\(why)"))
            case .title(let title) where title.isEmpty:
                report.failures.append(("", "\(count) without an address or a title: no article to put them on"))
            case .title(let title):
                report.failures.append((title, "\(count) of “\(title)”: no single article with this title in the library"))
            }
        }
    }

    /// Fetches and imports the pages at `addresses`, with progress on a terminal.
    private func fetch(_ addresses: [String], into store: LibraryStore) throws -> FileImportReport {
        try WebImporter(insecure: insecure, timeout: .seconds(timeout)).importPages(addresses, into: store) { done, total in
            Terminal.progress("fetching", done: done, total: total)
        }
    }

    /// One HTML page from standard input, at `--url` when given.
    private func importStandardInput(into store: LibraryStore) throws -> FileImportReport {
        let name = url ?? "standard input"
        var report = FileImportReport()
        var bytes = [UInt8]()
        while let chunk = try FileHandle.standardInput.read(upToCount: 65_536), !chunk.isEmpty {
            bytes += chunk
            guard bytes.count <= WebPageFetcher.maximumBytes else {
                report.failures.append((name, "\(name): the page is larger than \(WebPageFetcher.maximumBytes >> 20) MiB"))
                return report
            }
        }
        let document: SourcedDocument
        do {
            document = try WebImporter.document(FetchedPage(url: url ?? "", contentType: nil, body: bytes), requested: name)
        } catch {
            report.failures.append((name, error.message))
            return report
        }
        for outcome in try store.importDocuments([document]) { report.record(outcome, path: name) }
        return report
    }

    static func isAddress(_ source: String) -> Bool {
        let lower = source.prefix(8).lowercased()
        return lower.hasPrefix("http://") || lower.hasPrefix("https://")
    }

    /// One line per article that took a new text, saying where its highlights stand.
    static func printUpdates(_ report: FileImportReport) {
        for updated in report.updated {
            let counts = updated.annotations
            var line = "updated \(updated.id) “\(updated.title.excerpt(60))”"
            if counts.total > 0 {
                line += ": highlights \(counts.anchored) anchored, \(counts.moved) moved, \(counts.changed) changed, "
                    + "\(counts.orphaned) orphaned"
            }
            print(line)
        }
    }

    /// The addresses in a list file: one per line, blank lines and `#` comments skipped.
    static func addresses(in file: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
            throw MarginError(.io, "\(file): cannot be read as UTF-8 text")
        }
        return text.split(whereSeparator: \.isNewline).map { $0.trimmingWhitespace() }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }
}

/// `margin import --json`.
struct ImportResult: Encodable {
    struct Imported: Encodable {
        var path: String
        var id: String
        var title: String
    }

    struct Existing: Encodable {
        var path: String
        var existingId: String
    }

    struct Updated: Encodable {
        var path: String
        var id: String
        var title: String
        /// How the article's annotations stand in the new text.
        var annotations: AnchorCounts
    }

    struct Failed: Encodable {
        var path: String
        var error: String
    }

    var imported: [Imported]
    var skipped: [Existing]
    /// Articles that took the new text of their page.
    var updated: [Updated]
    var failed: [Failed]
    var exports: ExportCounts
    var highlights: HighlightCounts

    struct HighlightCounts: Encodable {
        var anchored: Int
        var changed: Int
        var orphaned: Int
        var skipped: Int
        var unquoted: Int
    }

    struct ExportCounts: Encodable {
        var importedArticles: Int
        var skippedArticles: Int
        var importedAnnotations: Int
        var skippedAnnotations: Int
    }

    init(_ report: FileImportReport) {
        imported = report.imported.map { Imported(path: $0.path, id: $0.id, title: $0.title) }
        skipped = report.skipped.map { Existing(path: $0.path, existingId: $0.existingId) }
        updated = report.updated.map { Updated(path: $0.path, id: $0.id, title: $0.title, annotations: $0.annotations) }
        failed = report.failures.map { Failed(path: $0.path, error: $0.message) }
        exports = ExportCounts(
            importedArticles: report.exports.importedArticles, skippedArticles: report.exports.skippedArticles,
            importedAnnotations: report.exports.importedAnnotations, skippedAnnotations: report.exports.skippedAnnotations)
        highlights = HighlightCounts(
            anchored: report.highlights.anchored, changed: report.highlights.changed, orphaned: report.highlights.orphaned,
            skipped: report.highlights.skipped, unquoted: report.highlights.unquoted)
    }
}
