import ArgumentParser
import MarginStore

struct DeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete an annotation, or an article with its annotations.")

    @OptionGroup var library: LibraryOptions
    @Argument(help: "The annotation's or article's handle (as listings show it) or id, or a unique prefix of either.") var id: String
    @Flag(help: "Print what was deleted as JSON.") var json = false

    func run() throws {
        let store = try library.open()
        let result: DeleteResult
        switch try library.resolve(store, id, kinds: [.article, .annotation]) {
        case .annotation(let id):
            try store.deleteAnnotation(id: id)
            result = DeleteResult(kind: "annotation", id: id, annotationsDeleted: 1)
        case .article(let id):
            result = DeleteResult(kind: "article", id: id, annotationsDeleted: try store.deleteArticle(id: id))
        }
        if json {
            try Terminal.printJSON(result)
        } else if result.kind == "article" {
            print("deleted article \(result.id) and its \(result.annotationsDeleted) annotation(s)")
        } else {
            print("deleted annotation \(result.id)")
        }
    }
}

/// `margin delete --json`.
struct DeleteResult: Encodable {
    var kind: String
    var id: String
    var annotationsDeleted: Int
}
