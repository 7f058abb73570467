import Foundation
import GRDB
import MarginCore
import MarginStore
import MarginTestSupport
import Testing

/// `margin` and `margin-server` killed with SIGKILL at random moments (README, "How sync keeps its promises"):
/// stores stay intact, nothing acknowledged is lost, no half of a transaction ever shows,
/// and the next run completes. Each test kills `kills` times (8 in CI; one per 50
/// `MARGIN_FUZZ_ROUNDS`).
@Suite struct CrashTests {
    static let kills = max(Fuzz.rounds(ci: 400) / 50, 1)

    /// A folder of `count` small plain-text articles, each with a body of its own.
    private func articles(_ count: Int, in device: MarginProcess) throws -> String {
        let folder = device.directory.appendingPathComponent("articles-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for index in 0..<count {
            let text = "Bài \(index) \(folder.lastPathComponent)\n\n" + String(repeating: "Nội dung thứ \(index) của bài viết. ", count: 40)
            try text.write(to: folder.appendingPathComponent("\(index).txt"), atomically: false, encoding: .utf8)
        }
        return folder.path
    }

    /// `count` annotations made in process on the store of `device`.
    private func annotate(_ device: MarginProcess, _ count: Int, note: String) throws {
        let store = try LibraryStore(path: device.store)
        let articles = try store.articles()
        for index in 0..<count {
            _ = try store.annotate(
                articleId: articles[index % articles.count].id, target: .range((index % 500)..<(index % 500 + 5)),
                note: "\(note) \(index)")
        }
    }

    /// How long `margin ARGUMENTS…` takes on `scratch` (a copy of the work), to aim the kills.
    private func duration(of arguments: [String], on scratch: MarginProcess) throws -> Double {
        let start = ContinuousClock.now
        try scratch.run(arguments)
        return Double((ContinuousClock.now - start) / .milliseconds(1)) / 1_000
    }

    /// Random moments to kill a command at: up to `window` seconds after it starts. The
    /// window starts from a measured run and shrinks after each run that had finished
    /// before its kill, so kills keep landing part way even when the measurement was
    /// slowed down (by the tests running beside it) and the runs are not.
    private struct KillAim {
        var window: Double
        var random = SeededGenerator(seed: Fuzz.seeds(count: 1)[0])

        /// Runs `margin ARGUMENTS…` on `device` and kills it at a random moment; returns
        /// whether it had already finished.
        mutating func killed(_ device: MarginProcess, _ arguments: [String]) throws -> Bool {
            let process = try device.start(arguments)
            Thread.sleep(forTimeInterval: Double.random(in: 0...window, using: &random))
            let finished = !process.isRunning
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            if finished { window *= 0.6 }
            return finished
        }
    }

