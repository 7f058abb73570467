import Foundation
import Testing

/// What the end-to-end suites ask of a device: its whole state, syncing, and its records.
extension MarginProcess {
    /// What the device holds: its export (without the export's time) and its conflicts.
    func state() throws -> (library: NSDictionary, conflicts: NSArray) {
        var library = try run(["export", "--format", "json"]).json([String: Any].self)
        library["exportedAt"] = nil
        let conflicts = try run(["conflicts", "list", "--json"]).json([Any].self)
        return (library as NSDictionary, conflicts as NSArray)
    }

    /// `margin sync --quiet`, which must succeed silently.
    func syncQuietly(sourceLocation: SourceLocation = #_sourceLocation) throws {
        let result = try run(["sync", "--quiet"])
        #expect(result.status == 0, "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stdout.isEmpty, sourceLocation: sourceLocation)
    }

    /// `margin list --json`.
    func articles() throws -> [ListedArticle] {
        try run(["list", "--json"]).decoded([ListedArticle].self)
    }

    func articleIds() throws -> [String] {
        try articles().map(\.id)
    }

    func annotation(_ id: String) throws -> [String: Any] {
        let all = try run(["annotations", "--json"]).json([[String: Any]].self)
        return try #require(all.first { $0["id"] as? String == id })
    }

    /// Annotates `range` of `article` and returns the new annotation's id.
    func annotate(_ article: String, range: String, note: String, tags: [String] = []) throws -> String {
        let result = try run(["annotate", article, "--range", range, "--note", note] + tags.flatMap { ["--tag", $0] })
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
