import ArgumentParser
import MarginCore
import MarginStore

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search", abstract: "Search article titles, bodies, notes and tags.",
        discussion: "Case and diacritics are ignored: 'hoi nghi' finds 'hội nghị', 'dam phan' finds 'đàm phán'.")

    @OptionGroup var library: LibraryOptions
    @Argument(help: "The words to look for; every word must match.") var words: [String] = []
    @Option(help: "At most this many results.") var limit = 20
    @Flag(help: "Print the results as JSON.") var json = false

    func validate() throws {
        guard !words.isEmpty else { throw ValidationError("give the words to search for") }
        guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        let store = try library.open()
        let query = words.joined(separator: " ")
        let hits = try reportingUsageErrors { () throws(MarginError) in try store.search(query, limit: limit) }
        if json {
            try Terminal.printJSON(hits.map(SearchHitItem.init))
            return
        }
        if hits.isEmpty { Terminal.printError("no matches") }
        let shortIds = try store.shortIds(hits.map(\.id))
        let width = Terminal.idWidth(shortIds)
        for hit in hits {
            print("\(Terminal.pad(hit.kind.rawValue, 11))\(Terminal.pad(shortIds[hit.id]!, width))\(Terminal.bold(hit.articleTitle))")
            let snippet = Terminal.colorsEnabled
                ? hit.snippet.replacingOccurrences(of: "[", with: "\u{1B}[1;33m").replacingOccurrences(of: "]", with: "\u{1B}[0m")
                : hit.snippet
            print("    \(snippet)")
        }
    }
}

/// A result in `margin search --json`.
struct SearchHitItem: Encodable {
    var kind: String
    var id: String
    var articleId: String
    var articleTitle: String
    var snippet: String
    var rank: Double

    init(_ hit: SearchHit) {
        kind = hit.kind.rawValue
        id = hit.id
        articleId = hit.articleId
        articleTitle = hit.articleTitle
        snippet = hit.snippet
        rank = hit.rank
    }
}
