import Foundation
import MarginCore
import MarginTestSupport
import MarginWire
import Testing

/// What a self-hoster's tooling asks of a running server: readiness that follows the
/// database, and `margin-server healthcheck` for container health checks.
@Suite struct ServerOperationsTests {
    /// `margin-server ARGUMENTS…` without a database. Its output goes through files, not
    /// pipes: a server another test starts meanwhile could inherit a pipe's end and hold it open.
    static func marginServer(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("margin-healthcheck-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let (output, errors) = (folder.appendingPathComponent("stdout"), folder.appendingPathComponent("stderr"))
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        let child = Process()
        child.executableURL = ServerProcess.executable
        child.arguments = arguments
        child.standardOutput = try FileHandle(forWritingTo: output)
        child.standardError = try FileHandle(forWritingTo: errors)
        try child.run()
        child.waitUntilExit()
        return (child.terminationStatus, try String(contentsOf: output, encoding: .utf8), try String(contentsOf: errors, encoding: .utf8))
    }

    /// Polls `/readyz` until it answers `status`, for at most `seconds`.
    static func waitForReadiness(_ server: ServerProcess, status: Int, seconds: Int = 20) throws -> Bool {
        let deadline = Date().addingTimeInterval(TimeInterval(seconds))
        while Date() < deadline {
            if try RawHTTP.send("GET", "/readyz", port: server.port).status == status { return true }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return false
    }

    @Test func readinessFollowsTheDatabase() throws {
        let server = try ServerProcess.start(.postgres, arguments: ["--database-timeout", "2"])
        let cluster = try PostgresCluster.shared.get()
        let name = String(server.database.split(separator: "/").last!.split(separator: "?").first!)
        let maintenance = server.database.replacingOccurrences(of: "/\(name)?", with: "/postgres?")
        let readyz = "\(server.url)/readyz"

        #expect(try RawHTTP.send("GET", "/readyz", port: server.port).status == 200)
        let ready = try Self.marginServer(["healthcheck", "--url", readyz])
        #expect(ready.status == 0 && ready.stdout == "ready\n", "\(ready.stderr)")

        // The database goes away: readiness says so, liveness does not.
        try cluster.psql(maintenance, "ALTER DATABASE \(name) ALLOW_CONNECTIONS false")
        try cluster.psql(maintenance, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(name)'")
        #expect(try Self.waitForReadiness(server, status: 503))
        #expect(try RawHTTP.send("GET", "/healthz", port: server.port).status == 200)
        let down = try Self.marginServer(["healthcheck", "--url", readyz])
        #expect(down.status == 1)
        #expect(down.stderr == "error: \(readyz) answered 503: the database cannot be reached\n")

        try cluster.psql(maintenance, "ALTER DATABASE \(name) ALLOW_CONNECTIONS true")
        #expect(try Self.waitForReadiness(server, status: 200))
    }

    @Test func healthcheckSaysWhyInOneLine() throws {
        let server = try ServerProcess.start(.sqlite)
        #expect(try Self.marginServer(["healthcheck", "--url", "\(server.url)/readyz"]).status == 0)
        #expect(try Self.marginServer(["healthcheck", "--url", "\(server.url)/healthz"]).status == 0)
        let port = server.port
        server.stop()

        let closed = try Self.marginServer(["healthcheck", "--url", "http://127.0.0.1:\(port)/readyz", "--timeout", "2"])
        #expect(closed.status == 1)
        #expect(closed.stderr.hasPrefix("error: http://127.0.0.1:\(port)/readyz: cannot connect to 127.0.0.1:\(port)"), "\(closed.stderr)")
        #expect(closed.stderr.split(separator: "\n").count == 1)
        let usage = try Self.marginServer(["healthcheck", "--url", "https://example.org/readyz"])
        #expect(usage.status == 64)
    }

    /// A server started on a new store migrates it before anything else uses it: tombstone
    /// compaction, which runs beside the server, waits until the server listens, and then
    /// purges without an error in the log.
    @Test(arguments: ServerProcess.Backend.allCases)
    func aServerOnANewStoreMigratesItBeforeCompacting(_ backend: ServerProcess.Backend) throws {
        let logs = try MarginProcess()
        let log = logs.directory.appendingPathComponent("server.log")
        let server = try ServerProcess.start(backend, arguments: ["--tombstone-retention", "1"], logLevel: "info", log: log)
        let device = try server.device(token: try server.addUser("tidy"))
        try device.run(["import", MarginProcess.seeds])
        let article = try device.articleIds()[0]
        #expect(try device.run(["sync", "--quiet"]).status == 0)
        try device.run(["delete", article])
        #expect(try device.run(["sync", "--quiet"]).status == 0)
        let deadline = Date().addingTimeInterval(20)
        while try !String(contentsOf: log, encoding: .utf8).contains("compacted tombstones"), Date() < deadline {
            Thread.sleep(forTimeInterval: 0.2)
        }
        server.stop()

        let lines = try String(contentsOf: log, encoding: .utf8).split(separator: "\n")
        #expect(lines.contains { $0.contains("compacted tombstones") }, "\(lines)")
        #expect(!lines.contains { $0.contains(" error ") || $0.contains(" critical ") }, "\(lines)")
    }

    /// `serve` on a PostgreSQL database that does not answer ends with one line and status 1.
    @Test func serveSaysInOneLineThatPostgreSQLDoesNotAnswer() throws {
        let served = try Self.marginServer([
            "serve", "--listen", "127.0.0.1:0", "--database", "postgres://nobody@127.0.0.1:1/none?sslmode=disable", "--database-timeout", "1",
        ])
        #expect(served.status == 1)
        #expect(served.stdout.isEmpty)
        #expect(
            served.stderr == "error: PostgreSQL at postgres://nobody@127.0.0.1:1/none did not answer within 1.0 seconds "
                + "(is it running and reachable?); try again later\n", "\(served.stderr)")
    }

    /// A server that says how long to wait (429 with `Retry-After: 60` once an address has
    /// failed to authenticate too often) is taken at its word: one attempt, no retries
    /// hammering it, and the sync says why it stopped.
    @Test func syncHonoursRetryAfter() throws {
        let server = try ServerProcess.start(.sqlite, arguments: ["--failed-auth-limit", "1"])
        let device = try server.device(token: try server.addUser("patient"))
        let forged = ["Authorization: Bearer mgn_\(String(repeating: "2", count: 64))", "Margin-Protocol: \(SyncProtocol.version)",
                      "Margin-Device: 01900000-0000-7000-8000-0000000000e1", "Content-Type: application/json"]
        #expect(try RawHTTP.send("POST", "/v1/pull", port: server.port, headers: forged, body: Array(#"{"cursor": 0}"#.utf8)).status == 401)
        let limited = try RawHTTP.send("POST", "/v1/pull", port: server.port, headers: forged, body: Array(#"{"cursor": 0}"#.utf8))
        #expect(limited.status == 429)
        #expect(limited.headers["retry-after"] == "60")

        let result = try device.run(["sync", "--timeout", "20"])

        #expect(result.status != 0)
        #expect(result.stderr.contains("(gave up after 1 attempts within --timeout; the server asked to wait 60 s)"), "\(result.stderr)")
    }

    /// `margin-server device list` shows each device's first and last use and pushes, and
    /// `device revoke` stops one lost machine while the user's others go on syncing.
    @Test(arguments: ServerProcess.Backend.allCases)
    func oneDeviceIsListedAndRevokedAlone(_ backend: ServerProcess.Backend) throws {
        let server = try ServerProcess.start(backend)
        let (laptop, desktop) = try server.twoDevices(of: "ada")
        _ = try server.issueToken("ada")  // for a machine not set up yet
        try laptop.run(["import", MarginProcess.seeds])
        try laptop.syncQuietly()
        try desktop.syncQuietly()
        let laptopId = try #require((try laptop.run(["status", "--json"]).json([String: Any].self))["deviceId"] as? String)
        let desktopId = try #require((try desktop.run(["status", "--json"]).json([String: Any].self))["deviceId"] as? String)

        let devices = try server.devices(of: "ada")

        #expect(devices.map { $0["deviceId"] as? String } == [laptopId, desktopId, nil])
        for device in devices.prefix(2) {
            let first = try #require(device["firstSeenAt"] as? Int64)
            let last = try #require(device["lastSeenAt"] as? Int64)
            #expect(try first >= #require(device["tokenCreatedAt"] as? Int64) && last >= first)
            #expect(device["revokedAt"] == nil)
        }
        #expect(devices[0]["changesPushed"] as? Int64 == 5)
        #expect(devices[0]["lastPushAt"] is Int64)
        #expect(devices[1]["changesPushed"] as? Int64 == 0)
        #expect(devices[1]["lastPushAt"] == nil)
        #expect(devices[2]["firstSeenAt"] == nil)
        let lines = try server.administer(["device", "list", "ada"]).stdout.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("\(laptopId)\tfirst seen 20") && lines[0].contains("\tchanges 5\tactive"), "\(lines[0])")
        #expect(lines[2].hasPrefix("(token not used yet)\tissued 20"), "\(lines[2])")

        // The laptop is lost: revoking it by a prefix of its id stops it, and only it.
        let revoked = try server.administer(["device", "revoke", String(laptopId.prefix(13)).uppercased()])
        #expect(revoked.status == 0 && revoked.stdout == "revoked the token of device \(laptopId)\n", "\(revoked)")
        #expect(try laptop.run(["sync"]).status == 4)
        let articles = try desktop.articleIds()
        _ = try desktop.annotate(articles[0], range: "0:10", note: "still syncing")
        try desktop.syncQuietly()
        let after = try server.devices(of: "ada")
        #expect(after[0]["revokedAt"] is Int64)
        #expect(after[1]["revokedAt"] == nil && after[1]["changesPushed"] as? Int64 == 1)

        // A prefix too short, or naming no device, is refused in one line and revokes nothing.
        let short = try server.administer(["device", "revoke", "019"])
        #expect(short.status == 1 && short.stderr == "error: give at least 4 characters of the device's id\n", "\(short)")
        let unknown = try server.administer(["device", "revoke", "ffffffff"])
        #expect(unknown.status == 1 && unknown.stderr.hasPrefix("error: no device id starts with 'ffffffff'"), "\(unknown)")
        let nobody = try server.administer(["device", "list", "grace"])
        #expect(nobody.status == 1 && nobody.stderr == "error: no user named 'grace'\n", "\(nobody)")
        try desktop.syncQuietly()
    }

    /// Behind a trusted reverse proxy, failed authentications are counted per client (the
    /// address the proxy appends to X-Forwarded-For), so one client's failures do not lock
    /// out everyone behind the proxy, and a client cannot escape the limit by writing the
    /// header itself. Without --trusted-proxy the header is ignored.
    @Test func failedAuthenticationsAreCountedPerClientBehindATrustedProxy() throws {
        func attempt(_ server: ServerProcess, forwardedFor: String) throws -> Int {
            let headers = [
                "Authorization: Bearer mgn_\(String(repeating: "3", count: 64))", "Margin-Protocol: \(SyncProtocol.version)",
                "Margin-Device: 01900000-0000-7000-8000-0000000000e2", "Content-Type: application/json",
                "X-Forwarded-For: \(forwardedFor)",
            ]
            return try RawHTTP.send("POST", "/v1/pull", port: server.port, headers: headers, body: Array(#"{"cursor": 0}"#.utf8)).status
        }
        let proxied = try ServerProcess.start(.sqlite, arguments: ["--failed-auth-limit", "1", "--trusted-proxy", "127.0.0.1"])

        #expect(try attempt(proxied, forwardedFor: "198.51.100.7") == 401)
        #expect(try attempt(proxied, forwardedFor: "198.51.100.7") == 429)
        #expect(try attempt(proxied, forwardedFor: "203.0.113.1, 198.51.100.7") == 429)  // a forged left part changes nothing
        #expect(try attempt(proxied, forwardedFor: "198.51.100.8") == 401)  // another client behind the same proxy

        let direct = try ServerProcess.start(.sqlite, arguments: ["--failed-auth-limit", "1"])
        #expect(try attempt(direct, forwardedFor: "198.51.100.7") == 401)
        #expect(try attempt(direct, forwardedFor: "198.51.100.8") == 429)

        let refused = try Self.marginServer(["serve", "--trusted-proxy", "localhost"])
        #expect(refused.status == 64 && refused.stderr.contains("--trusted-proxy: 'localhost' is not an IP address"), "\(refused)")
    }
}
