import Foundation
import MarginCore
import MarginStore
import Testing

@Suite struct LibraryStoreImportTests {
    @Test func importingTheSeedsTwiceSkipsAllFiveTheSecondTime() throws {
        let fixture = try StoreFixture()

        let first = try fixture.store.importFiles([StoreFixture.seeds])
        let second = try fixture.store.importFiles([StoreFixture.seeds])

        #expect(first.imported.count == 5)
        #expect(first.failures.isEmpty)
        #expect(second.imported.isEmpty)
        #expect(second.skipped.count == 5)
        #expect(Set(second.skipped.map(\.existingId)) == Set(first.imported.map(\.id)))
        #expect(try fixture.store.articles().count == 5)
        #expect(try fixture.store.changes().count == 5)
    }

    @Test func importedArticlesKeepDatesTitlesCaptionsAndSource() throws {
        let fixture = try StoreFixture()
        let articles = try fixture.importSeeds()

        let article = try #require(articles["2025-10-03"])
        #expect(article.source == "004_e0e308906b95cf95.txt")
        #expect(article.captions.count == 2)
        #expect(article.title.hasPrefix("Theo Thứ trưởng Bộ Ngoại giao Nga Sergei Ryabkov"))
        let detail = try fixture.store.articleDetail(id: article.id)
        #expect(!detail.body.string.contains("(Ảnh:"))
        #expect(article.contentHash == ContentHash.of(detail.body.string))
        #expect(try fixture.store.articles().map(\.published?.description) == [
            "2025-11-22", "2025-10-23", "2025-10-20", "2025-10-17", "2025-10-03",
        ])
    }

    @Test func badFilesAreReportedAndTheRestOfTheBatchImports() throws {
        let fixture = try StoreFixture()
        let folder = fixture.directory.appendingPathComponent("batch")
        try fixture.write("batch/000.txt", [UInt8](try Data(contentsOf: URL(fileURLWithPath: StoreFixture.seeds + "/000_ce75f4c29c345759.txt"))))
        try fixture.write("batch/nested/002.txt", [UInt8](try Data(contentsOf: URL(fileURLWithPath: StoreFixture.seeds + "/002_86c17f319f38c786.txt"))))
        try fixture.write("batch/nested/deeper/latin1.txt", [0x43, 0x61, 0x66, 0xE9])
        try fixture.write("batch/empty.md", [])
        try fixture.write("batch/scan.pdf", Array("%PDF-1.7".utf8))
        try fixture.write("batch/nested/notes.md", Array("# Ghi chú\n\nMột đoạn văn.".utf8))
        try fixture.write("batch/.hidden.txt", Array("ignored".utf8))

        let report = try fixture.store.importFiles([folder.path, fixture.directory.appendingPathComponent("missing").path])

        #expect(report.imported.count == 3)
        #expect(report.failures.count == 4)
        let messages = report.failures.map(\.message)
        #expect(messages.contains { $0.hasSuffix("latin1.txt: not valid UTF-8 text; convert it to UTF-8 and import again") })
        #expect(messages.contains { $0.hasSuffix("empty.md: empty file") })
        #expect(messages.contains { $0.contains("scan.pdf: not a known format") })
        #expect(messages.contains { $0.hasSuffix("missing: no such file or folder") })
        #expect(!messages.contains { $0.contains(".hidden") })
    }

    @Test func jsonExportReimportsToAnIdenticalLibrary() throws {
        let fixture = try StoreFixture()
        let articles = try fixture.importSeeds()
        let article = try #require(articles["2025-10-23"])
        _ = try fixture.store.annotate(
            articleId: article.id, target: .quote("hội nghị thượng đỉnh", occurrence: 2), note: "ghi chú\ndòng hai",
            tags: ["summit", "nga"], color: .green)
        _ = try fixture.store.annotate(articleId: article.id, target: .range(0..<5))
        _ = try fixture.store.editArticle(id: article.id, ArticleChanges(addTags: ["đọc sau"]))
        let exported = try fixture.store.exportLibrary()
        let file = try fixture.write("export.json", [UInt8](try exported.encoded()))

        let copy = try fixture.otherStore("copy.sqlite")
        let report = try copy.importFiles([file])

        #expect(report.failures.isEmpty)
        #expect(report.exports.importedArticles == 5)
        #expect(report.exports.importedAnnotations == 2)
        let reexported = try copy.exportLibrary()
        #expect(reexported.articles == exported.articles)
        #expect(reexported.annotations == exported.annotations)
        #expect(try copy.changes().count == 7)

        let again = try fixture.store.importFiles([file])
        #expect(again.exports.skippedArticles == 5)
        #expect(again.exports.skippedAnnotations == 2)
        #expect(again.exports.importedAnnotations == 0)
    }

    @Test func exportedAnnotationsAttachToTheSameArticleImportedUnderAnotherId() throws {
        let fixture = try StoreFixture()
        let article = try #require(try fixture.importSeeds()["2025-10-20"])
        let annotation = try fixture.store.annotate(articleId: article.id, target: .quote("Marco Rubio", occurrence: 1))
        let file = try fixture.write("export.json", [UInt8](try fixture.store.exportLibrary().encoded()))
        let other = try fixture.otherStore("other.sqlite")
        let ownCopy = try other.importFiles([StoreFixture.seeds + "/003_4a61cf19eb0ae3c9.txt"]).imported[0]

        _ = try other.importFiles([file])

        let listings = try other.annotations(articleId: ownCopy.id)
        #expect(listings.map(\.annotation.id) == [annotation.id])
        #expect(listings[0].anchor == Anchor(state: .anchored, range: annotation.selectors.start..<annotation.selectors.end))
    }

    @Test func brokenExportChangesNothing() throws {
        let fixture = try StoreFixture()
        try fixture.importSeeds()
        var export = try fixture.store.exportLibrary()
        let copy = try fixture.otherStore("copy.sqlite")
        export.articles[3].body += " tampered"
        let file = try fixture.write("bad.json", [UInt8](try export.encoded()))

        let report = try copy.importFiles([file])

        #expect(report.failures.count == 1)
        #expect(report.failures[0].message.contains("articles[3]: contentHash does not match"))
        #expect(try copy.articles().isEmpty)
        #expect(try copy.changes().isEmpty)
    }

    @Test func jsonThatIsNotAnExportOrIsFromTheFutureIsRefused() throws {
        let fixture = try StoreFixture()
        let other = try fixture.write("package.json", Array(#"{"name": "x", "version": "1.0"}"#.utf8))
        let future = try fixture.write("future.json", Array(#"{"format": "marginalia-library", "version": 99}"#.utf8))
        let broken = try fixture.write("broken.json", Array(#"{"format": "marginalia-library", "version": 1, "exportedAt": "2025-10-23T07:55:30.123Z", "articles": 3}"#.utf8))

        let report = try fixture.store.importFiles([other, future, broken])

        let messages = report.failures.map(\.message)
        #expect(messages.count == 3, "\(messages)")
        #expect(messages.contains { $0.contains("package.json: a JSON file that is not a margin export") })
        #expect(messages.contains { $0.contains("future.json: the export's version is missing or newer") })
        #expect(messages.contains { $0.contains("broken.json: not a valid margin export: articles: wrong type") })
        #expect(try fixture.store.changes().isEmpty)
    }

    @Test func annotationWhosePassageIsGoneImportsAsAnOrphan() throws {
        let fixture = try StoreFixture()
        let article = try #require(try fixture.importSeeds()["2025-10-20"])
        var export = try fixture.store.exportLibrary()
        export.annotations = [Annotation(
            id: Identifier.make(), articleId: article.id,
            selectors: TextSelectors(start: 10, end: 30, exact: "một câu không hề có trong bài", prefix: "", suffix: ""),
            note: "", tags: [], color: .yellow, createdAt: .now(), updatedAt: .now())]
        let file = try fixture.write("orphan.json", [UInt8](try export.encoded()))

        _ = try fixture.store.importFiles([file])

        let orphans = try fixture.store.annotations(states: [.orphaned])
        #expect(orphans.count == 1)
        #expect(orphans[0].anchor == .orphan)
        #expect(try fixture.store.statistics().orphans == 1)
    }
}