    @Test func aClientKilledWhileEditingKeepsAnIntactStoreAndEveryAcknowledgedEdit() throws {
        let device = try MarginProcess()
        try device.run(["import", MarginProcess.seeds])
        let seedArticle = try #require(try LibraryStore(path: device.store).articles().first?.id)
        let folder = try articles(300, in: device)
        let scratch = try MarginProcess()
        var aim = KillAim(window: try duration(of: ["import", try articles(300, in: scratch)], on: scratch))
        var acknowledged: [String: String] = [:]
        var interrupted = 0

        for attempt in 0..<Self.kills {
            let note = "acknowledged \(attempt)"
            let done = try device.run(["annotate", seedArticle, "--range", "\(attempt * 7):\(attempt * 7 + 5)", "--note", note])
            try #require(done.status == 0, "\(done.stderr)")
            acknowledged[done.stdout.trimmingCharacters(in: .whitespacesAndNewlines)] = note
            if try !aim.killed(device, ["import", folder]) { interrupted += 1 }

            // Intact, every article with its logged create and every logged create with
            // its article, and every acknowledged annotation there.
            let store = try LibraryStore(path: device.store)
            #expect(try store.integrityCheck() == ["ok"])
            let articleIds = Set(try store.articles().map(\.id))
            let logged = Set(try store.changes().filter { $0.entity == .article && $0.op == .create }.map(\.entityId))
            #expect(articleIds == logged, "kill \(attempt)")
            let notes = Dictionary(uniqueKeysWithValues: try store.annotations().map { ($0.annotation.id, $0.annotation.note) })
            #expect(acknowledged.allSatisfy { notes[$0.key] == $0.value }, "kill \(attempt)")
        }

        #expect(interrupted > 0, "every import had finished before its kill")
        // The import completes afterwards, each article once.
        let result = try device.run(["import", folder])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try LibraryStore(path: device.store).articles().count == 5 + 300)
    }

    @Test(arguments: ServerProcess.Backend.allCases)
    func aClientKilledWhilePullingNeverShowsHalfAPageAndTheNextSyncCompletes(_ backend: ServerProcess.Backend) throws {
        let server = try ServerProcess.start(backend)
        let writer = try server.device(token: try server.addUser("pulled"))
        try writer.run(["import", MarginProcess.seeds])
        try annotate(writer, 1_500, note: "pulled")
        try #require(try writer.run(["sync"]).status == 0)
        var aim = KillAim(window: try duration(of: ["sync"], on: try server.device(token: try server.issueToken("pulled"))))
        let library = try LibraryStore(path: writer.store).exportLibrary().annotations

        // Each time a new device pulls the whole library and is killed part way.
        var cursors: [Int64] = []
        for attempt in 0..<Self.kills {
            let reader = try server.device(token: try server.issueToken("pulled"))
            _ = try aim.killed(reader, ["sync"])
            // The writer made every record once and in order (versions 1, 2, 3, …): the
            // cursor counts exactly the records a reader has applied, page by whole page.
            let store = try LibraryStore(path: reader.store)
            #expect(try store.integrityCheck() == ["ok"])
            let held = try store.articles().count + store.annotations().count
            let cursor = try store.pullState().cursor
            #expect(Int64(held) == cursor, "kill \(attempt)")
            cursors.append(cursor)

            let result = try reader.run(["sync"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try store.exportLibrary().annotations == library, "kill \(attempt)")
        }
        print("CrashTests pulls killed at cursors \(cursors) of 1505")
        #expect(cursors.contains { $0 < 1_505 }, "every pull had finished before its kill: \(cursors)")
    }

    @Test(arguments: ServerProcess.Backend.allCases)
    func aClientKilledWhilePushingLosesNothingAndDuplicatesNothing(_ backend: ServerProcess.Backend) throws {
        let server = try ServerProcess.start(backend)
        let device = try server.device(token: try server.addUser("pusher"))
        try device.run(["import", MarginProcess.seeds])
        try #require(try device.run(["sync"]).status == 0)
        let scratch = try server.device(token: try server.addUser("scratch"))
        try scratch.run(["import", MarginProcess.seeds])
        try annotate(scratch, 600, note: "scratch")
        // The backlog of earlier kills makes a sync longer than the one measured.
        var aim = KillAim(window: try duration(of: ["sync"], on: scratch) * 2)

        // Each time 600 more changes, and a sync killed part way through them (or not).
        var interrupted: [Int] = []
        for attempt in 0..<Self.kills {
            try annotate(device, 600, note: "pushed \(attempt)")
            if try aim.killed(device, ["sync"]) { continue }
            let store = try LibraryStore(path: device.store)
            #expect(try store.integrityCheck() == ["ok"])
            interrupted.append(try store.syncStatus().pendingChanges)
        }
        print("CrashTests pushes killed with \(interrupted) changes pending")
        #expect(!interrupted.isEmpty, "every push had finished before its kill")

        let result = try device.run(["sync"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try LibraryStore(path: device.store).syncStatus().pendingChanges == 0)
        let reader = try server.device(token: try server.issueToken("pusher"))
        try #require(try reader.run(["sync"]).status == 0)
        let notes = try LibraryStore(path: reader.store).annotations().map(\.annotation.note)
        #expect(notes.count == 600 * Self.kills)
        #expect(Set(notes).count == 600 * Self.kills)
    }

    @Test(arguments: ServerProcess.Backend.allCases)
    func aServerKilledMidPushKeepsWholeBatchesOnlyAndTheNextSyncCompletes(_ backend: ServerProcess.Backend) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("margin-crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = backend == .sqlite ? "sqlite:" + folder.appendingPathComponent("server.sqlite").path : try ServerProcess.postgresDatabase()
        var server = try ServerProcess.start(database: database)
        let device = try server.device(token: try server.addUser("crash"))
        let token = device.directory.appendingPathComponent("token").path
        try device.run(["import", MarginProcess.seeds])
        try #require(try device.run(["sync"]).status == 0)
        var random = SeededGenerator(seed: Fuzz.seeds(count: 1)[0])
        var made = 0
        var held: [Int] = []

        for attempt in 0..<Self.kills {
            try annotate(device, 400, note: "batch \(attempt)")
            made += 400
            // One push of 400 changes; the server dies before, during or after it.
            let sync = try device.start(["sync", "--timeout", "1"])
            Thread.sleep(forTimeInterval: Double.random(in: 0...0.4, using: &random))
            kill(server.processIdentifier, SIGKILL)
            sync.waitUntilExit()
            server.stop()

            if backend == .sqlite {
                let store = try DatabaseQueue(path: String(database.dropFirst("sqlite:".count)))
                #expect(try store.read { try String.fetchAll($0, sql: "PRAGMA integrity_check") } == ["ok"])
            }
            server = try ServerProcess.start(database: database)
            // The batch is on the server whole or not at all.
            let reader = try server.device(token: try server.issueToken("crash"))
            try #require(try reader.run(["sync"]).status == 0)
            let count = try LibraryStore(path: reader.store).annotations().count
            #expect(count == made || count == made - 400, "kill \(attempt): \(count) of \(made) annotations")
            held.append(count - made + 400)

            try device.run(["remote", "set", server.url, "--token-file", token])
            let result = try device.run(["sync"])
            #expect(result.status == 0, "\(result.stderr)")
            try #require(try reader.run(["sync"]).status == 0)
            let notes = try LibraryStore(path: reader.store).annotations().map(\.annotation.note)
            #expect(notes.count == made && Set(notes).count == made, "kill \(attempt)")
        }
        print("CrashTests \(backend) server kills left \(held) of each 400-change push")
    }
}
