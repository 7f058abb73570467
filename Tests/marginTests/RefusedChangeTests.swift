import Foundation
import GRDB
import MarginCore
import MarginSync
import MarginTestSupport
import Testing

@testable import MarginStore

/// A change the server refuses never holds back the others: it is parked with its reason,
/// the sync says so in one line with status 8, and the user fixes it (edits the record
/// again) or discards it.
@Suite struct RefusedChangeTests {
    /// A store written as an earlier margin could write it: changes the rulebook now
    /// refuses, logged without it.
    private func writeAsAnEarlierMargin(_ device: MarginProcess, title: String, of article: String, bigBody: String) throws -> String {
        try writeAsAnEarlierMargin(device, title: title, of: article)
        let store = try LibraryStore(path: device.store)
        let time = Timestamp.now()
        return try store.mutate { db, recorder in
            let big = Article(
                id: Identifier.make(at: time), title: "A book", published: nil, source: "book.txt",
                contentHash: ContentHash.of(bigBody), captions: [], tags: [], createdAt: time, updatedAt: time)
            try big.insert(db, body: bigBody, searchableBody: SearchText.searchable(bigBody))
            try recorder.record(db, .article, id: big.id, .create, old: nil, new: big.fieldValues, baseVersion: 0, resending: true)
            return big.id
        }
    }

    /// An edit of an article's title as an earlier margin could log it.
    private func writeAsAnEarlierMargin(_ device: MarginProcess, title: String, of article: String) throws {
        try LibraryStore(path: device.store).mutate { db, recorder in
            let old = try #require(try Article.fetchOne(db, id: article))
            var new = old
            new.title = title
            try new.update(db, old: old)
            try recorder.record(
                db, .article, id: article, .update, old: old.fieldValues, new: new.fieldValues,
                baseVersion: try Article.version(db, id: article), resending: true)
        }
    }

    private func rejected(_ device: MarginProcess) throws -> [[String: Any]] {
        try device.run(["log", "--rejected", "--json"]).json([[String: Any]].self)
    }

    private func title(_ device: MarginProcess, _ article: String) throws -> String? {
        (try device.run(["list", "--json"]).json([[String: Any]].self)).first { $0["id"] as? String == article }?["title"] as? String
    }

