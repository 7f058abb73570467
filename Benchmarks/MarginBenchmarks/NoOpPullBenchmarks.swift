import Foundation
import MarginCore
import MarginStore
import MarginTestSupport
import MarginWire

/// How many syncs with nothing to do one server process answers: devices that are up to
/// date asking for changes (what cron syncs mostly are), measured with wrk — the pull a
/// real device sends, from its own cursor and history — over 16 keep-alive connections and
/// over one, on SQLite and (when a cluster runs here) PostgreSQL. Target: ≥ 5,000/s.
struct NoOpPullBenchmarks {
    let margin: String
    let server: String
    let work: URL
    let corpus: SyntheticCorpus
    /// Seconds each wrk run lasts.
    var seconds = 10

    func run() throws {
        print("\nno-op pulls per second, one margin-server process, wrk on 127.0.0.1 (\(seconds) s each):")
        for backend in ServerProcess.Backend.allCases {
            let process: ServerProcess
            do {
                process = try ServerProcess(binary: URL(fileURLWithPath: server), backend: backend, logLevel: "error")
            } catch let error as PostgresCluster.Unavailable {
                print("  \(backend): skipped (\(error))")
                continue
            }
            defer { process.stop() }
            let script = try pullScript(process)
            var rates: [String] = []
            for connections in [16, 1] {
                let rate = try wrk(url: process.url + "/v1/pull", script: script, connections: connections)
                rates.append(String(format: "%.0f/s over %d connection%@", rate, connections, connections == 1 ? "" : "s"))
            }
            print("  \(backend): " + rates.joined(separator: ", ") + "   [target ≥ 5,000/s over 16]")
        }
    }

    /// A wrk script that sends the no-op pull of a device holding 100 articles and 1,000
    /// annotations, synced and up to date.
    private func pullScript(_ process: ServerProcess) throws -> URL {
        let token = try process.addUser("noop-\(UUID().uuidString.prefix(8))")
        let store = work.appendingPathComponent("noop-\(UUID().uuidString).sqlite").path
        let tokenFile = store + ".token"
        _ = FileManager.default.createFile(atPath: tokenFile, contents: Data(token.utf8), attributes: [.posixPermissions: 0o600])
        let library = try LibraryStore(path: store)
        _ = try library.importExport(corpus.export(articles: 100, annotationsPerArticle: 10))
        for command in [["remote", "set", process.url, "--token-file", tokenFile], ["sync", "--quiet"]] {
            guard try Spawn.run(margin, ["--store", store] + command).status == 0 else { fatalError("margin \(command[0]) failed") }
        }
        let state = try library.pullState()
        let request = PullRequest(
            cursor: state.cursor, bound: nil, limit: 1_000, snapshot: false, history: state.history, pushedSeq: state.pushedSeq)
        let body = String(decoding: request.jsonBytes, as: UTF8.self)
        let lua = """
            wrk.method = "POST"
            wrk.body = [[\(body)]]
            wrk.headers["Content-Type"] = "application/json"
            wrk.headers["Authorization"] = "Bearer \(token)"
            wrk.headers["Margin-Protocol"] = "\(SyncProtocol.version)"
            wrk.headers["Margin-Device"] = "\(try library.statistics().deviceId)"
            """
        let script = work.appendingPathComponent("noop-pull-\(UUID().uuidString).lua")
        try lua.write(to: script, atomically: true, encoding: .utf8)
        return script
    }

    /// Requests per second wrk measured; every answer must be 200.
    private func wrk(url: String, script: URL, connections: Int) throws -> Double {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/usr/bin/wrk")
        child.arguments = ["-t", String(min(connections, 2)), "-c", String(connections), "-d", "\(seconds)s", "-s", script.path, url]
        let output = Pipe()
        child.standardOutput = output
        try child.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        child.waitUntilExit()
        guard !text.contains("Non-2xx"), let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Requests/sec:") }),
              let rate = Double(line.split(separator: " ").last ?? "")
        else { fatalError("wrk failed or got errors:\n\(text)") }
        return rate
    }
}
