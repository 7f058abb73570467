import ArgumentParser
import MarginCore
import MarginPresentation
import MarginStore

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Print an article with its highlights and notes.",
        discussion: """
            Highlights are colored on a terminal and marked [[like this]][n] otherwise. With --previous, the \
            article's text is shown with what its last update changed: removed words struck out in red and added \
            ones in green on a terminal, [-removed-] and {+added+} otherwise.
            """)

    @OptionGroup var library: LibraryOptions
    @Argument(help: "The article's handle (as margin list shows it) or id, or a unique prefix of either.") var id: String
    @Flag(help: "Show what the article's last update changed in its text.") var previous = false
    @Flag(help: "Print the article, its body and its annotations as JSON (with --previous, also previousBody).") var json = false

    func run() throws {
        let store = try library.open()
        let detail = try store.articleDetail(id: try library.resolve(store, id, kinds: [.article]).id)
        if previous, detail.previousBody == nil {
            throw MarginError(.notFound, "article \(detail.article.id) has not been updated on this machine: there is no earlier text")
        }
        if json {
            try Terminal.printJSON(ArticleDetailItem(detail, withPrevious: previous))
            return
        }
        if previous, let before = detail.previousBody {
            print(Terminal.bold(detail.article.title))
            print(Terminal.dim("what the last update changed · \(detail.article.id)"))
            print()
            print(TextEdit.between(before, detail.body).map(Self.render).joined())
            return
        }
        let article = detail.article
        let labels = Dictionary(uniqueKeysWithValues: detail.annotations.enumerated().map { ($1.annotation.id, String($0 + 1)) })
        let marks = detail.annotations.compactMap { listing in
            listing.anchor.range.map {
                HighlightRenderer.Mark(range: $0, color: listing.annotation.color, label: labels[listing.annotation.id]!)
            }
        }
        var facts = [
            article.author.map { "by \($0)" }, article.siteName, article.published?.description, article.url ?? article.source, article.id,
        ].compactMap { $0 }
        if !article.tags.isEmpty { facts.append(article.tags.map { "#\($0)" }.joined(separator: " ")) }
        print(Terminal.bold(article.title))
        print(Terminal.dim(facts.joined(separator: " · ")))
        print()
        print(HighlightRenderer.render(detail.body, marks: marks, style: Terminal.colorsEnabled ? .ansi : .markers))
        if !article.captions.isEmpty {
            print("\n" + Terminal.bold("Photos"))
            for caption in article.captions { print("  \(caption)") }
        }
        guard !detail.annotations.isEmpty else { return }
        print("\n" + Terminal.bold("Notes"))
        for listing in detail.annotations {
            let annotation = listing.annotation
            let state = listing.anchor.state
            print("[\(labels[annotation.id]!)] \(annotation.id)  \(annotation.color.rawValue)"
                + (state == .anchored ? "" : "  (\(state.explanation))"))
            print("    “\(annotation.selectors.exact.excerpt(100))”")
            if !annotation.note.isEmpty {
                for line in annotation.note.split(separator: "\n", omittingEmptySubsequences: false) { print("    \(line)") }
            }
            if !annotation.tags.isEmpty { print("    " + Terminal.dim(annotation.tags.map { "#\($0)" }.joined(separator: " "))) }
        }
    }

    private static func render(_ edit: TextEdit) -> String {
        switch edit {
        case .kept(let text): text
        case .removed(let text): Terminal.colorsEnabled ? "\u{1B}[9;31m\(text)\u{1B}[0m" : "[-\(text)-]"
        case .added(let text): Terminal.colorsEnabled ? "\u{1B}[32m\(text)\u{1B}[0m" : "{+\(text)+}"
        }
    }
}

/// `margin show --json`.
struct ArticleDetailItem: Encodable {
    var article: Article
    var body: String
    var annotations: [AnnotationItem]
    /// The text before the article's last update (`show --previous --json` only).
    var previousBody: String?

    init(_ detail: ArticleDetail, withPrevious: Bool = false) {
        article = detail.article
        body = detail.body.string
        annotations = detail.annotations.map(AnnotationItem.init)
        previousBody = withPrevious ? detail.previousBody?.string : nil
    }
}

/// An annotation in JSON listings: its fields, its article's title, its anchor state and where
/// it is shown now (`anchor` is null and `orphan` true for an orphan).
typealias AnnotationItem = Merged<Annotation, AnnotationPlacement>

extension AnnotationItem {
    init(_ listing: AnnotationListing) {
        self.init(base: listing.annotation, extra: AnnotationPlacement(articleTitle: listing.articleTitle, anchor: listing.anchor))
    }
}

struct AnnotationPlacement: Encodable {
    var articleTitle: String
    var anchor: MarginCore.Anchor

    private struct Position: Encodable {
        var start: Int
        var end: Int
    }

    private enum CodingKeys: String, CodingKey { case articleTitle, anchor, state, orphan }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(articleTitle, forKey: .articleTitle)
        try container.encode(anchor.range.map { Position(start: $0.lowerBound, end: $0.upperBound) }, forKey: .anchor)
        try container.encode(anchor.state, forKey: .state)
        try container.encode(anchor.state == .orphaned, forKey: .orphan)
    }
}

extension AnchorState {
    /// A word or two for listings.
    var label: String {
        switch self {
        case .anchored: "anchored"
        case .moved: "moved"
        case .changed: "text changed"
        case .orphaned: "orphan"
        }
    }

    /// What it means, for `show`.
    var explanation: String {
        switch self {
        case .anchored: "anchored"
        case .moved: "moved: its passage is elsewhere in the text now"
        case .changed: "text changed: its passage was edited; the quote below is the one highlighted"
        case .orphaned: "orphan: its passage is no longer in the text, or no longer in one place"
        }
    }
}
