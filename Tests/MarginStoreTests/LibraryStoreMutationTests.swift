import Foundation
import GRDB
import MarginCore
import MarginStore
import Testing

@Suite struct LibraryStoreMutationTests {
    @Test func annotatingByAUniqueQuoteStoresPositionAndQuoteSelectors() throws {
        let fixture = try StoreFixture()
        let article = try #require(try fixture.importSeeds()["2025-10-20"])
        let body = try fixture.store.articleDetail(id: article.id).body

        let annotation = try fixture.store.annotate(
            articleId: article.id, target: .quote("Sergey Lavrov đã có cuộc điện đàm", occurrence: nil), note: "  ",
            tags: ["Nga", " nga", "Nga"], color: .blue)

        let range = annotation.selectors.start..<annotation.selectors.end
        #expect(body.text(in: range) == "Sergey Lavrov đã có cuộc điện đàm")
        #expect(annotation.selectors.prefix == body.text(in: range.lowerBound - 32..<range.lowerBound))
        #expect(annotation.selectors.suffix == body.text(in: range.upperBound..<range.upperBound + 32))
        #expect(annotation.tags == ["Nga", "nga"])
        let listing = try fixture.store.annotations(articleId: article.id)
        #expect(listing.map(\.annotation) == [annotation])
        #expect(listing[0].anchor == Anchor(state: .anchored, range: range))
    }

