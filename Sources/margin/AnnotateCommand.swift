import ArgumentParser
import MarginCore
import MarginStore

struct AnnotateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "annotate", abstract: "Highlight a passage of an article, by quoting it or by range.",
        discussion: "Prints the new annotation's id. Offsets count Unicode scalars of the NFC text.")

    @OptionGroup var library: LibraryOptions
    @Argument(help: "The article's handle (as margin list shows it) or id, or a unique prefix of either.") var id: String
    @Option(help: "The exact passage to highlight.") var quote: String?
    @Option(help: "Which occurrence of the quote, from 1, when it occurs several times.") var occurrence: Int?
    @Option(help: "The passage as START:END scalar offsets, instead of --quote.") var range: String?
    @Option(help: "A note on the passage.") var note = ""
    @Option(name: .customLong("tag"), help: "A tag; repeat for several.") var tags: [String] = []
    @Option(help: "The highlight color: yellow, green, blue, pink, purple, orange, red or gray.") var color = "yellow"
    @Flag(help: "Print the new annotation as JSON.") var json = false

    func validate() throws {
        guard (quote == nil) != (range == nil) else { throw ValidationError("give either --quote or --range") }
        if occurrence != nil, quote == nil { throw ValidationError("--occurrence goes with --quote") }
        if let occurrence, occurrence < 1 { throw ValidationError("--occurrence counts from 1") }
        if range != nil { _ = try parsedRange() }
        _ = try parsedColor()
    }

    func run() throws {
        let store = try library.open()
        let articleId = try library.resolve(store, id, kinds: [.article]).id
        let target: AnnotationTarget = try quote.map { .quote($0, occurrence: occurrence) } ?? .range(try parsedRange())
        let color = try parsedColor()
        let annotation = try reportingUsageErrors { () throws(MarginError) in
            try store.annotate(articleId: articleId, target: target, note: note, tags: tags, color: color)
        }
        if json { try Terminal.printJSON(annotation) } else { print(annotation.id) }
    }

    private func parsedRange() throws -> Range<Int> {
        let parts = (range ?? "").split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let start = Int(parts[0]), let end = Int(parts[1]), start >= 0, end > start else {
            throw ValidationError("--range takes START:END with 0 ≤ START < END, e.g. --range 120:148")
        }
        return start..<end
    }

    private func parsedColor() throws -> HighlightColor {
        try reportingUsageErrors { () throws(MarginError) in try HighlightColor(parsing: color) }
    }
}
