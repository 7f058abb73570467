import ArgumentParser
import Foundation
import MarginCore

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List articles, newest first.")

    @OptionGroup var library: LibraryOptions
    @Option(help: "Only articles with this tag.") var tag: String?
    @Flag(help: "Print the articles as JSON.") var json = false

    func run() throws {
        let store = try library.open()
        let articles = try reportingUsageErrors { () throws(MarginError) in try store.articles(tag: tag) }
        let counts = try store.annotationCounts()
        if json {
            try Terminal.printJSON(articles.map { Merged(base: $0, extra: ["annotationCount": counts[$0.id] ?? 0]) })
            return
        }
        let shortIds = try store.shortIds(articles.map(\.id))
        let width = Terminal.idWidth(shortIds)
        for article in articles {
            let tags = article.tags.isEmpty ? "" : "  " + Terminal.dim(article.tags.map { "#\($0)" }.joined(separator: " "))
            let site = (article.siteName ?? article.url.flatMap { URL(string: $0)?.host }).map { "  " + Terminal.dim($0) } ?? ""
            print(
                Terminal.pad(shortIds[article.id]!, width) + (article.published?.description ?? "          ") + "  "
                    + Terminal.pad(String(counts[article.id] ?? 0), 4) + Terminal.bold(article.title) + site + tags)
        }
    }
}
