import Foundation
import MarginCore
import MarginServer
import MarginStore
import MarginSync
import MarginTestSupport
import MarginWire

/// The sync scenarios (README, "Benchmarks"), against the release `margin-server` and
/// `margin` binaries on 127.0.0.1:
///   first sync   a new device pulls a library of 100,000 annotations (target ≤ 2 s)
///   no-op sync   one round trip on libraries of 1,000 and 100,000 records (≤ 15 ms, no slower)
///   push         16 devices pushing concurrently (target ≥ 20,000 changes/s on SQLite)
struct SyncBenchmarks {
    let margin: String
    let server: String
    let work: URL
    let corpus: SyntheticCorpus
    let runs: Int

    func run() throws {
        // MARGIN_BENCH_SERVER_LOG=info shows each request and its duration on stderr.
        let process = try ServerProcess(
            binary: URL(fileURLWithPath: server), backend: .sqlite,
            logLevel: ProcessInfo.processInfo.environment["MARGIN_BENCH_SERVER_LOG"] ?? "error")
        defer { process.stop() }
        print("\nsync, against margin-server on \(process.url) (SQLite):")

        // A laptop with 1,000 articles × 100 annotations pushes everything.
        let token = try process.addUser("large")
        let laptop = try device(named: "laptop", token: token, server: process)
        _ = try LibraryStore(path: laptop.store).importExport(corpus.export(articles: 1_000, annotationsPerArticle: 100))
        let upload = try Spawn.run(margin, laptop.arguments + ["sync", "--quiet", "--timeout", "600"])
        guard upload.status == 0 else { fatalError("the first push failed with status \(upload.status)") }
        print(String(format: "  push of 101,000 changes from one device: %.2f s → %.0f changes/s", upload.seconds, 101_000 / upload.seconds))

        // A new device: first sync (everything stored and indexed), then with nothing to do.
        let desktop = try device(named: "desktop", token: try process.issueToken("large"), server: process)
        let first = try Spawn.run(margin, desktop.arguments + ["sync", "--quiet", "--timeout", "600"])
        guard first.status == 0 else { fatalError("the first sync failed with status \(first.status)") }
        let spare = try device(named: "spare", token: try process.issueToken("large"), server: process)
        let firstMemory = try Spawn.peakMemory(margin, spare.arguments + ["sync", "--quiet", "--timeout", "600"])
        print(String(
            format: "  first sync of a new device, 1,000 articles + 100,000 annotations: %.2f s; peak memory %@   [target ≤ 2 s, ≤ 64 MB]",
            first.seconds, Spawn.memoryText(firstMemory) as NSString))

        let small = try device(named: "small", token: try process.addUser("small"), server: process)
        _ = try LibraryStore(path: small.store).importExport(corpus.export(articles: 10, annotationsPerArticle: 99))
        guard try Spawn.run(margin, small.arguments + ["sync", "--quiet"]).status == 0 else { fatalError("small sync failed") }
        var times: [[Double]] = [[], []]
        for run in -3..<runs {
            for (index, device) in [small, desktop].enumerated() {
                let result = try Spawn.run(margin, device.arguments + ["sync", "--quiet"])
                guard result.status == 0 else { fatalError("no-op sync failed with status \(result.status)") }
                if run >= 0 { times[index].append(result.seconds * 1_000) }
            }
        }
        let medians = times.map { $0.sorted()[$0.count / 2] }
        let p90s = times.map { $0.sorted()[$0.count * 9 / 10] }
        print(String(
            format: "  sync with nothing to do (%d runs): 1,000 records %.2f ms median (p90 %.2f), 101,000 records %.2f ms (p90 %.2f); ratio %.2f   [target ≤ 15 ms, the same at any size]",
            runs, medians[0], p90s[0], medians[1], p90s[1], medians[1] / medians[0]))

        let rate = try concurrentPush([process])
        print(String(format: "  push, 16 devices concurrently, 100,016 changes in batches of 1,000: %.0f changes/s   [target ≥ 20,000/s]", rate))
        print(String(format: "  server peak memory: %@   [target ≤ 256 MB]", Spawn.memoryText(process.peakMemory()) as NSString))
    }

