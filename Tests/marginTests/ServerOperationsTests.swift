import Foundation
import MarginCore
import MarginTestSupport
import Testing

/// What a self-hoster's tooling asks of a running server: readiness that follows the
/// database, and `margin-server healthcheck` for container health checks.
@Suite struct ServerOperationsTests {
    /// `margin-server healthcheck ARGUMENTS…`. Its output goes through files, not pipes: a
    /// server another test starts meanwhile could inherit a pipe's end and hold it open.
    static func healthcheck(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("margin-healthcheck-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let (output, errors) = (folder.appendingPathComponent("stdout"), folder.appendingPathComponent("stderr"))
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        let child = Process()
        child.executableURL = ServerProcess.executable
        child.arguments = ["healthcheck"] + arguments
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
        let ready = try Self.healthcheck(["--url", readyz])
        #expect(ready.status == 0 && ready.stdout == "ready\n", "\(ready.stderr)")

        // The database goes away: readiness says so, liveness does not.
        try cluster.psql(maintenance, "ALTER DATABASE \(name) ALLOW_CONNECTIONS false")
        try cluster.psql(maintenance, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(name)'")
        #expect(try Self.waitForReadiness(server, status: 503))
        #expect(try RawHTTP.send("GET", "/healthz", port: server.port).status == 200)
        let down = try Self.healthcheck(["--url", readyz])
        #expect(down.status == 1)
        #expect(down.stderr == "error: \(readyz) answered 503: the database cannot be reached\n")

        try cluster.psql(maintenance, "ALTER DATABASE \(name) ALLOW_CONNECTIONS true")
        #expect(try Self.waitForReadiness(server, status: 200))
    }

    @Test func healthcheckSaysWhyInOneLine() throws {
        let server = try ServerProcess.start(.sqlite)
        #expect(try Self.healthcheck(["--url", "\(server.url)/readyz"]).status == 0)
        #expect(try Self.healthcheck(["--url", "\(server.url)/healthz"]).status == 0)
        let port = server.port
        server.stop()

        let closed = try Self.healthcheck(["--url", "http://127.0.0.1:\(port)/readyz", "--timeout", "2"])
        #expect(closed.status == 1)
        #expect(closed.stderr.hasPrefix("error: http://127.0.0.1:\(port)/readyz: cannot connect to 127.0.0.1:\(port)"), "\(closed.stderr)")
        #expect(closed.stderr.split(separator: "\n").count == 1)
        let usage = try Self.healthcheck(["--url", "https://example.org/readyz"])
        #expect(usage.status == 64)
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
}
