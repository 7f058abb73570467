import Foundation
import GRDB
import MarginCore
import MarginSchema
import MarginStore
import Testing

@Suite struct LibraryStoreQueryTests {
    @Test func searchIgnoresDiacriticsAndRanksPhrasesFirst() throws {
        let fixture = try StoreFixture()
        let articles = try fixture.importSeeds()

        let hits = try fixture.store.search("hoi nghi thuong dinh")
        let phrase = try fixture.store.search("dam phan")

        #expect(hits.count == 5)
        let phraseHolders = Set(["2025-10-23", "2025-10-17", "2025-10-20", "2025-11-22", "2025-10-03"].compactMap { articles[$0]?.id })
        #expect(hits.allSatisfy { phraseHolders.contains($0.id) })
        #expect(hits[0].snippet.contains("[hội nghị thượng đỉnh]"))
        #expect(phrase.contains { $0.snippet.contains("[đàm phán]") })
        #expect(try fixture.store.search("HỘI NGHỊ").count == hits.count)
    }

    @Test func searchFindsNotesAndTags() throws {
        let fixture = try StoreFixture()
        let article = try #require(try fixture.importSeeds()["2025-10-23"])
        let annotation = try fixture.store.annotate(
            articleId: article.id, target: .range(0..<5), note: "Cần kiểm chứng lại", tags: ["xác minh"])

        let byNote = try fixture.store.search("kiem chung").filter { $0.kind == .annotation }
        let byTag = try fixture.store.search("xac minh").filter { $0.kind == .annotation }

        #expect(byNote.map(\.id) == [annotation.id])
        #expect(byNote[0].kind == .annotation && byNote[0].snippet == "Cần [kiểm chứng] lại")
        #expect(byTag.map(\.id) == [annotation.id])
        #expect(throws: MarginError.self) { try fixture.store.search("…") }
    }

    @Test func listingsShowShortHandlesAndHandlesOrIdPrefixesResolve() throws {
        let fixture = try StoreFixture()
        let articles = try fixture.importSeeds()
        let article = try #require(articles["2025-10-23"])
        let annotation = try fixture.store.annotate(articleId: article.id, target: .range(0..<4))
        let ids = articles.values.map(\.id) + [annotation.id]
        let shown = try fixture.store.shortIds(ids)
        let short = try #require(shown[article.id])

        // Each is the shortest prefix of its handle no other record shares, at least three characters.
        for id in ids {
            let handle = Handle.of(id)
            let prefix = try #require(shown[id])
            #expect(handle.hasPrefix(prefix) && prefix.count >= Handle.minimumLength)
            let others = ids.filter { $0 != id }.map(Handle.of)
            #expect(!others.contains { $0.hasPrefix(prefix) })
            #expect(prefix.count == Handle.minimumLength || others.contains { $0.hasPrefix(String(prefix.dropLast())) })
        }
        #expect(try fixture.store.resolve(short) == .article(article.id))
        #expect(try fixture.store.resolve(short.uppercased()) == .article(article.id))
        #expect(try fixture.store.resolve(Handle.of(annotation.id), kinds: [.annotation]) == .annotation(annotation.id))
        // Ids and their prefixes are still accepted, with or without hyphens.
        let idPrefix = try #require(Identifier.canonicalPrefix(String(article.id.prefix(23))))
        #expect(try fixture.store.resolve(idPrefix.replacingOccurrences(of: "-", with: "").uppercased()) == .article(article.id))
        #expect(try fixture.store.resolve(article.id, kinds: [.article]) == .article(article.id))
        #expect {
            try fixture.store.resolve(String(article.id.prefix(8)))
        } throws: { error in
            let error = error as? MarginError
            return error?.code == .ambiguous && articles.values.allSatisfy { error!.message.contains($0.id) }
        }
        #expect { try fixture.store.resolve("ab") } throws: { ($0 as? MarginError)?.code == .invalidInput }
        #expect { try fixture.store.resolve("ab-u!") } throws: { ($0 as? MarginError)?.code == .invalidInput }
        #expect { try fixture.store.resolve(short, kinds: [.annotation]) } throws: { ($0 as? MarginError)?.code == .notFound }
    }

    @Test func tagFiltersSelectArticlesAndAnnotations() throws {
        let fixture = try StoreFixture()
        let articles = try fixture.importSeeds()
        let article = try #require(articles["2025-10-17"])
        _ = try fixture.store.editArticle(id: article.id, ArticleChanges(addTags: ["Alaska"]))
        let tagged = try fixture.store.annotate(articleId: article.id, target: .range(0..<4), tags: ["q"])
        _ = try fixture.store.annotate(articleId: article.id, target: .range(5..<9))

        #expect(try fixture.store.articles(tag: "Alaska").map(\.id) == [article.id])
        #expect(try fixture.store.annotations(tag: "q").map(\.annotation.id) == [tagged.id])
        #expect(try fixture.store.annotations(articleId: article.id).count == 2)
        #expect(try fixture.store.annotationCounts() == [article.id: 2])
    }
}

