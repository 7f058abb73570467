import Foundation
import MarginCore
import MarginStore
import MarginWire
import Testing

/// Pulled pages and push replies applied to one store, without a server: the records are
/// written here as a server would send them.
@Suite struct PulledRecordTests {
    static let otherDevice = "01900000-0000-7000-8000-0000000000c3"

    /// A store holding one seed article with two highlights, pushed and acknowledged as
    /// applied (versions 1, 2, 3 in change order).
    static func syncedStore() throws -> (StoreFixture, Article, [Annotation]) {
        let fixture = try StoreFixture()
        let article = try #require(try fixture.importSeeds().values.min { $0.id < $1.id })
        let annotations = [
            try fixture.store.annotate(articleId: article.id, target: .range(0..<12), note: "first", tags: ["a"]),
            try fixture.store.annotate(articleId: article.id, target: .range(20..<30), note: "second"),
        ]
        // The five seeds and the two highlights, each answered as applied.
        let request = try fixture.store.pendingPush(maxCount: 100, maxBytes: 1 << 24)
        let results = request.changes.enumerated().map { index, change in
            ChangeResult(seq: change.seq, outcome: .applied, version: Int64(index + 1))
        }
        _ = try fixture.store.applyPushResponse(PushResponse(results: results, records: []), for: request)
        #expect(try fixture.store.pendingPush(maxCount: 100, maxBytes: 1 << 24).changes.isEmpty)
        return (fixture, article, annotations)
    }

