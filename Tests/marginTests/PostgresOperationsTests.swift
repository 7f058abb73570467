import Foundation
import MarginCore
import MarginTestSupport
import MarginWire
import Testing

/// Running on PostgreSQL: outages, migrations and moving a SQLite server's data over.
@Suite struct PostgresOperationsTests {
    /// A cluster of the test's own (it is stopped and started), cancelled like
    /// `ServerProcess.start` when PostgreSQL is not installed.
    private func privateCluster() throws -> PostgresCluster {
        try cancelledWithoutPostgres { try PostgresCluster() }
    }

    @Test func whenPostgreSQLGoesAwayRequestsFailClearlyAndTheServerRecoversWhenItReturns() throws {
        let cluster = try privateCluster()
        let server = try ServerProcess.start(database: try cluster.createDatabase(), arguments: ["--database-timeout", "2"])
        let token = try server.addUser("ana")
        let device = try server.device(token: token)
        try device.run(["import", MarginProcess.seeds])
        #expect(try device.run(["sync", "--quiet"]).status == 0)
        let article = try device.articleIds()[0]
        try device.run(["annotate", article, "--range", "0:10", "--note", "written during the outage"])

        try cluster.stop()
        let deviceId = try device.run(["status", "--json"]).json([String: Any].self)
        let started = Date()
        let reply = try server.post(
            "pull", body: PullRequest(cursor: 0, bound: nil, limit: 10).jsonBytes, token: token,
            deviceId: try #require(deviceId["deviceId"] as? String))
        #expect(reply.status == 503)
        #expect((try? ErrorResponse(jsonBytes: reply.body))?.error.code == "unavailable")
        let failed = try device.run(["sync", "--timeout", "8"])
        #expect(Date().timeIntervalSince(started) < 20, "a request must fail, not hang")
        #expect(failed.status == 5)
        #expect(failed.stderr.contains("PostgreSQL"), "\(failed.stderr)")
        #expect(!failed.stderr.contains("written during the outage"))

        // Back up: the same server process serves again, and the edit made it.
        try cluster.start()
        let recovered = try device.run(["sync", "--json", "--timeout", "30"])
        #expect(recovered.status == 0, "\(recovered.stderr)")
        #expect((try recovered.json([String: Any].self))["pushed"] as? Int == 1)
        #expect(try server.users().first?["records"] as? Int == 6)
    }

    @Test func theFirstCommandOnANewDatabaseMigratesItAndPrintsOnlyItsOutput() throws {
        let database = try ServerProcess.postgresDatabase()
        let added = try MarginProcess.launch(ServerProcess.executable.path, ["user", "add", "ana", "--database", database])
        #expect(added.status == 0, "\(added.stderr)")
        #expect(added.stderr.isEmpty)
        let lines = added.stdout.split(separator: "\n")
        #expect(lines.count == 1 && !lines[0].contains(" "), "\(added.stdout)")
        let migrated = try MarginProcess.launch(ServerProcess.executable.path, ["migrate", "--database", database])
        #expect(migrated.stdout.contains("is up to date"), "\(migrated.stdout)")
    }

    @Test func aServerRefusesADatabaseMigratedByANewerOne() throws {
        let database = try ServerProcess.postgresDatabase()
        _ = try ServerProcess.start(database: database)
        _ = try PostgresCluster.shared.get().psql(
            database, "INSERT INTO margin_migrations (identifier, applied_at) VALUES ('postgres-999-future', 0)")
        let refused = try MarginProcess.launch(ServerProcess.executable.path, ["user", "list", "--database", database])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("migrated by a newer margin-server"), "\(refused.stderr)")
    }

    @Test func aSQLiteServersLibraryMovesToPostgreSQLWithoutAnyDeviceResyncing() throws {
        let sqlite = try ServerProcess.start(.sqlite)
        let laptop = try sqlite.device(token: try sqlite.addUser("ana"))
        let desktop = try sqlite.device(token: try sqlite.issueToken("ana"))
        _ = try sqlite.addUser("ben")
        try sqlite.administer(["user", "revoke", "ben"])
        try laptop.run(["import", MarginProcess.seeds])
        let article = try laptop.articleIds()[0]
        let doomed = try laptop.run(["annotate", article, "--range", "0:10", "--note", "to delete"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try laptop.run(["annotate", article, "--range", "20:30", "--note", "tab\tnewline\nbackslash\\ kept"])
        for device in [laptop, desktop, laptop] { #expect(try device.run(["sync", "--quiet"]).status == 0) }
        try laptop.run(["delete", doomed])
        #expect(try laptop.run(["sync", "--quiet"]).status == 0)
        let usersBefore = try sqlite.users()
        sqlite.stop()

        let postgres = try ServerProcess.postgresDatabase()
        let copy = try MarginProcess.launch(
            ServerProcess.executable.path, ["migrate", "--from", sqlite.database, "--database", postgres])
        #expect(copy.status == 0, "\(copy.stderr)")
        #expect(copy.stdout.contains("2 users, 3 tokens, 1 devices, 7 records, 0 aliases, 5 bodies"), "\(copy.stdout)")
        let again = try MarginProcess.launch(
            ServerProcess.executable.path, ["migrate", "--from", sqlite.database, "--database", postgres])
        #expect(again.status == 1)
        #expect(again.stderr.contains("already holds users"), "\(again.stderr)")

        let server = try ServerProcess.start(database: postgres)
        #expect(try NSArray(array: server.users()) == NSArray(array: usersBefore))
        for device in [laptop, desktop] {
            let tokenFile = device.directory.appendingPathComponent("token").path
            try device.run(["remote", "set", server.url, "--token-file", tokenFile])
        }
        // The desktop pulls only what it had not seen (the delete); nothing is re-sent.
        let caughtUp = try desktop.run(["sync", "--json"])
        #expect(caughtUp.status == 0, "\(caughtUp.stderr)")
        let report = try caughtUp.json([String: Any].self)
        #expect(report["pushed"] as? Int == 0)
        #expect(report["pulled"] as? Int == 1)
        let noop = try laptop.run(["sync", "--json"]).json([String: Any].self)
        #expect(noop["pulled"] as? Int == 0)
        #expect(noop["requests"] as? Int == 1)
        let notes = (try desktop.run(["annotations", "--json"]).json([[String: Any]].self)).compactMap { $0["note"] as? String }
        #expect(notes == ["tab\tnewline\nbackslash\\ kept"])
        // New users get ids after the copied ones.
        #expect(try server.administer(["user", "add", "cleo"]).status == 0)
        #expect(try server.users().map { $0["name"] as? String } == ["ana", "ben", "cleo"])
    }
}
