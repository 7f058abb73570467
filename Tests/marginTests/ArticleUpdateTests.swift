import Foundation
import GRDB
import MarginCore
import MarginTestSupport
import Testing

/// End to end: an article's text changes on one machine while another annotates the old
/// text offline; after syncing, every machine holds the same text and every annotation in
/// the same place and state (through real `margin` devices and a real `margin-server`).
@Suite struct ArticleUpdateTests {
    static let canonical = "https://gazette.example/news/reading-room"
    static let original = [
        "The county library opened its new reading room on Monday, after two years of work and a long argument about the roof.",
        "Readers found long tables, good lamps and, for the first time, a room where talking is allowed until noon every day.",
        "The librarian said the building would stay open late on Thursdays, when the evening classes and the chess club meet.",
    ]
    /// A correction at the top, the second paragraph rewritten, the last edited around its end.
    static let corrected = [
        "Correction: an earlier version of this article gave the wrong day for the opening.",
        "The county library opened its new reading room on Tuesday, after two years of work and a long argument about the roof.",
        "Readers found long tables and good lamps; silence is kept all day.",
        "The librarian said the building would stay open late on Thursdays, when the evening classes and the chess club gather.",
    ]
    static let rewritten = [
        "The county library opened its new reading room on Monday, after two years of work and a long argument about the roof.",
        "The librarian said the building would stay open late on Thursdays, when the evening classes and the chess club meet.",
        "Readers found long tables, good lamps and, for the first time, a room where talking is allowed until noon every day.",
        "A second reading room is planned for the east wing.",
    ]

