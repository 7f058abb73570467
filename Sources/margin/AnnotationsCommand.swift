import ArgumentParser
import MarginCore
import MarginStore

struct AnnotationsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "annotations", abstract: "List annotations, of one article or of all.")

    @OptionGroup var library: LibraryOptions
    @Argument(help: "Only this article's (a handle or id, or a unique prefix).") var article: String?
    @Option(help: "Only annotations with this tag.") var tag: String?
    @Flag(help: "Only orphans: annotations whose passage is no longer in the text, or not in one place.") var orphans = false
    @Flag(help: "Only annotations whose passage moved or was edited since they were made.") var changed = false
    @Flag(help: "Print the annotations as JSON.") var json = false

    func run() throws {
        let store = try library.open()
        let articleId = try article.map { try library.resolve(store, $0, kinds: [.article]).id }
        var states: Set<AnchorState> = []
        if orphans { states.insert(.orphaned) }
        if changed { states.formUnion([.moved, .changed]) }
        let listings = try reportingUsageErrors { () throws(MarginError) in
            try store.annotations(articleId: articleId, tag: tag, states: states)
        }
        if json {
            try Terminal.printJSON(listings.map(AnnotationItem.init))
            return
        }
        let shortIds = try store.shortIds(listings.map(\.annotation.id))
        let width = Terminal.idWidth(shortIds)
        for listing in listings {
            let annotation = listing.annotation
            var line = Terminal.pad(shortIds[annotation.id]!, width) + Terminal.pad(annotation.color.rawValue, 8)
                + "“\(annotation.selectors.exact.excerpt(50))”"
            if listing.anchor.state != .anchored { line += "  (\(listing.anchor.state.label))" }
            line += "  " + Terminal.dim(listing.articleTitle.excerpt(40))
            print(line)
            if !annotation.note.isEmpty { print("    \(annotation.note.excerpt(100))") }
            if !annotation.tags.isEmpty { print("    " + Terminal.dim(annotation.tags.map { "#\($0)" }.joined(separator: " "))) }
        }
    }
}