    /// One article and `perDevice` annotations per device, as push requests of 1,000.
    private func pushRequests(devices: Int, perDevice: Int) -> [[PushRequest]] {
        var generator = corpus
        var requests: [[PushRequest]] = []
        for _ in 0..<devices {
            let export = generator.export(articles: 1, annotationsPerArticle: perDevice)
            generator.advance()
            let article = export.articles[0]
            var changes = [WireChange(
                seq: 1, entity: .article, id: article.article.id, op: .create, baseVersion: 0, hlc: 1 << 16,
                fields: article.article.fieldValues.mapValues { ChangeEntry.FieldChange(old: .null, new: $0) })]
            for (offset, annotation) in export.annotations.enumerated() {
                changes.append(WireChange(
                    seq: Int64(offset + 2), entity: .annotation, id: annotation.id, op: .create, baseVersion: 0,
                    hlc: Int64(offset + 2) << 16,
                    fields: annotation.fieldValues.mapValues { ChangeEntry.FieldChange(old: .null, new: $0) }))
            }
            requests.append(stride(from: 0, to: changes.count, by: 1_000).enumerated().map { batch, start in
                PushRequest(
                    changes: Array(changes[start..<min(start + 1_000, changes.count)]),
                    bodies: batch == 0 ? [WireBody(hash: article.article.contentHash, text: article.body)] : [])
            })
        }
        return requests
    }

    /// Where a push's time goes on the server, in process and without HTTP: parsing the
    /// JSON, validating the changes, and resolving and storing them (SQLite repository).
    func serverPhases() async throws {
        let requests = pushRequests(devices: 16, perDevice: 6_250)
        let bodies = requests.map { $0.map(\.jsonBytes) }
        let total = Double(requests.joined().reduce(0) { $0 + $1.changes.count })
        func timed(_ body: () async throws -> Void) async rethrows -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            try await body()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        let parse = try await timed { for body in bodies.joined() { _ = try PushRequest(jsonBytes: body) } }
        let validate = try await timed { for request in requests.joined() { _ = try CheckedPush(request) } }
        let repository = try SQLiteSyncRepository(path: work.appendingPathComponent("phases.sqlite").path)
        var users: [Int64] = []
        for index in 0..<requests.count {
            try await repository.addUser(name: "phase\(index)", tokenHash: DeviceToken.hash(DeviceToken.make()), now: 0)
            users.append(Int64(index + 1))
        }
        let store = try await timed {
            for (index, device) in requests.enumerated() {
                let deviceId = Identifier.make()
                for request in device {
                    _ = try await repository.push(try CheckedPush(request), userId: users[index], deviceId: deviceId, now: 0)
                }
            }
        }
        print(String(
            format: "  server phases per change (in process, no HTTP): parse %.1f µs, validate %.1f µs, resolve and store %.1f µs",
            parse / total * 1e6, validate / total * 1e6, store / total * 1e6))
    }