    /// A saved copy of the page with `paragraphs`, written to `folder`.
    private func page(_ paragraphs: [String], in folder: URL, name: String) throws -> String {
        let html = """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Reading room opens | Test Gazette</title>
            <link rel="canonical" href="\(Self.canonical)"></head><body><nav><a href="/">Home</a></nav>
            <article><h1>Reading room opens</h1>\(paragraphs.map { "<p>\($0)</p>" }.joined())</article></body></html>
            """
        let path = folder.appendingPathComponent(name).path
        try Data(html.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Every annotation as a device shows it: its quote, where it stands and its state, by id.
    private func placements(_ device: MarginProcess) throws -> [String: String] {
        let all = try device.run(["annotations", "--json"]).decoded([MarginProcess.ListedAnnotation].self)
        return Dictionary(uniqueKeysWithValues: all.map { entry in
            let anchor = entry.anchor.map { "\($0.start)..<\($0.end)" } ?? "none"
            return (entry.id, "\(entry.quote.exact) @ \(anchor) \(entry.state) on \(entry.basis ?? "-")")
        })
    }

    private func quoteStates(_ device: MarginProcess) throws -> [String: String] {
        let all = try device.run(["annotations", "--json"]).decoded([MarginProcess.ListedAnnotation].self)
        return Dictionary(uniqueKeysWithValues: all.map { ($0.quote.exact, $0.state) })
    }

    private func annotate(_ device: MarginProcess, _ article: String, quote: String) throws {
        let result = try device.run(["annotate", article, "--quote", quote])
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test(arguments: ServerProcess.Backend.allCases)
    func anUpdateOnOneMachineAndAnnotationsOfTheOldTextOnAnotherLandAlikeEverywhere(_ backend: ServerProcess.Backend) throws {
        let server = try ServerProcess.start(backend)
        let (laptop, desktop) = try server.twoDevices(of: "ana")
        let first = try page(Self.original, in: laptop.directory, name: "v1.html")
        #expect(try laptop.run(["import", first]).status == 0)
        let article = try #require(try laptop.articleIds().first)
        try annotate(laptop, article, quote: "long argument about the roof")
        try laptop.syncQuietly()
        try desktop.syncQuietly()

        // Offline: the laptop takes the corrected page; the desktop annotates the old text.
        let second = try page(Self.corrected, in: laptop.directory, name: "v2.html")
        let update = try laptop.run(["import", second])
        #expect(update.stdout.contains("updated 1 (new text)"), "\(update.stdout)")
        try annotate(desktop, article, quote: "evening classes and the chess club")
        try annotate(desktop, article, quote: "talking is allowed until noon")
        try annotate(desktop, article, quote: "opened its new reading room on Monday")

        for device in [laptop, desktop, laptop] { try device.syncQuietly() }
        let newcomer = try server.device(token: try server.issueToken("ana"))
        try newcomer.syncQuietly()

        let body = Self.corrected.joined(separator: "\n\n")
        for device in [laptop, desktop, newcomer] {
            let shown = try device.run(["show", article, "--json"]).json([String: Any].self)
            #expect(shown["body"] as? String == body)
        }
        let expected = try placements(laptop)
        #expect(expected.count == 4)
        #expect(try placements(desktop) == expected)
        #expect(try placements(newcomer) == expected)
        #expect(try quoteStates(laptop) == [
            "long argument about the roof": "anchored", "evening classes and the chess club": "anchored",
            "talking is allowed until noon": "orphaned", "opened its new reading room on Monday": "changed",
        ])
        // Where each placed one stands holds its words.
        let scalars = Array(body.unicodeScalars)
        for entry in try laptop.run(["annotations", "--json"]).decoded([MarginProcess.ListedAnnotation].self) {
            guard let anchor = entry.anchor, entry.state == "anchored" else { continue }
            #expect(String(String.UnicodeScalarView(scalars[anchor.start..<anchor.end])) == entry.quote.exact)
        }
        #expect(try laptop.state().library == desktop.state().library)
        #expect(try newcomer.state().library == laptop.state().library)
        let changed = try desktop.run(["annotations", "--changed", "--json"]).decoded([MarginProcess.ListedAnnotation].self)
        #expect(changed.map(\.quote.exact) == ["opened its new reading room on Monday"])
    }

    @Test(arguments: ServerProcess.Backend.allCases)
    func aServerUpgradedToProtocol4GivesEachAnnotationItsArticlesText(_ backend: ServerProcess.Backend) throws {
        let server = try ServerProcess.start(backend)
        let laptop = try server.device(token: try server.addUser("ana"))
        #expect(try laptop.run(["import", try page(Self.original, in: laptop.directory, name: "v1.html")]).status == 0)
        let article = try #require(try laptop.articleIds().first)
        try annotate(laptop, article, quote: "talking is allowed until noon")
        try laptop.syncQuietly()
        server.stop()
        // The library as a protocol 3 server left it: annotations without a basis, and the
        // migration that gives them one not applied yet.
        switch backend {
        case .sqlite:
            let store = try DatabaseQueue(path: String(server.database.dropFirst("sqlite:".count)))
            try store.write { db in
                try db.execute(sql: "UPDATE records SET fields = json_remove(fields, '$.basis') WHERE entity = 'annotation'")
                try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'server-003-basis'")
            }
            try store.close()
        case .postgres:
            let cluster = try PostgresCluster.shared.get()
            _ = try cluster.psql(server.database, "UPDATE records SET fields = (fields::jsonb - 'basis')::text WHERE entity = 'annotation'")
            _ = try cluster.psql(server.database, "DELETE FROM margin_migrations WHERE identifier = 'postgres-003-basis'")
        }

        let upgraded = try ServerProcess.start(database: server.database)
        let newcomer = try upgraded.device(token: try upgraded.issueToken("ana"))
        try newcomer.syncQuietly()

        let contentHash = ContentHash.of(Self.original.joined(separator: "\n\n"))
        let annotation = try #require((try newcomer.run(["annotations", "--json"]).json([[String: Any]].self)).first)
        #expect(annotation["basis"] as? String == contentHash)
        #expect(annotation["state"] as? String == "anchored")
        #expect(try placements(newcomer) == placements(laptop))
    }

    @Test(arguments: ServerProcess.Backend.allCases)
    func twoMachinesUpdatingOneArticleAgreeAndKeepTheLosingText(_ backend: ServerProcess.Backend) throws {
        let server = try ServerProcess.start(backend)
        let (laptop, desktop) = try server.twoDevices(of: "ana")
        #expect(try laptop.run(["import", try page(Self.original, in: laptop.directory, name: "v1.html")]).status == 0)
        let article = try #require(try laptop.articleIds().first)
        try annotate(laptop, article, quote: "talking is allowed until noon")
        try annotate(laptop, article, quote: "a long argument about the roof")
        try laptop.syncQuietly()
        try desktop.syncQuietly()

        // Both take a newer copy offline, different ones; the desktop's is written later.
        #expect(try laptop.run(["import", try page(Self.corrected, in: laptop.directory, name: "v2.html")]).status == 0)
        #expect(try desktop.run(["import", try page(Self.rewritten, in: desktop.directory, name: "v3.html")]).status == 0)
        for device in [laptop, desktop, laptop] { try device.syncQuietly() }

        let winner = Self.rewritten.joined(separator: "\n\n")
        let loser = Self.corrected.joined(separator: "\n\n")
        for device in [laptop, desktop] {
            #expect((try device.run(["show", article, "--json"]).json([String: Any].self))["body"] as? String == winner)
        }
        #expect(try placements(laptop) == placements(desktop))
        #expect(try quoteStates(laptop) == ["talking is allowed until noon": "anchored", "a long argument about the roof": "anchored"])
        let conflicts = try laptop.run(["conflicts", "list", "--json"]).json([[String: Any]].self)
        #expect(conflicts.count == 1)
        let conflict = try #require(conflicts.first)
        #expect(conflict["field"] as? String == "contentHash")
        #expect(conflict["value"] as? String == ContentHash.of(loser))
        #expect(try laptop.state().library == desktop.state().library)

        // The losing text can be put back from either machine, and reaches the other.
        let restored = try laptop.run(["conflicts", "restore", try #require(conflict["id"] as? String)])
        #expect(restored.status == 0, "\(restored.stderr)")
        for device in [laptop, desktop] { try device.syncQuietly() }
        #expect((try desktop.run(["show", article, "--json"]).json([String: Any].self))["body"] as? String == loser)
        #expect(try placements(laptop) == placements(desktop))
        #expect(try quoteStates(desktop) == ["talking is allowed until noon": "orphaned", "a long argument about the roof": "anchored"])
        let previous = try desktop.run(["show", article, "--previous"])
        #expect(previous.stdout.contains("{+Correction: an earlier version of this article gave the wrong day for the opening.\n\n+}"), "\(previous.stdout)")
    }
}