    /// The version the store's push gave `id` (its change's place in the push).
    static func version(of id: String, in fixture: StoreFixture) throws -> Int64 {
        try #require(try fixture.rawDatabase().read { db in
            try Int64.fetchOne(db, sql: "SELECT version FROM annotations WHERE id = ? UNION SELECT version FROM articles WHERE id = ?", arguments: [id, id])
        })
    }

    static func record(_ annotation: Annotation, version: Int64, deleted: Bool = false, _ changes: [RecordField: FieldValue] = [:]) -> ServerRecord {
        ServerRecord(
            entity: .annotation, id: annotation.id, version: version, deleted: deleted,
            fields: annotation.fieldValues.merging(changes) { $1 }, updatedAt: annotation.updatedAt.milliseconds + 1_000,
            device: otherDevice)
    }

    static func apply(_ records: [ServerRecord], to store: LibraryStore, cursor: Int64, bodies: [WireBody] = []) throws {
        let page = PullResponse(records: records, cursor: cursor, bound: cursor, more: false, reset: false, history: "h")
        try store.applyPullPage(try LibraryStore.check(page), bodies: bodies, snapshot: false)
    }

    static func note(_ id: String, in store: LibraryStore) throws -> Annotation? {
        try store.annotations().map(\.annotation).first { $0.id == id }
    }

    @Test func aRecordAtTheVersionHeldIsNotAppliedAgain() throws {
        let (fixture, _, annotations) = try Self.syncedStore()
        let held = try Self.version(of: annotations[0].id, in: fixture)

        try Self.apply([Self.record(annotations[0], version: held, [.note: .text("an echo")])], to: fixture.store, cursor: 10)
        #expect(try Self.note(annotations[0].id, in: fixture.store)?.note == "first")

        try Self.apply([Self.record(annotations[0], version: held + 10, [.note: .text("from elsewhere")])], to: fixture.store, cursor: 11)
        #expect(try Self.note(annotations[0].id, in: fixture.store)?.note == "from elsewhere")
        #expect(try Self.version(of: annotations[0].id, in: fixture) == held + 10)
        #expect(try fixture.store.pendingPush(maxCount: 100, maxBytes: 1 << 24).changes.isEmpty)
    }

    /// A record another device changed arrives while this store has an edit of its own
    /// pending: the pending values stay on top (tags merged), the others are taken, and the
    /// edit is still pushed.
    @Test func pendingEditsStayOnTopOfAPulledRecord() throws {
        let (fixture, _, annotations) = try Self.syncedStore()
        let held = try Self.version(of: annotations[0].id, in: fixture)
        _ = try fixture.store.editAnnotation(id: annotations[0].id, AnnotationChanges(note: "mine", addTags: ["b"]))

        try Self.apply(
            [Self.record(annotations[0], version: held + 10, [.note: .text("theirs"), .color: .text("blue"), .tags: .list(["a", "c"])])],
            to: fixture.store, cursor: 10)

        let merged = try #require(try Self.note(annotations[0].id, in: fixture.store))
        #expect(merged.note == "mine")
        #expect(merged.color == .blue)
        #expect(merged.tags == ["a", "b", "c"])
        let pending = try fixture.store.pendingPush(maxCount: 100, maxBytes: 1 << 24).changes
        #expect(pending.map(\.id) == [annotations[0].id])
        #expect(pending.first?.fields[.note]?.new == .text("mine"))
    }

    /// The server deleted both highlights; the one edited here meanwhile stays (an edit
    /// beats a delete: its push brings it back), the other goes.
    @Test func aPulledDeleteSparesARecordWithAPendingEdit() throws {
        let (fixture, _, annotations) = try Self.syncedStore()
        _ = try fixture.store.editAnnotation(id: annotations[1].id, AnnotationChanges(note: "still wanted"))
        let versions = try annotations.map { try Self.version(of: $0.id, in: fixture) }

        try Self.apply(
            zip(annotations, versions).map { Self.record($0, version: $1 + 10, deleted: true) }, to: fixture.store, cursor: 10)

        #expect(try Self.note(annotations[0].id, in: fixture.store) == nil)
        #expect(try Self.note(annotations[1].id, in: fixture.store)?.note == "still wanted")
    }

    /// An annotation pulled before its article waits for it, then is anchored where it was made.
    @Test func anAnnotationPulledBeforeItsArticleWaitsForIt() throws {
        let (source, article, annotations) = try Self.syncedStore()
        let body = try source.store.articleDetail(id: article.id).body.string
        let fixture = try StoreFixture()

        try Self.apply([Self.record(annotations[0], version: 5)], to: fixture.store, cursor: 1)
        #expect(try fixture.store.hasParkedRecords())
        #expect(try fixture.store.annotations().isEmpty)

        let articleRecord = ServerRecord(
            entity: .article, id: article.id, version: 6, deleted: false, fields: article.fieldValues,
            updatedAt: article.updatedAt.milliseconds, device: Self.otherDevice)
        try Self.apply([articleRecord], to: fixture.store, cursor: 2, bodies: [WireBody(hash: article.contentHash, text: body)])

        #expect(try !fixture.store.hasParkedRecords())
        let listing = try #require(try fixture.store.annotations().first)
        #expect(listing.annotation.id == annotations[0].id)
        #expect(listing.anchor == Anchor(state: .anchored, range: 0..<12))
    }

    /// A pull from nothing (after the server compacted past this store's cursor) ends by
    /// dropping what the server no longer has, except what has a change still to push.
    @Test func theEndOfAResetDropsWhatTheServerNoLongerHas() throws {
        let (fixture, article, annotations) = try Self.syncedStore()
        let others = try fixture.store.articles().filter { $0.id != article.id }
        _ = try fixture.store.annotate(articleId: others[0].id, target: .range(0..<5), note: "not pushed yet")

        try fixture.store.beginReset()
        let kept = ServerRecord(
            entity: .article, id: article.id, version: try Self.version(of: article.id, in: fixture), deleted: false,
            fields: article.fieldValues, updatedAt: article.updatedAt.milliseconds)
        let page = PullResponse(
            records: [kept, Self.record(annotations[0], version: try Self.version(of: annotations[0].id, in: fixture))],
            cursor: 40, bound: 40, more: false, reset: false, history: "h")
        try fixture.store.applyPullPage(try LibraryStore.check(page), bodies: [], snapshot: true)
        try fixture.store.finishReset()

        let left = try fixture.store.articles().map(\.id)
        #expect(Set(left) == [article.id, others[0].id])
        #expect(try fixture.store.annotations().map(\.annotation.note).sorted() == ["first", "not pushed yet"])
        #expect(try !fixture.store.pullState().resetting)
    }
}