    /// Where a first sync's time goes in the client, in process and without HTTP: parsing
    /// the pages, validating their records, and applying them to a new store (rows, tags,
    /// full-text entries, anchoring).
    func clientPhases() throws {
        let export = corpus.export(articles: 1_000, annotationsPerArticle: 100)
        var records: [ServerRecord] = []
        var version: Int64 = 0
        for exported in export.articles {
            version += 1
            records.append(ServerRecord(
                entity: .article, id: exported.article.id, version: version, deleted: false,
                fields: exported.article.fieldValues, updatedAt: exported.article.updatedAt.milliseconds))
        }
        for annotation in export.annotations {
            version += 1
            records.append(ServerRecord(
                entity: .annotation, id: annotation.id, version: version, deleted: false, fields: annotation.fieldValues,
                updatedAt: annotation.updatedAt.milliseconds))
        }
        let pages = stride(from: 0, to: records.count, by: 2_000).map { start in
            PullResponse(
                records: Array(records[start..<min(start + 2_000, records.count)]), cursor: Int64(start + 2_000),
                bound: version, more: true, reset: false
            ).jsonBytes
        }
        let bodies = export.articles.map { WireBody(hash: $0.article.contentHash, text: $0.body) }
        func timed(_ body: () throws -> Void) rethrows -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        var parsed: [PullResponse] = []
        let parse = try timed { parsed = try pages.map { try PullResponse(jsonBytes: $0) } }
        var checked: [CheckedPullPage] = []
        let validate = try timed { checked = try parsed.map { try LibraryStore.check($0) } }
        let store = try LibraryStore(path: work.appendingPathComponent("client-phases.sqlite").path)
        let apply = try timed {
            for (index, page) in checked.enumerated() { try store.applyPullPage(page, bodies: index == 0 ? bodies : [], snapshot: true) }
        }
        let count = Double(records.count)
        print(String(
            format: "  client first-sync phases per record (in process, no HTTP): parse %.1f µs, validate %.1f µs, apply %.1f µs; total %.2f s for %d records",
            parse / count * 1e6, validate / count * 1e6, apply / count * 1e6, parse + validate + apply, records.count))
    }