    @Test func aRepeatedQuoteIsRefusedWithItsCountUnlessAnOccurrenceIsChosen() throws {
        let fixture = try StoreFixture()
        let article = try #require(try fixture.importSeeds()["2025-10-23"])

        #expect {
            try fixture.store.annotate(articleId: article.id, target: .quote("hội nghị thượng đỉnh", occurrence: nil))
        } throws: { error in
            let error = error as? MarginError
            return error?.code == .ambiguous && error?.message.contains("occurs 2 times") == true
                && error?.message.contains("--occurrence") == true
        }
        #expect(throws: MarginError.self) {
            try fixture.store.annotate(articleId: article.id, target: .quote("hội nghị thượng đỉnh", occurrence: 3))
        }
        let second = try fixture.store.annotate(articleId: article.id, target: .quote("hội nghị thượng đỉnh", occurrence: 2))
        let first = try fixture.store.annotate(articleId: article.id, target: .quote("hội nghị thượng đỉnh", occurrence: 1))
        #expect(first.selectors.start < second.selectors.start)
        #expect(try fixture.count("annotations") == 2)
    }

    @Test func aMissingQuoteIsAClearErrorAndChangesNothing() throws {
        let fixture = try StoreFixture()
        let article = try #require(try fixture.importSeeds()["2025-10-23"])

        #expect {
            try fixture.store.annotate(articleId: article.id, target: .quote("không hề có câu này", occurrence: nil))
        } throws: { error in
            (error as? MarginError)?.code == .notFound && (error as? MarginError)?.message.contains("does not occur") == true
        }
        #expect(try fixture.count("annotations") == 0)
        #expect(try fixture.store.changes().count == 5)
    }

    @Test func aQuoteTypedDecomposedMatchesTheComposedText() throws {
        let fixture = try StoreFixture()
        let article = try #require(try fixture.importSeeds()["2025-10-23"])
        let nfd = "Mark Rutte, đa\u{306}\u{323}c bie\u{323}\u{302}t"
        #expect(nfd.unicodeScalars.count != "Mark Rutte, đặc biệt".unicodeScalars.count)

        let annotation = try fixture.store.annotate(articleId: article.id, target: .quote(nfd, occurrence: nil))

        #expect(annotation.selectors.exact == "Mark Rutte, đặc biệt")
        #expect(annotation.selectors.end - annotation.selectors.start == 20)
    }

    @Test func rangesOutsideTheBodyAreRejected() throws {
        let fixture = try StoreFixture()
        let article = try #require(try fixture.importSeeds()["2025-10-23"])
        let count = try fixture.store.articleDetail(id: article.id).body.count

        #expect(throws: MarginError.self) { try fixture.store.annotate(articleId: article.id, target: .range(count - 2..<count + 1)) }
        let last = try fixture.store.annotate(articleId: article.id, target: .range(count - 2..<count))
        #expect(last.selectors.suffix.isEmpty)
    }

    @Test func everyMutationIsLoggedWithOldAndNewValues() throws {
        let fixture = try StoreFixture()
        let article = try #require(try fixture.importSeeds()["2025-10-23"])
        let annotation = try fixture.store.annotate(articleId: article.id, target: .range(0..<5), note: "one", tags: ["a"])

        let edit = try fixture.store.editAnnotation(
            id: annotation.id, AnnotationChanges(note: "two", addTags: ["b"], removeTags: ["a"], color: .red))
        let noOp = try fixture.store.editAnnotation(id: annotation.id, AnnotationChanges(addTags: ["b"]))
        try fixture.store.deleteAnnotation(id: annotation.id)

        #expect(edit.changed)
        #expect(!noOp.changed)
        #expect(try fixture.store.statistics().annotations == 0)
        let log = try fixture.store.changes()
        #expect(log.map(\.seq) == Array(1...8))
        #expect(log.allSatisfy { $0.deviceId == log[0].deviceId && !$0.pushed && $0.baseVersion == 0 })
        #expect(zip(log, log.dropFirst()).allSatisfy { $0.hlc < $1.hlc })
        let create = log[5], update = log[6], delete = log[7]
        #expect(create.op == .create && create.entity == .annotation && create.entityId == annotation.id)
        #expect(create.fields[.note] == ChangeEntry.FieldChange(old: .null, new: .text("one")))
        #expect(update.op == .update)
        #expect(Set(update.fields.keys) == [.note, .tags, .color])
        #expect(update.fields[.tags] == ChangeEntry.FieldChange(old: .list(["a"]), new: .list(["b"])))
        #expect(update.fields[.color] == ChangeEntry.FieldChange(old: .text("yellow"), new: .text("red")))
        #expect(delete.op == .delete)
        #expect(delete.fields[.note] == ChangeEntry.FieldChange(old: .text("two"), new: .null))
        #expect(try fixture.store.changes(pendingOnly: true).count == 8)
    }

    @Test func addingAndRemovingTheSameTagIsRefused() throws {
        let fixture = try StoreFixture()
        let article = try #require(try fixture.importSeeds()["2025-10-23"])
        #expect(throws: MarginError.self) {
            try fixture.store.editArticle(id: article.id, ArticleChanges(addTags: ["x"], removeTags: ["x"]))
        }
        #expect(throws: MarginError.self) { try fixture.store.editArticle(id: article.id, ArticleChanges(addTags: ["  "])) }
        #expect(try fixture.store.changes().count == 5)
    }

    @Test func aFailedLogWriteLeavesNeitherTheRowNorItsEntry() throws {
        let fixture = try StoreFixture()
        let article = try #require(try fixture.importSeeds()["2025-10-23"])
        try fixture.rawDatabase().write { db in
            try db.execute(sql: "CREATE TRIGGER fail_log BEFORE INSERT ON changes BEGIN SELECT RAISE(ABORT, 'injected'); END")
        }

        #expect(throws: MarginError.self) {
            try fixture.store.annotate(articleId: article.id, target: .range(0..<5), tags: ["t"])
        }

        #expect(try fixture.count("annotations") == 0)
        #expect(try fixture.count("annotation_tags") == 0)
        #expect(try fixture.count("annotation_search") == 0)
        #expect(try fixture.count("changes") == 5)
        let nextSeq = try fixture.rawDatabase().read { db in try Int.fetchOne(db, sql: "SELECT next_seq FROM sync_state") }
        #expect(nextSeq == 6)
    }

    @Test func aFailedRowWriteLeavesNoLogEntry() throws {
        let fixture = try StoreFixture()
        let article = try #require(try fixture.importSeeds()["2025-10-23"])
        let annotation = try fixture.store.annotate(articleId: article.id, target: .range(0..<5))
        try fixture.rawDatabase().write { db in
            try db.execute(sql: "CREATE TRIGGER fail_delete BEFORE DELETE ON annotations BEGIN SELECT RAISE(ABORT, 'injected'); END")
        }

        #expect(throws: MarginError.self) { try fixture.store.deleteArticle(id: article.id) }

        #expect(try fixture.store.articles().count == 5)
        #expect(try fixture.store.annotations().map(\.annotation.id) == [annotation.id])
        #expect(try fixture.store.changes().count == 6)
    }

    @Test func deletingAnArticleDeletesAndLogsItsAnnotations() throws {
        let fixture = try StoreFixture()
        let article = try #require(try fixture.importSeeds()["2025-10-23"])
        _ = try fixture.store.annotate(articleId: article.id, target: .range(0..<5), note: "zebra unicorn")
        _ = try fixture.store.annotate(articleId: article.id, target: .range(10..<15))

        let removed = try fixture.store.deleteArticle(id: article.id)

        #expect(removed == 2)
        #expect(try fixture.store.articles().count == 4)
        #expect(try fixture.store.statistics().articles == 4)
        #expect(try fixture.store.statistics().annotations == 0)
        #expect(try fixture.count("annotations") == 0)
        #expect(try fixture.count("bodies") == 4)
        let deletes = try fixture.store.changes().filter { $0.op == .delete }
        #expect(deletes.map(\.entity) == [.annotation, .annotation, .article])
        #expect(try fixture.store.search("zebra unicorn").isEmpty)
        #expect(try fixture.store.search("Zakharova").isEmpty)
        #expect(try fixture.store.integrityCheck() == ["ok"])
    }
}
