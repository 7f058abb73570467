import ArgumentParser
import MarginCore
import MarginStore
import MarginSync

struct RefreshCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refresh", abstract: "Fetch articles from their addresses again and take their new text.",
        discussion: """
            Articles whose page changed get its text (and the title, date, captions and byline that come with it); \
            their highlights follow their words or become orphans, and the earlier text stays for margin show \
            --previous. Without ids, every article with an address is refreshed. Exits 1 if any page failed.
            """)

    @OptionGroup var library: LibraryOptions
    @Argument(help: "Handles or ids (or unique prefixes) of the articles to refresh; all articles with an address when none.")
    var ids: [String] = []
    @Option(help: "Give up on a page after this many seconds.") var timeout: Int = 30
    @Flag(help: "Skip TLS certificate checks when fetching pages (only for a site you trust).") var insecure = false
    @Flag(help: "Print the result as JSON (the shape of margin import --json).") var json = false

    func validate() throws {
        guard (1...3_600).contains(timeout) else { throw ValidationError("--timeout must be 1 to 3600 seconds") }
    }

    func run() throws {
        let store = try library.open()
        var articles: [(id: String, url: String)] = []
        if ids.isEmpty {
            articles = try store.articles().compactMap { article in Self.address(of: article).map { (article.id, $0) } }
        } else {
            for id in ids {
                let article = try store.articleDetail(id: try library.resolve(store, id, kinds: [.article]).id).article
                guard let url = Self.address(of: article) else {
                    throw MarginError(.invalidInput, "article \(article.id) has no address to fetch it from (it was imported from \(article.source ?? "a file"))")
                }
                articles.append((article.id, url))
            }
        }
        let report = try WebImporter(insecure: insecure, timeout: .seconds(timeout)).refresh(articles, in: store) { done, total in
            Terminal.progress("fetching", done: done, total: total)
        }
        for failure in report.failures { Terminal.printError(failure.message) }
        if json {
            try Terminal.printJSON(ImportResult(report))
        } else {
            var summary = "refreshed \(articles.count): updated \(report.updated.count), unchanged \(report.skipped.count)"
            if !report.failures.isEmpty { summary += ", failed \(report.failures.count)" }
            print(summary)
            ImportCommand.printUpdates(report)
        }
        if !report.failures.isEmpty { throw ExitCode(1) }
    }

    /// Where an article is fetched from again: the address it was fetched from (its
    /// source), else its canonical address; `nil` for an article read from a file.
    static func address(of article: Article) -> String? {
        if let source = article.source, RecordRules.isWebAddress(source) { return source }
        return article.url
    }
}