    /// 16 devices (16 users), each pushing one article and 6,250 annotations in batches of
    /// 1,000 — requests prepared beforehand, so the clients cost little besides sending.
    /// 16 devices of 16 users pushing one article and 6,250 annotations each at the same
    /// time, in batches of 1,000; device i talks to `servers[i % count]`. Returns changes/s.
    private func concurrentPush(_ servers: [ServerProcess]) throws -> Double {
        let devices = 16
        let perDevice = 6_250
        var plans: [(token: String, device: String, url: String, bodies: [[UInt8]])] = []
        for (index, requests) in pushRequests(devices: devices, perDevice: perDevice).enumerated() {
            let token = try servers[0].addUser("pusher\(index)")
            plans.append((token, Identifier.make(), servers[index % servers.count].url, requests.map { Gzip.compress($0.jsonBytes, level: 1) }))
        }
        let total = devices * (perDevice + 1)
        let failures = Counter()
        let prepared = plans
        let start = DispatchTime.now().uptimeNanoseconds
        DispatchQueue.concurrentPerform(iterations: devices) { index in
            let plan = prepared[index]
            do {
                let transport = try CurlTransport(insecure: false)
                for body in plan.bodies {
                    let reply = try transport.post(
                        url: plan.url + "/v1/push",
                        headers: ["Content-Type: application/json", "Content-Encoding: gzip", "Authorization: Bearer \(plan.token)",
                                  "\(SyncProtocol.versionHeader): \(SyncProtocol.version)", "\(SyncProtocol.deviceHeader): \(plan.device)"],
                        body: body, timeout: .seconds(120))
                    if reply.status != 200 { failures.add() }
                }
            } catch {
                failures.add()
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        guard failures.value == 0 else { fatalError("\(failures.value) pushes failed") }
        return Double(total) / seconds
    }

    /// Articles rather than annotations: `count` seed-sized article files imported into a
    /// new library, against a new device's first sync of the same articles (bodies fetched,
    /// stored and indexed), three rounds each, alternately. Target: syncing them is no
    /// slower than importing them.
    func articles(count: Int) throws {
        let process = try ServerProcess(
            binary: URL(fileURLWithPath: server), backend: .sqlite,
            logLevel: ProcessInfo.processInfo.environment["MARGIN_BENCH_SERVER_LOG"] ?? "error")
        defer { process.stop() }
        print("\narticles, against margin-server on \(process.url) (SQLite):")
        let folder = work.appendingPathComponent("article-files")
        try corpus.writeSeedFiles(count: count, to: folder)
        let token = try process.addUser("reader")
        let source = try device(named: "articles-source", token: token, server: process)
        guard try Spawn.run(margin, source.arguments + ["import", folder.path]).status == 0 else { fatalError("import failed") }
        guard try Spawn.run(margin, source.arguments + ["sync", "--quiet", "--timeout", "600"]).status == 0 else {
            fatalError("the push of the articles failed")
        }
        var imports: [Double] = []
        var syncs: [Double] = []
        for round in 0..<3 {
            imports.append(try Spawn.importing(margin, folder, into: work.appendingPathComponent("articles-import-\(round).sqlite").path))
            let reader = try device(named: "articles-reader-\(round)", token: try process.issueToken("reader"), server: process)
            let sync = try Spawn.run(margin, reader.arguments + ["sync", "--quiet", "--timeout", "600"])
            guard sync.status == 0 else { fatalError("the first sync failed with status \(sync.status)") }
            syncs.append(sync.seconds)
        }
        let (importMedian, syncMedian) = (imports.sorted()[1], syncs.sorted()[1])
        print(String(
            format: "  %d seed-sized articles: import %.2f s (%.0f/s), first sync of a new device %.2f s (%.0f/s); ratio %.2f   [target ≤ 1.00]",
            count, importMedian, Double(count) / importMedian, syncMedian, Double(count) / syncMedian, syncMedian / importMedian))
    }

    /// SQLite next to PostgreSQL (fsync on), with one server process and with three
    /// sharing the database: concurrent push throughput, the push of a 101,000-change
    /// library from one device, and a new device's first sync of it.
    func backends() throws {
        let cluster = try PostgresCluster(fsync: true)
        print("\nbackends (PostgreSQL: a local cluster, fsync on):")
        for (backend, count) in [(ServerProcess.Backend.sqlite, 1), (.postgres, 1), (.postgres, 3)] {
            let logLevel = ProcessInfo.processInfo.environment["MARGIN_BENCH_SERVER_LOG"] ?? "error"
            let first = backend == .sqlite
                ? try ServerProcess(binary: URL(fileURLWithPath: server), backend: .sqlite, logLevel: logLevel)
                : try ServerProcess(binary: URL(fileURLWithPath: server), database: try cluster.createDatabase(), logLevel: logLevel)
            let servers = try [first] + (1..<count).map { _ in
                try ServerProcess(binary: URL(fileURLWithPath: server), database: first.database, logLevel: logLevel)
            }
            defer { for server in servers { server.stop() } }
            let rate = try concurrentPush(servers)
            let label = "\(backend), \(count) process\(count == 1 ? "" : "es")"
            let token = try servers[0].addUser("large")
            let laptop = try device(named: "laptop-\(backend)-\(count)", token: token, server: servers[0])
            _ = try LibraryStore(path: laptop.store).importExport(corpus.export(articles: 1_000, annotationsPerArticle: 100))
            let upload = try Spawn.run(margin, laptop.arguments + ["sync", "--quiet", "--timeout", "600"])
            guard upload.status == 0 else { fatalError("the first push failed with status \(upload.status)") }
            let desktop = try device(named: "desktop-\(backend)-\(count)", token: try servers[0].issueToken("large"), server: servers[count - 1])
            let pull = try Spawn.run(margin, desktop.arguments + ["sync", "--quiet", "--timeout", "600"])
            guard pull.status == 0 else { fatalError("the first sync failed with status \(pull.status)") }
            print(String(
                format: "  %@: push, 16 devices concurrently %.0f changes/s; one device's 101,000 changes %.2f s; first sync of a new device %.2f s",
                label as NSString, rate, upload.seconds, pull.seconds))
        }
    }

    private func device(named name: String, token: String, server: ServerProcess) throws -> (store: String, arguments: [String]) {
        let store = work.appendingPathComponent("\(name).sqlite").path
        let tokenFile = work.appendingPathComponent("\(name).token").path
        _ = FileManager.default.createFile(atPath: tokenFile, contents: Data(token.utf8), attributes: [.posixPermissions: 0o600])
        let arguments = ["--store", store]
        guard try Spawn.run(margin, arguments + ["remote", "set", server.url, "--token-file", tokenFile]).status == 0 else {
            fatalError("remote set failed")
        }
        return (store, arguments)
    }
}

/// Counts failures across threads.
final class Counter: @unchecked Sendable {
    // Safe: `count` is only touched under `lock`.
    private let lock = NSLock()
    private var count = 0

    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
