import Foundation
import MarginCore
import MarginStore
import MarginTestSupport
import MarginWire
import Testing

/// README, "How sync keeps its promises", secrets: every endpoint but `/healthz` and
/// `/readyz` needs a token, stores and token files are the owner's alone, and no token or
/// note text reaches a log or an error.
@Suite struct SecurityTests {
    static let device = "01900000-0000-7000-8000-0000000000d1"

    /// Every documented method and path, from Schema/openapi.json.
    static func operations() throws -> [(method: String, path: String)] {
        let document = try JSONSerialization.jsonObject(
            with: Data(contentsOf: MarginProcess.repositoryRoot.appendingPathComponent("Schema/openapi.json"))) as? [String: Any]
        let paths = try #require(document?["paths"] as? [String: [String: Any]])
        return paths.flatMap { path, methods in methods.keys.map { ($0.uppercased(), path) } }.sorted { $0.path < $1.path }
    }

    @Test(arguments: ServerProcess.Backend.allCases)
    func everyEndpointButHealthNeedsAToken(_ backend: ServerProcess.Backend) throws {
        let folder = try MarginProcess()
        let metricsToken = folder.directory.appendingPathComponent("metrics-token")
        try "metrics-secret".write(to: metricsToken, atomically: true, encoding: .utf8)
        let server = try ServerProcess.start(backend, arguments: ["--metrics-token-file", metricsToken.path])
        let token = try server.addUser("guarded")
        let protocolHeaders = ["Content-Type: application/json", "Margin-Protocol: \(SyncProtocol.version)", "Margin-Device: \(Self.device)"]
        let bodies = ["/v1/push": #"{"changes": []}"#, "/v1/pull": #"{"cursor": 0}"#, "/v1/bodies": #"{"hashes": []}"#]
        let operations = try Self.operations()
        #expect(operations.count == 7)

        for (method, path) in operations {
            let anonymous = try RawHTTP.send(method, path, port: server.port, headers: protocolHeaders, body: [])
            let forged = try RawHTTP.send(
                method, path, port: server.port, headers: protocolHeaders + ["Authorization: Bearer mgn_\(String(repeating: "1", count: 64))"])
            if path == "/healthz" || path == "/readyz" {
                #expect(anonymous.status == 200)
                continue
            }
            #expect(anonymous.status == 401, "\(method) \(path)")
            #expect(forged.status == 401, "\(method) \(path)")
            #expect(anonymous.headers["www-authenticate"] == "Bearer", "\(method) \(path)")
            // And with the right token, it answers.
            let credential = path == "/metrics" ? "metrics-secret" : token
            let allowed = try RawHTTP.send(
                method, path, port: server.port, headers: protocolHeaders + ["Authorization: Bearer \(credential)"],
                body: Array((bodies[path] ?? "").utf8))
            #expect(allowed.status == 200, "\(method) \(path): \(String(decoding: allowed.body.prefix(200), as: UTF8.self))")
        }
        // Another method on a known path is refused with the methods it takes.
        let wrongMethod = try RawHTTP.send("GET", "/v1/push", port: server.port, headers: protocolHeaders)
        #expect(wrongMethod.status == 405)
        #expect(wrongMethod.headers["allow"] == "POST")
    }

    @Test func storesAndTheirSideFilesAreTheOwnersAlone() throws {
        let server = try ServerProcess.start(.sqlite)
        let device = try server.device(token: try server.addUser("private"))
        try device.run(["import", MarginProcess.seeds])
        try #require(try device.run(["sync"]).status == 0)
        // Held open, so that the write-ahead log and shared-memory files exist too.
        let store = try LibraryStore(path: device.store)
        _ = try store.syncStatus()
        let serverStore = String(server.database.dropFirst("sqlite:".count))

        for file in [device.store, serverStore] {
            let folder = URL(fileURLWithPath: file).deletingLastPathComponent()
            let name = URL(fileURLWithPath: file).lastPathComponent
            let siblings = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix(name) }
            #expect(siblings.contains(name + "-wal"), "\(siblings)")
            for sibling in siblings {
                let attributes = try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(sibling).path)
                #expect(attributes[.posixPermissions] as? Int == 0o600, "\(sibling): \(String(attributes[.posixPermissions] as? Int ?? 0, radix: 8))")
            }
        }
    }

    @Test(arguments: ServerProcess.Backend.allCases)
    func noTokenOrNoteTextReachesALogOrAnError(_ backend: ServerProcess.Backend) throws {
        let logs = try MarginProcess()
        let serverLog = logs.directory.appendingPathComponent("server.log")
        let server = try ServerProcess.start(backend, logLevel: "trace", log: serverLog)
        let token = try server.addUser("quiet")
        let device = try server.device(token: token)
        try device.run(["import", MarginProcess.seeds])
        let article = try device.articleIds()[0]
        let secret = "secret-note-\(UUID().uuidString)"
        try device.run(["annotate", article, "--range", "0:10", "--note", secret, "--tag", secret.lowercased()])
        let synced = try device.run(["sync", "--json"])
        #expect(synced.status == 0, "\(synced.stderr)")
        // A request carrying the note in a body the server refuses, and one with a wrong token.
        _ = try server.post("push", body: Array(#"{"changes": "\#(secret)"}"#.utf8), token: token, deviceId: Self.device)
        let wrongToken = "mgn_" + String(repeating: "7", count: 64)
        let tokenFile = device.directory.appendingPathComponent("token").path
        try wrongToken.write(toFile: tokenFile, atomically: false, encoding: .utf8)
        let refused = try device.run(["sync"])
        #expect(refused.status == 4)
        server.stop()

        let log = try String(contentsOf: serverLog, encoding: .utf8)
        #expect(log.contains("request"), "the server logged nothing at trace level")
        for (text, output) in [("server log", log), ("margin sync", synced.stdout + synced.stderr), ("refused sync", refused.stdout + refused.stderr)] {
            for leak in [token, wrongToken, secret, ContentHash.of(token)] {
                #expect(!output.contains(leak), "\(text) contains a secret")
            }
        }
        let status = try device.run(["status", "--json"])
        #expect(!status.stdout.contains(wrongToken) && !status.stdout.contains(token))
    }
}
