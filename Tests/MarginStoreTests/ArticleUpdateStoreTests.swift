import Foundation
import GRDB
import MarginCore
import MarginSchema
import MarginStore
import Testing

/// Articles whose text changes, in one store: updates from a newer copy of a page, what is
/// kept of the earlier text, and stores made before articles could change (or had handles).
@Suite struct ArticleUpdateStoreTests {
    static let paragraphs = [
        "The county library opened its new reading room on Monday, after two years of work and a long argument about the roof.",
        "Readers found long tables, good lamps and, for the first time, a room where talking is allowed until noon every day.",
    ]

    private func page(_ paragraphs: [String], title: String = "Reading room opens") throws -> SourcedDocument {
        let document = ParsedDocument(
            format: .html, title: title, published: nil, body: paragraphs.joined(separator: "\n\n"), captions: [],
            url: "https://gazette.example/room")
        return try SourcedDocument(document: document, source: "https://gazette.example/room.html")
    }

    @Test func aNewerCopyOfAPageUpdatesItsArticleLogsOneChangeAndKeepsTheEarlierText() throws {
        let fixture = try StoreFixture()
        let store = fixture.store
        guard case .imported(let article) = try store.importDocuments([try page(Self.paragraphs)]).first else {
            Issue.record("the page was not imported")
            return
        }
        let kept = try store.annotate(articleId: article.id, target: .quote("Readers found long tables", occurrence: nil))
        let gone = try store.annotate(articleId: article.id, target: .quote("talking is allowed until noon", occurrence: nil))
        let newer = ["Correction: the room opened on Tuesday.", Self.paragraphs[0], "Readers found long tables and good lamps."]

        let outcome = try store.importDocuments([try page(newer, title: "Reading room opens on Tuesday")]).first
        let again = try store.importDocuments([try page(newer)]).first

        guard case .updated(let updated, let counts) = outcome else {
            Issue.record("expected an update, got \(String(describing: outcome))")
            return
        }
        #expect(updated.id == article.id)
        #expect(updated.title == "Reading room opens on Tuesday")
        #expect(updated.contentHash == ContentHash.of(newer.joined(separator: "\n\n")))
        var expected = AnchorCounts()
        expected.add(.anchored)
        expected.add(.orphaned)
        #expect(counts == expected)
        #expect(again == .skipped(existingId: article.id))
        let detail = try store.articleDetail(id: article.id)
        #expect(detail.body.string == newer.joined(separator: "\n\n"))
        #expect(detail.previousBody?.string == Self.paragraphs.joined(separator: "\n\n"))
        let states = Dictionary(uniqueKeysWithValues: detail.annotations.map { ($0.annotation.id, $0.anchor.state) })
        #expect(states == [kept.id: .anchored, gone.id: .orphaned])
        // The annotations keep the text they were made on; the update is one logged change.
        #expect(detail.annotations.allSatisfy { $0.annotation.basis == article.contentHash })
        let changes = try store.changes().filter { $0.entityId == article.id }
        #expect(changes.map(\.op) == [.create, .update])
        #expect(changes.last?.fields[.contentHash] == .init(old: .text(article.contentHash), new: .text(updated.contentHash)))
        #expect(changes.last?.fields[.title] == .init(old: .text(article.title), new: .text(updated.title)))
        // The search index follows the new text.
        #expect(try store.search("Tuesday").map(\.articleId) == [article.id])
        #expect(try store.search("talking").isEmpty)
    }

    @Test func aStoreFromBeforeArticleUpdatesGivesEachAnnotationAndPendingCreateItsArticlesText() throws {
        let fixture = try StoreFixture()
        let path = fixture.directory.appendingPathComponent("old.sqlite").path
        let old = try DatabaseQueue(path: path)
        var migrator = DatabaseMigrator()
        for migration in EmbeddedSchema.client.prefix(5) {
            migrator.registerMigration(migration.identifier) { db in try db.execute(sql: migration.sql) }
        }
        try migrator.migrate(old)
        let hash = ContentHash.of("Body.")
        let articleId = "01900000-0000-7000-8000-000000000001"
        let annotationId = "01900000-0000-7000-8000-000000000002"
        try old.write { db in
            try db.execute(sql: "INSERT INTO sync_state (id, device_id, next_seq, pushed_seq, last_hlc) VALUES (1, 'd', 3, 1, 0)")
            try db.execute(sql: "INSERT INTO bodies (hash, text) VALUES (?, 'Body.')", arguments: [hash])
            try db.execute(
                sql: "INSERT INTO articles (id, title, body_hash, created_at, updated_at, version) VALUES (?, 'T', ?, 1, 1, 1)",
                arguments: [articleId, hash])
            try db.execute(
                sql: """
                    INSERT INTO annotations (id, article_id, start, "end", exact, prefix, suffix, created_at, updated_at, \
                    anchor_start, anchor_end) VALUES (?, ?, 0, 4, 'Body', '', '.', 1, 1, 0, 4)
                    """,
                arguments: [annotationId, articleId])
            try db.execute(
                sql: "INSERT INTO changes (seq, entity, entity_id, op, fields, base_version, hlc) VALUES (1, 'article', ?, 'create', '{}', 0, 1), (2, 'annotation', ?, 'create', ?, 0, 2)",
                arguments: [articleId, annotationId, #"{"articleId": {"old": null, "new": "\#(articleId)"}}"#])
        }
        try old.close()

        let store = try LibraryStore(path: path)

        let listing = try #require(try store.annotations().first)
        #expect(listing.annotation.basis == hash)
        #expect(listing.anchor == Anchor(state: .anchored, range: 0..<4))
        let pending = try #require(try store.changes().first { $0.seq == 2 })
        #expect(pending.fields[.basis] == .init(old: .null, new: .text(hash)))
        // Records made before handles get theirs (migration 7).
        #expect(try store.resolve(String(Handle.of(articleId).prefix(Handle.minimumLength))) == .article(articleId))
        #expect(try store.resolve(Handle.of(annotationId)) == .annotation(annotationId))
    }
}