@Suite struct LibraryStoreFileTests {
    @Test func theStoreFileIsReadableByItsOwnerOnly() throws {
        let fixture = try StoreFixture()
        try fixture.importSeeds()
        let attributes = try FileManager.default.attributesOfItem(atPath: fixture.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        for suffix in ["-wal", "-shm"] where FileManager.default.fileExists(atPath: fixture.path + suffix) {
            let sidecar = try FileManager.default.attributesOfItem(atPath: fixture.path + suffix)
            #expect((sidecar[.posixPermissions] as? Int) == 0o600)
        }
    }

    @Test func aStoreFromANewerMarginIsRefusedUntouched() throws {
        let fixture = try StoreFixture()
        try fixture.rawDatabase().write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('client-999-future')")
        }
        #expect {
            try LibraryStore(path: fixture.path)
        } throws: { error in
            (error as? MarginError)?.code == .storeTooNew && "\(error)".contains("newer margin")
        }
    }

    @Test func aFileThatIsNotADatabaseIsRefusedUntouched() throws {
        let fixture = try StoreFixture()
        let path = try fixture.write("notes.sqlite", Array(String(repeating: "not a database ", count: 300).utf8))
        let before = try Data(contentsOf: URL(fileURLWithPath: path))

        #expect { try LibraryStore(path: path) } throws: { ($0 as? MarginError)?.code == .corruptStore }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }

    @Test func theStoreIsInWALModeAndReadingItWritesNothing() throws {
        let fixture = try StoreFixture()
        let path = fixture.directory.appendingPathComponent("closed.sqlite").path
        do {
            let store = try LibraryStore(path: path)
            _ = try store.importFiles([StoreFixture.seeds])
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))

        do {
            let reader = try LibraryStore(path: path)
            #expect(try reader.statistics().articles == 5)
            #expect(try reader.articles().count == 5)
        }

        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        let mode = try DatabaseQueue(path: path).read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
    }

    @Test func reopeningKeepsTheDeviceAndTheLog() throws {
        let fixture = try StoreFixture()
        try fixture.importSeeds()
        let device = try fixture.store.deviceId()

        let reopened = try LibraryStore(path: fixture.path)

        #expect(try reopened.deviceId() == device)
        #expect(try reopened.changes().count == 5)
    }

    @Test(arguments: [("client-", EmbeddedSchema.client), ("server-", EmbeddedSchema.server), ("postgres-", EmbeddedSchema.postgres)])
    func embeddedMigrationsMatchTheSchemaFolder(prefix: String, migrations: [EmbeddedSchema.Migration]) throws {
        let folder = StoreFixture.repositoryRoot.appendingPathComponent("Schema")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasPrefix(prefix) && $0.hasSuffix(".sql") }.sorted()

        #expect(migrations.map { $0.identifier + ".sql" } == files)
        for migration in migrations {
            let text = try String(contentsOf: folder.appendingPathComponent(migration.identifier + ".sql"), encoding: .utf8)
            #expect(migration.sql == text, "\(migration.identifier) differs from Schema/")
        }
    }

    @Test func theSchemaOnDiskIsWhatTheMigrationsCreate() throws {
        let fixture = try StoreFixture()
        let expected = try DatabaseQueue()
        try expected.write { db in
            for migration in EmbeddedSchema.client { try db.execute(sql: migration.sql) }
        }
        let schema = { (queue: DatabaseQueue) in
            try queue.read { db in
                try String.fetchAll(
                    db, sql: "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'grdb%' ORDER BY name")
            }
        }
        #expect(try schema(fixture.rawDatabase()) == schema(expected))
    }
}
