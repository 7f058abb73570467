import Foundation
import MarginTestSupport
import Testing

/// Highlights exported by other tools (the fixtures in `Tests/Highlights`, in each tool's
/// documented shape) imported through the real `margin`: placed by their quotes into the
/// articles they belong to, fetched from a local web server when missing; what cannot be
/// placed is an orphan or a failure line, never dropped silently.
@Suite struct HighlightImportTests {
    static let fixtures = MarginProcess.repositoryRoot.appendingPathComponent("Tests/Highlights")
    static let pages = MarginProcess.repositoryRoot.appendingPathComponent("Tests/WebPages")

    /// A fixture with `{{SITE}}` replaced by `site`, written into `margin`'s folder.
    static func fixture(_ name: String, site: String = "", in margin: MarginProcess) throws -> String {
        let text = try String(contentsOf: fixtures.appendingPathComponent(name), encoding: .utf8)
        let file = margin.directory.appendingPathComponent(name)
        try text.replacingOccurrences(of: "{{SITE}}", with: site).write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    static func annotations(_ margin: MarginProcess) throws -> [[String: Any]] {
        try margin.run(["annotations", "--json"]).json([[String: Any]].self)
    }

    static func quote(_ annotation: [String: Any]) -> String? {
        (annotation["quote"] as? [String: Any])?["exact"] as? String
    }

    @Test func hypothesisHighlightsFetchTheirPageAndArePlacedByTheirQuotes() async throws {
        let server = try await WebServer.start()
        defer { server.stop() }
        let margin = try MarginProcess()
        let file = try Self.fixture("hypothesis.json", site: server.url, in: margin)

        let result = try await margin.runDetached(["import", file])

        #expect(result.status == 1)
        #expect(result.stdout.contains("imported 1, skipped 0 (already in the library), failed 1"), "\(result.stdout)")
        #expect(result.stdout.contains(
            "highlights from other tools: 1 anchored, 1 changed, 1 orphaned, 0 already present; "
                + "1 without a quote (page notes, replies) not imported"), "\(result.stdout)")
        #expect(result.stderr == "margin: 1 highlight of \(server.url)/status/404: no article with this address in the library; "
            + "fetching it failed: the server answered HTTP 404 (not found)\n")
        let annotations = try Self.annotations(margin)
        let byState = Dictionary(grouping: annotations) { $0["state"] as? String ?? "" }
        let anchored = try #require(byState["anchored"]?.first)
        #expect(Self.quote(anchored) == "feeding it with whole rye")
        #expect(anchored["note"] as? String == "Try this in winter.")
        #expect(anchored["tags"] as? [String] == ["baking", "rye"])
        #expect(anchored["createdAt"] as? String == "2026-11-29T09:15:02.481Z")
        #expect(anchored["updatedAt"] as? String == "2026-11-29T09:16:40.000Z")
        let changed = try #require(byState["changed"]?.first)
        #expect(Self.quote(changed) == "when my kitchen dropped below 16 degrees")
        let orphan = try #require(byState["orphaned"]?.first)
        #expect(Self.quote(orphan) == "the starter died twice over the summer")
        #expect(orphan["anchor"] is NSNull)

        // Again: the same ids, so nothing new.
        let again = try await margin.runDetached(["import", file])
        #expect(again.stdout.contains("highlights from other tools: 0 anchored, 0 changed, 0 orphaned, 3 already present"), "\(again.stdout)")
        #expect(try Self.annotations(margin).count == 3)
    }

    @Test func webAnnotationsFromAnotherProducerFindTheirArticleByItsAddress() throws {
        let margin = try MarginProcess()
        #expect(try margin.run(["import", Self.pages.appendingPathComponent("news-sidebar.html").path]).status == 0)

        let result = try margin.run(["import", Self.fixtures.appendingPathComponent("web-annotations.jsonld").path, "--json"])

        #expect(result.status == 0, "\(result.stderr)")
        let counts = try #require((try result.json([String: Any].self))["highlights"] as? [String: Int])
        #expect(counts == ["anchored": 2, "changed": 0, "orphaned": 0, "skipped": 0, "unquoted": 1])
        let annotations = try Self.annotations(margin)
        let budget = try #require(annotations.first { Self.quote($0) == "will cost an estimated $48 million over six years" })
        #expect(budget["note"] as? String == "Check the budget figure.")
        #expect(budget["tags"] as? [String] == ["parks"])
        #expect(budget["state"] as? String == "anchored")
        // Its position hint (0–5) was wrong; the quote and context place it.
        let vote = try #require(annotations.first { Self.quote($0) == "the city council voted 7 to 2 on Tuesday night" })
        #expect((vote["anchor"] as? [String: Int])?["start"] == 31)
    }

    @Test func ourOwnW3CExportRoundTripsWithItsIds() throws {
        let page = Self.pages.appendingPathComponent("blog-post.html").path
        let laptop = try MarginProcess()
        #expect(try laptop.run(["import", page]).status == 0)
        let article = try #require((try laptop.run(["list", "--json"]).json([[String: Any]].self)).first?["id"] as? String)
        let made = try laptop.run(["annotate", article, "--quote", "feeding it with whole rye", "--note", "try it", "--tag", "baking", "--color", "green"])
        #expect(made.status == 0, "\(made.stderr)")
        let export = laptop.directory.appendingPathComponent("w3c.json")
        try Data(try laptop.run(["export", "--format", "w3c"]).stdout.utf8).write(to: export)

        let other = try MarginProcess()
        let result = try other.run(["import", page, export.path])
        let again = try laptop.run(["import", export.path])

        #expect(result.status == 0, "\(result.stderr)")
        let original = try #require(try Self.annotations(laptop).first)
        let copy = try #require(try Self.annotations(other).first)
        for key in ["id", "quote", "position", "note", "tags", "color", "createdAt", "updatedAt", "state"] {
            #expect((copy[key] as? NSObject) == (original[key] as? NSObject), "\(key)")
        }
        #expect(again.stdout.contains("0 anchored, 0 changed, 0 orphaned, 1 already present"), "\(again.stdout)")
    }

    @Test func readwiseHighlightsMatchByTitleAndExactQuotesOnly() throws {
        let margin = try MarginProcess()
        #expect(try margin.run(["import", Self.pages.appendingPathComponent("blog-post.html").path]).status == 0)

        let result = try margin.run(["import", Self.fixtures.appendingPathComponent("readwise.csv").path])

        #expect(result.status == 1)
        #expect(result.stdout.contains("highlights from other tools: 1 anchored, 0 changed, 2 orphaned, 0 already present"), "\(result.stdout)")
        #expect(result.stderr == "margin: 1 highlight of “A book not in the library”: no single article with this title in the library\n")
        let annotations = try Self.annotations(margin)
        let placed = try #require(annotations.first { $0["state"] as? String == "anchored" })
        #expect(Self.quote(placed) == "Rye flour contains more free sugars and more of the enzymes that break starch down into sugars.")
        #expect(placed["color"] as? String == "blue")
        #expect(placed["note"] as? String == "Why rye, in one sentence")
        #expect(placed["tags"] as? [String] == ["fermentation", "science"])
        // "rye" is in the post many times, and without context it cannot be placed.
        let orphans = annotations.filter { $0["state"] as? String == "orphaned" }.compactMap(Self.quote).sorted()
        #expect(orphans == ["A line that \"was never\" in the post", "rye"])
    }

    @Test func aBrokenHighlightsFileIsRefusedWholeWithOneLine() throws {
        let margin = try MarginProcess()
        let file = margin.directory.appendingPathComponent("broken.csv")
        try "Highlight,Book Title\n\"never closed,Some title\n".write(to: file, atomically: true, encoding: .utf8)

        let result = try margin.run(["import", file.path])

        #expect(result.status == 1)
        #expect(result.stderr == "margin: \(file.path): line 2: a quoted field is not closed\n")
        let json = margin.directory.appendingPathComponent("broken.json")
        let document = #"{"export_userid": "acct:a@hypothes.is", "annotations": [{"uri": "https://example.org/", "tags": "one", "#
            + #""target": [{"selector": [{"type": "TextQuoteSelector", "exact": "a quote"}]}]}]}"#
        try document.write(to: json, atomically: true, encoding: .utf8)
        let wrongType = try margin.run(["import", json.path])
        #expect(wrongType.status == 1)
        #expect(wrongType.stderr.hasPrefix("margin: \(json.path): ") && wrongType.stderr.contains("tags"), "\(wrongType.stderr)")
        #expect(wrongType.stderr.split(separator: "\n").count == 1)
        #expect(try Self.annotations(margin).isEmpty)
    }
}
