import ArgumentParser
import MarginStore

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import article files, folders (recursively) and margin JSON exports.",
        discussion: "Articles whose text is already in the library are skipped. Exits 1 if any file failed.")

    @OptionGroup var library: LibraryOptions
    @Argument(help: "Files or folders to import.") var paths: [String] = []
    @Flag(help: "Print the result as JSON.") var json = false

    func validate() throws {
        guard !paths.isEmpty else { throw ValidationError("give at least one file or folder to import") }
    }

    func run() throws {
        let store = try library.open()
        let report = try store.importFiles(paths) { done, total in
            Terminal.progress("importing", done: done, total: total)
        }
        for failure in report.failures { Terminal.printError(failure.message) }
        if json {
            try Terminal.printJSON(ImportResult(report))
        } else {
            var summary = "imported \(report.imported.count), skipped \(report.skipped.count) (already in the library)"
            if !report.failures.isEmpty { summary += ", failed \(report.failures.count)" }
            print(summary)
            let exports = report.exports
            if exports.importedAnnotations + exports.skippedAnnotations + exports.importedArticles + exports.skippedArticles > 0 {
                print("from exports: \(exports.importedArticles) articles and \(exports.importedAnnotations) annotations imported, "
                    + "\(exports.skippedArticles) articles and \(exports.skippedAnnotations) annotations already present")
            }
        }
        if !report.failures.isEmpty { throw ExitCode(1) }
    }
}

/// `margin import --json`.
struct ImportResult: Encodable {
    struct Imported: Encodable {
        var path: String
        var id: String
        var title: String
    }

    struct Skipped: Encodable {
        var path: String
        var existingId: String
    }

    struct Failed: Encodable {
        var path: String
        var error: String
    }

    var imported: [Imported]
    var skipped: [Skipped]
    var failed: [Failed]
    var exports: ExportCounts

    struct ExportCounts: Encodable {
        var importedArticles: Int
        var skippedArticles: Int
        var importedAnnotations: Int
        var skippedAnnotations: Int
    }

    init(_ report: FileImportReport) {
        imported = report.imported.map { Imported(path: $0.path, id: $0.id, title: $0.title) }
        skipped = report.skipped.map { Skipped(path: $0.path, existingId: $0.existingId) }
        failed = report.failures.map { Failed(path: $0.path, error: $0.message) }
        exports = ExportCounts(
            importedArticles: report.exports.importedArticles, skippedArticles: report.exports.skippedArticles,
            importedAnnotations: report.exports.importedAnnotations, skippedAnnotations: report.exports.skippedAnnotations)
    }
}
