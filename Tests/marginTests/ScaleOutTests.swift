import Foundation
import MarginCore
import MarginSchema
import MarginSync
import MarginTestSupport
import MarginWire
import Testing

/// Several `margin-server` processes sharing one PostgreSQL database, as behind a load
/// balancer: pushes to one library through different processes at the same moment.
@Suite struct ScaleOutTests {
    @Test func threeServersOnOnePostgreSQLKeepEveryDeviceIdenticalAndEveryChangeCountedOnce() throws {
        let database = try ServerProcess.postgresDatabase()
        let servers = try startTogether(3, on: database)
        var tokens = [try servers[0].addUser("team")]
        for _ in 1..<6 { tokens.append(try servers[1].issueToken("team")) }
        let devices = try tokens.enumerated().map { index, token in try servers[index % 3].device(token: token) }
        try devices[0].run(["import", MarginProcess.seeds])
        let articles = try devices[0].articleIds()
        let shared = try devices[0].run(["annotate", articles[0], "--range", "0:10", "--note", "shared"])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        var made = 5 + 1
        for device in devices { try sync(device) }

        let rounds = 4
        let failures = Locked<[String]>([])
        for round in 0..<rounds {
            // Every device edits, then syncs through another process than last round, all at once.
            DispatchQueue.concurrentPerform(iterations: devices.count) { index in
                let device = devices[index]
                do {
                    let tokenFile = device.directory.appendingPathComponent("token").path
                    try device.run(["remote", "set", servers[(index + round) % 3].url, "--token-file", tokenFile])
                    for note in 0..<3 {
                        let start = 20 + index * 40 + note * 10
                        let result = try device.run([
                            "annotate", articles[(index + round) % articles.count], "--range", "\(start):\(start + 8)",
                            "--note", "device \(index) round \(round) note \(note)", "--tag", "round\(round)",
                        ])
                        if result.status != 0 { failures.withLock { $0.append("annotate: \(result.stderr)") } }
                    }
                    let edit = try device.run(["edit", shared, "--note", "shared, as device \(index) saw it in round \(round)"])
                    if edit.status != 0 { failures.withLock { $0.append("edit: \(edit.stderr)") } }
                    let synced = try device.run(["sync", "--quiet"])
                    if synced.status != 0 { failures.withLock { $0.append("sync: \(synced.stderr)") } }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
            made += devices.count * 4
        }
        #expect(failures.withLock { $0 } == [])
        // Quiet rounds: everyone catches up with everyone.
        for _ in 0..<2 { for device in devices { try sync(device) } }

        let first = try devices[0].state()
        for (index, device) in devices.enumerated().dropFirst() {
            let other = try device.state()
            #expect(other.library == first.library, "device \(index) differs from device 0: \(difference(other.library, first.library))")
            #expect(other.conflicts == first.conflicts)
        }
        let annotations = try devices[0].run(["annotations", "--json"]).json([[String: Any]].self)
        #expect(annotations.count == 1 + devices.count * rounds * 3)
        let cluster = try PostgresCluster.shared.get()
        // Every change a device made was applied exactly once: the devices' applied
        // sequences add up to the changes made, and the server holds each annotation once.
        #expect(try cluster.psql(database, "SELECT sum(last_applied_seq) FROM devices") == String(made))
        #expect(try cluster.psql(database, "SELECT count(*) FROM records WHERE entity = 'annotation' AND NOT deleted")
            == String(annotations.count))
        #expect(try cluster.psql(database, "SELECT count(*) FROM margin_migrations") == String(EmbeddedSchema.postgres.count))
        #expect(try cluster.psql(database, "SELECT last_seq = (SELECT max(version) FROM records) FROM users") == "t")
    }

    @Test func concurrentPushesThroughThreeServersNeverShareSkipOrRepeatASequenceAndPullsMissNothing() throws {
        let database = try ServerProcess.postgresDatabase()
        let servers = try startTogether(3, on: database)
        // A real device makes the article and one annotation whose fields the raw pushes copy.
        let writer = try servers[0].device(token: try servers[0].addUser("race"))
        let seed = try FileManager.default.contentsOfDirectory(atPath: MarginProcess.seeds).sorted()[0]
        try writer.run(["import", MarginProcess.seeds + "/" + seed])
        let articleId = try writer.articleIds()[0]
        try writer.run(["annotate", articleId, "--range", "0:10", "--note", "template"])
        try sync(writer)
        let template = try pullAll(servers[0], token: try servers[0].issueToken("race"), deviceId: Identifier.make())
            .first { $0.entity == .annotation }!

        let pushers = 4
        let batches = 8
        let perBatch = 25
        let plans: [(token: String, deviceId: String, requests: [PushRequest])] = try (0..<pushers).map { _ in
            let deviceId = Identifier.make()
            var seq: Int64 = 0
            let requests = (0..<batches).map { _ in
                PushRequest(
                    changes: (0..<perBatch).map { _ in
                        seq += 1
                        var fields = template.fields
                        fields[.note] = .text("pushed as change \(seq) of \(deviceId)")
                        return WireChange(
                            seq: seq, entity: .annotation, id: Identifier.make(), op: .create, baseVersion: 0,
                            hlc: (Timestamp.now().milliseconds << 16) + seq,
                            fields: fields.mapValues { ChangeEntry.FieldChange(old: .null, new: $0) })
                    }, bodies: [])
            }
            return (try servers[0].issueToken("race"), deviceId, requests)
        }
        let pullers = try (0..<2).map { _ in (token: try servers[0].issueToken("race"), deviceId: Identifier.make()) }

        // Each batch goes to two processes at once (a retry racing the original); two
        // devices pull through every process meanwhile.
        let results = Locked<[Int64: [ChangeResult]]>([:])
        let pulled = Locked<[Int: Set<String>]>([:])
        let pushing = Locked(pushers)
        let failures = Locked<[String]>([])
        DispatchQueue.concurrentPerform(iterations: pushers * 2 + pullers.count) { task in
            do {
                if task < pushers * 2 {
                    let plan = plans[task / 2]
                    defer { if task % 2 == 1 { pushing.withLock { $0 -= 1 } } }
                    for (batch, request) in plan.requests.enumerated() {
                        let server = servers[(batch + task) % 3]
                        let reply = try server.post("push", body: request.jsonBytes, token: plan.token, deviceId: plan.deviceId)
                        guard reply.status == 200 else {
                            failures.withLock { $0.append("push \(reply.status): \(String(decoding: reply.body, as: UTF8.self))") }
                            continue
                        }
                        let response = try PushResponse(jsonBytes: reply.body)
                        results.withLock { all in
                            for result in response.results { all[Int64(task / 2) << 32 | result.seq, default: []].append(result) }
                        }
                    }
                } else {
                    let puller = pullers[task - pushers * 2]
                    var ids = Set<String>()
                    var cursor: Int64 = 0
                    var round = 0
                    var finalPass = false
                    while true {
                        let done = pushing.withLock { $0 == 0 }
                        let page = try PullResponse(jsonBytes: servers[round % 3].post(
                            "pull", body: PullRequest(cursor: cursor, bound: nil, limit: 40).jsonBytes, token: puller.token,
                            deviceId: puller.deviceId).body)
                        round += 1
                        ids.formUnion(page.records.map(\.id))
                        cursor = page.cursor
                        if !page.more {
                            if finalPass { break }
                            finalPass = done
                        }
                    }
                    pulled.withLock { $0[task] = ids }
                }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        #expect(failures.withLock { $0 } == [])

        let all = results.withLock { $0 }
        #expect(all.count == pushers * batches * perBatch)
        // Each change was applied exactly once; its twin was answered already_applied.
        let applied = all.values.compactMap { answers in answers.first { $0.outcome == .applied } }
        #expect(all.values.allSatisfy { answers in answers.filter { $0.outcome == .applied }.count == 1 })
        #expect(all.values.allSatisfy { answers in answers.allSatisfy { [.applied, .alreadyApplied].contains($0.outcome) } })
        // Sequences: every one handed out once, none skipped (the writer's two records came first).
        let versions = applied.compactMap(\.version).sorted()
        #expect(versions == Array(3...Int64(2 + pushers * batches * perBatch)))
        // Pulls running alongside missed nothing committed behind their cursor.
        let created = Set(try pullAll(servers[2], token: pullers[0].token, deviceId: pullers[0].deviceId).map(\.id))
        #expect(created.count == 2 + pushers * batches * perBatch)
        for ids in pulled.withLock({ Array($0.values) }) { #expect(ids == created) }
    }

    /// Starts `count` servers on `database` at the same moment (they migrate it together).
    private func startTogether(_ count: Int, on database: String) throws -> [ServerProcess] {
        let started = Locked<[Int: Result<ServerProcess, any Error>]>([:])
        DispatchQueue.concurrentPerform(iterations: count) { index in
            let server = Result { try ServerProcess.start(database: database) }
            started.withLock { $0[index] = server }
        }
        return try (0..<count).map { index in try started.withLock { $0[index]! }.get() }
    }

    /// Every record of the library, pulled from scratch.
    private func pullAll(_ server: ServerProcess, token: String, deviceId: String) throws -> [ServerRecord] {
        var records: [ServerRecord] = []
        var cursor: Int64 = 0
        while true {
            let reply = try server.post(
                "pull", body: PullRequest(cursor: cursor, bound: nil, limit: 500).jsonBytes, token: token, deviceId: deviceId)
            let page = try PullResponse(jsonBytes: reply.body)
            records += page.records
            cursor = page.cursor
            if !page.more { return records }
        }
    }

    /// The annotations and articles two exports disagree on, by id.
    private func difference(_ one: NSDictionary, _ other: NSDictionary) -> String {
        var lines: [String] = []
        for key in ["articles", "annotations"] {
            func byId(_ export: NSDictionary) -> [String: NSDictionary] {
                let entries = (export[key] as? [[String: Any]]) ?? []
                return Dictionary(entries.map { ($0["id"] as? String ?? "?", $0 as NSDictionary) }) { first, _ in first }
            }
            let mine = byId(one)
            let theirs = byId(other)
            for id in Set(mine.keys).union(theirs.keys).sorted() where mine[id] != theirs[id] {
                lines.append("\(key) \(id): \(mine[id].map { "\($0)" } ?? "missing") vs \(theirs[id].map { "\($0)" } ?? "missing")")
            }
        }
        return lines.isEmpty ? "(other keys)" : lines.joined(separator: "\n")
    }

    private func sync(_ device: MarginProcess) throws {
        let result = try device.run(["sync", "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
    }
}

/// A value shared between threads behind a lock.
final class Locked<Value>: @unchecked Sendable {
    // Safe: `value` is only touched under `lock`.
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        try lock.withLock { try body(&value) }
    }
}