    @Test(arguments: ServerProcess.Backend.allCases)
    func refusedChangesAreParkedWhileEverythingElseSyncsAndAreFixedOrDiscarded(_ backend: ServerProcess.Backend) throws {
        let server = try ServerProcess.start(backend)
        let (laptop, desktop) = try server.twoDevicesWithTheSeeds(of: "ana")
        let articles = try laptop.articleIds()
        let original = try #require(try title(laptop, articles[0]))

        // An earlier margin accepted a 5,000-character title and a 3 MB body; a change made
        // after them must still reach the other machine.
        let book = try writeAsAnEarlierMargin(
            laptop, title: String(repeating: "x", count: 5_000), of: articles[0], bigBody: String(repeating: "page ", count: 600_000))
        let note = try laptop.annotate(articles[1], range: "0:10", note: "made after the refused ones")

        let parked = try laptop.run(["sync", "--quiet"])
        #expect(parked.status == 8)
        #expect(parked.stdout.isEmpty)
        #expect(parked.stderr.split(separator: "\n").count == 1)
        #expect(parked.stderr.contains("the server refused 2 change(s), parked"), "\(parked.stderr)")
        let reasons = try rejected(laptop).map { $0["reason"] as? String }
        #expect(reasons == [
            "field 'title' has 5000 characters; at most 4096 are allowed",
            "the article body has 3000000 bytes; at most 2097152 (2 MiB) are allowed",
        ])
        let status = try laptop.run(["status", "--json"]).json([String: Any].self)
        #expect(status["rejected"] as? Int == 2)
        #expect(status["pendingChanges"] as? Int == 0)
        // The refused edit left the article as the server has it; the refused create stays here.
        #expect(try title(laptop, articles[0]) == original)
        #expect(try laptop.articleIds().contains(book))

        try desktop.syncQuietly()
        #expect(try desktop.annotation(note)["note"] as? String == "made after the refused ones")
        #expect(try title(desktop, articles[0]) == original)
        #expect(try !desktop.articleIds().contains(book))

        // Fixed by editing the record again: the parked edit is settled, without a conflict.
        #expect(try laptop.run(["edit", articles[0], "--title", "A title that fits"]).status == 0)
        try laptop.syncQuietly()
        try desktop.syncQuietly()
        #expect(try title(desktop, articles[0]) == "A title that fits")
        #expect(try rejected(laptop).count == 1)

        // Discarded: the article the server never had leaves this machine too.
        let seq = try #require(try rejected(laptop).first?["seq"] as? Int)
        let discard = try laptop.run(["discard", String(seq)])
        #expect(discard.status == 0, "\(discard.stderr)")
        try laptop.syncQuietly()
        try desktop.syncQuietly()
        #expect(try rejected(laptop).isEmpty)
        #expect(try laptop.state().library == desktop.state().library)
        #expect(try laptop.state().conflicts.count == 0)
        let gone = try laptop.run(["discard", String(seq)])
        #expect(gone.status == 1)
        #expect(gone.stderr == "margin: no refused change #\(seq); see margin log --rejected\n")
    }

    @Test func aBodyAtTheLimitTravelsEvenWhenEveryCharacterIsEscaped() throws {
        let server = try ServerProcess.start()
        let (laptop, desktop) = try server.twoDevices(of: "ana")
        // 2 MiB of control characters, six bytes each in JSON: the largest push there can be.
        let body = "A book of marks. " + String(repeating: "\u{1}", count: RecordRules.body.maximum - 17)
        let file = laptop.directory.appendingPathComponent("marks.txt")
        try Data(body.utf8).write(to: file)
        #expect(try laptop.run(["import", file.path]).status == 0)
        try laptop.syncQuietly()
        try desktop.syncQuietly()
        let article = try #require(try desktop.articleIds().first)
        let shown = try desktop.run(["show", article, "--json"]).json([String: Any].self)
        #expect((shown["body"] as? String)?.utf8.count == RecordRules.body.maximum)
    }

    @Test func aRefusedCreateHoldsBackTheChangesThatNeedItWithItsReason() throws {
        let server = try ServerProcess.start()
        let laptop = try server.device(token: try server.addUser("ana"))
        try laptop.run(["import", MarginProcess.seeds])
        try laptop.syncQuietly()
        let articles = try laptop.articleIds()
        let book = try writeAsAnEarlierMargin(
            laptop, title: "A short title", of: articles[0], bigBody: String(repeating: "page ", count: 600_000))
        // An annotation on the refused article cannot reach the server either.
        let annotation = try laptop.annotate(book, range: "0:4", note: "on the book")

        #expect(try laptop.run(["sync"]).status == 8)
        let parked = try rejected(laptop)
        #expect(parked.map { $0["entityId"] as? String } == [book, annotation])
        #expect(parked.last?["reason"] as? String == "its article is not on the server (the article body has 3000000 bytes; at most 2097152 (2 MiB) are allowed)")
        // Nothing is pending, so the next sync has nothing to retry.
        let again = try laptop.run(["sync", "--json"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect((try again.json([String: Any].self))["pushed"] as? Int == 0)
    }

    /// Parking a refused edit rewrites the later edits of its fields in the log: their old
    /// values become what the server kept. A push reads its next batch while the server
    /// stores the current one, so after a reply that refuses something it reads that batch
    /// again; sent as first read, the later edit would reach the server as a conflict with
    /// the refused value.
    @Test func anEditInTheBatchAfterARefusedOneAppliesWithoutAConflict() throws {
        let server = try ServerProcess.start()
        let token = try server.addUser("ana")
        let laptop = try server.device(token: token)
        try laptop.run(["import", MarginProcess.seeds])
        try laptop.syncQuietly()
        let article = try laptop.articleIds()[0]
        try writeAsAnEarlierMargin(laptop, title: String(repeating: "x", count: 5_000), of: article)
        #expect(try laptop.run(["edit", article, "--title", "A title that fits"]).status == 0)

        let store = try LibraryStore(path: laptop.store)
        var oneAtATime = SyncOptions()
        oneAtATime.pushBatchCount = 1
        let report = try SyncEngine(
            store: store, remote: RemoteSettings(url: server.url, tokenFile: nil, insecure: false), token: token, options: oneAtATime
        ).run()

        #expect(report.pushed == 2)
        #expect(report.outcomes == [.rejected: 1, .applied: 1])
        #expect(report.newConflicts.isEmpty)
        let desktop = try server.device(token: try server.issueToken("ana"))
        try desktop.syncQuietly()
        #expect(try title(desktop, article) == "A title that fits")
        #expect(try desktop.state().conflicts.count == 0)
    }
}
