import ArgumentParser
import MarginCore
import MarginStore

struct EditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edit", abstract: "Change an annotation's note, tags or color, or an article's title or tags.")

    @OptionGroup var library: LibraryOptions
    @Argument(help: "The annotation's or article's handle (as listings show it) or id, or a unique prefix of either.") var id: String
    @Option(help: "The new note (annotations); an empty string removes it.") var note: String?
    @Option(name: .customLong("add-tag"), help: "A tag to add; repeat for several.") var addTags: [String] = []
    @Option(name: .customLong("remove-tag"), help: "A tag to remove; repeat for several.") var removeTags: [String] = []
    @Option(help: "The new highlight color (annotations).") var color: String?
    @Option(help: "The new title (articles).") var title: String?
    @Flag(help: "Print the changed record as JSON.") var json = false

    func validate() throws {
        guard note != nil || color != nil || title != nil || !addTags.isEmpty || !removeTags.isEmpty else {
            throw ValidationError("nothing to change: give --note, --add-tag, --remove-tag, --color or --title")
        }
    }

    func run() throws {
        let store = try library.open()
        let record = try library.resolve(store, id, kinds: [.article, .annotation])
        let changed: Bool
        switch record {
        case .annotation(let id):
            guard title == nil else { throw ValidationError("--title applies to articles, and \(id) is an annotation") }
            let changes = try reportingUsageErrors { () throws(MarginError) in
                AnnotationChanges(
                    note: note, addTags: addTags, removeTags: removeTags,
                    color: try color.map { name throws(MarginError) in try HighlightColor(parsing: name) })
            }
            let result = try reportingUsageErrors { () throws(MarginError) in try store.editAnnotation(id: id, changes) }
            changed = result.changed
            if json { try Terminal.printJSON(result.annotation) }
        case .article(let id):
            guard note == nil, color == nil else {
                throw ValidationError("--note and --color apply to annotations, and \(id) is an article")
            }
            let changes = ArticleChanges(title: title, addTags: addTags, removeTags: removeTags)
            let result = try reportingUsageErrors { () throws(MarginError) in try store.editArticle(id: id, changes) }
            changed = result.changed
            if json { try Terminal.printJSON(result.article) }
        }
        if !json { print(changed ? "updated \(record.id)" : "nothing changed") }
    }
}
