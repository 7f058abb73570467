import Foundation
import MarginTestSupport
import Testing

/// A server restored from a backup loses nothing the devices hold: they notice, send back
/// what it lacks, and every library ends identical.
@Suite struct RestoreTests {
    /// A server whose store can be backed up and restored while it is stopped; each start
    /// listens on a new port, which the devices are pointed at.
    final class RestorableServer {
        let backend: ServerProcess.Backend
        /// The first process, which owns the store's folder (SQLite): kept until the end.
        private let first: ServerProcess
        private(set) var current: ServerProcess
        private var devices: [MarginProcess] = []

        init(_ backend: ServerProcess.Backend) throws {
            self.backend = backend
            first = try ServerProcess.start(backend)
            current = first
        }

        /// A device of `user` (a new user first when `newUser`), pointed at the server.
        func device(_ user: String, newUser: Bool = false) throws -> MarginProcess {
            let device = try current.device(token: newUser ? try current.addUser(user) : try current.issueToken(user))
            devices.append(device)
            return device
        }

        /// A laptop and a desktop of a new user, the seeds imported on the laptop and synced to
        /// both, with the seeds' article ids.
        func twoDevicesWithTheSeeds() throws -> (laptop: MarginProcess, desktop: MarginProcess, articles: [String]) {
            let laptop = try device("ana", newUser: true)
            let desktop = try device("ana")
            try laptop.run(["import", MarginProcess.seeds])
            try laptop.syncQuietly()
            try desktop.syncQuietly()
            return (laptop, desktop, try laptop.articleIds())
        }

        /// Stops the server, runs `body` on its stopped store, and starts it again.
        func whileStopped(_ body: (String) throws -> Void) throws {
            current.stop()
            try body(first.database)
            current = try ServerProcess.start(database: first.database)
            for device in devices {
                try device.run(["remote", "set", current.url, "--token-file", device.directory.appendingPathComponent("token").path])
            }
        }

        /// Copies the stopped store from `source` to `target` (SQLite paths or PostgreSQL databases).
        func copy(_ source: String, to target: String) throws {
            switch backend {
            case .sqlite:
                let (from, to) = (String(source.dropFirst("sqlite:".count)), String(target.dropFirst("sqlite:".count)))
                try? FileManager.default.removeItem(atPath: to)
                try FileManager.default.copyItem(atPath: from, toPath: to)
            case .postgres:
                try PostgresCluster.shared.get().copy(source, to: target)
            }
        }

        /// Where a backup of the store goes.
        var backupLocation: String {
            switch backend {
            case .sqlite: first.database + ".backup"
            case .postgres: first.database.replacingOccurrences(of: "/margin_", with: "/backup_")
            }
        }
    }

    @Test(arguments: ServerProcess.Backend.allCases)
    func aRestoredBackupLosesNothingTheDevicesMadeAfterIt(_ backend: ServerProcess.Backend) throws {
        let server = try RestorableServer(backend)
        let (laptop, desktop, articles) = try server.twoDevicesWithTheSeeds()
        let early = try laptop.annotate(articles[0], range: "0:10", note: "before the backup")
        let shared = try laptop.annotate(articles[1], range: "0:10", note: "before the backup too")
        try laptop.syncQuietly()
        try desktop.syncQuietly()

        try server.whileStopped { store in try server.copy(store, to: server.backupLocation) }

        // After the backup, on both machines, all synced everywhere.
        let laptopNew = try laptop.annotate(articles[2], range: "0:10", note: "made after the backup", tags: ["laptop"])
        #expect(try laptop.run(["edit", early, "--note", "edited after the backup", "--add-tag", "later"]).status == 0)
        #expect(try laptop.run(["edit", articles[3], "--title", "Renamed after the backup"]).status == 0)
        try laptop.syncQuietly()
        let desktopNew = try desktop.annotate(articles[3], range: "5:15", note: "the desktop's, after the backup")
        #expect(try desktop.run(["edit", shared, "--color", "blue"]).status == 0)
        #expect(try desktop.run(["delete", articles[4]]).status == 0)
        try desktop.syncQuietly()
        try laptop.syncQuietly()
        let before = try laptop.state()
        #expect(try desktop.state().library == before.library)

        // The disk fails; last night's backup is put back.
        try server.whileStopped { store in try server.copy(server.backupLocation, to: store) }

        // The desktop syncs first (its own changes are what the server lost), then the laptop.
        let first = try desktop.run(["sync"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("the server was restored from a backup"), "\(first.stdout)")
        for device in [laptop, desktop, laptop, desktop] { try device.syncQuietly() }

        let newcomer = try server.device("ana")
        try newcomer.syncQuietly()
        for device in [laptop, desktop, newcomer] {
            let state = try device.state()
            #expect(state.library == before.library, "every record as it was before the restore")
            #expect(state.conflicts.count == 0, "nothing was in conflict: \(state.conflicts)")
        }
        #expect(try newcomer.annotation(laptopNew)["note"] as? String == "made after the backup")
        #expect(try newcomer.annotation(early)["note"] as? String == "edited after the backup")
        #expect(try newcomer.annotation(early)["tags"] as? [String] == ["later"])
        #expect(try newcomer.annotation(desktopNew)["note"] as? String == "the desktop's, after the backup")
        #expect(try newcomer.annotation(shared)["color"] as? String == "blue")
        #expect(try !newcomer.articleIds().contains(articles[4]))
        for device in [laptop, desktop] {
            let status = try device.run(["status", "--json"]).json([String: Any].self)
            #expect(status["pendingChanges"] as? Int == 0)
            #expect(status["rejected"] as? Int == 0)
        }
    }

    /// The drill a self-hoster runs, with the server's own commands: a backup of the running
    /// server, changes synced after it, the server stopped and the backup restored, every
    /// device synced: nothing made after the backup is lost, and the replaced store is kept.
    @Test func theBackupAndRestoreCommandsLoseNothing() throws {
        let server = try RestorableServer(.sqlite)
        let (laptop, desktop, articles) = try server.twoDevicesWithTheSeeds()
        let backup = laptop.directory.appendingPathComponent("nightly.sqlite").path

        let made = try server.current.administer(["backup", "--to", backup])
        #expect(made.status == 0, "\(made.stderr)")
        #expect(made.stdout.hasPrefix("backed up \(server.current.database) to \(backup) ("), "\(made.stdout)")
        let attributes = try FileManager.default.attributesOfItem(atPath: backup)
        #expect(attributes[.posixPermissions] as? Int == 0o600)
        let again = try server.current.administer(["backup", "--to", backup])
        #expect(again.status == 1)
        #expect(again.stderr == "error: \(backup) exists already; name a new file for the backup\n")
        let underRunningServer = try server.current.administer(["restore", "--from", backup])
        #expect(underRunningServer.status == 1)
        #expect(underRunningServer.stderr.hasSuffix("is serving \(server.current.database.dropFirst("sqlite:".count)); stop it first\n"))

        let laptopNew = try laptop.annotate(articles[0], range: "0:10", note: "made after the backup")
        try laptop.syncQuietly()
        let desktopNew = try desktop.annotate(articles[1], range: "3:12", note: "the desktop's, after the backup")
        try desktop.syncQuietly()
        try laptop.syncQuietly()
        let before = try laptop.state()

        var restored: (status: Int32, stdout: String, stderr: String) = (0, "", "")
        try server.whileStopped { _ in restored = try server.current.administer(["restore", "--from", backup]) }
        #expect(restored.status == 0, "\(restored.stderr)")
        let kept = try #require(restored.stdout.components(separatedBy: "the store it replaced is kept at ").last?
            .trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(FileManager.default.fileExists(atPath: kept))

        for device in [desktop, laptop, desktop] { try device.syncQuietly() }
        let newcomer = try server.device("ana")
        try newcomer.syncQuietly()
        for device in [laptop, desktop, newcomer] {
            #expect(try device.state().library == before.library, "every record as it was before the restore")
        }
        #expect(try newcomer.annotation(laptopNew)["note"] as? String == "made after the backup")
        #expect(try newcomer.annotation(desktopNew)["note"] as? String == "the desktop's, after the backup")
    }

    @Test func aBackupThatIsNotAServerStoreIsRefusedAndChangesNothing() throws {
        let server = try ServerProcess.start(.sqlite)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("margin-restore-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let notAStore = folder.appendingPathComponent("notes.txt")
        try "not a database".write(to: notAStore, atomically: true, encoding: .utf8)
        let clientStore = try MarginProcess()
        try clientStore.run(["import", MarginProcess.seeds])
        server.stop()

        for file in [notAStore.path, clientStore.store, folder.appendingPathComponent("missing.sqlite").path] {
            let result = try server.administer(["restore", "--from", file])
            #expect(result.status == 1, "\(file)")
            #expect(result.stderr.hasPrefix("error: "), "\(result.stderr)")
        }
        let restarted = try ServerProcess.start(database: server.database)
        #expect(try restarted.administer(["user", "list"]).status == 0)
    }

    @Test(arguments: ServerProcess.Backend.allCases)
    func anEditMadeOnTheRestoredServerAndALostEditOfTheSameNoteAreBothKept(_ backend: ServerProcess.Backend) throws {
        let server = try RestorableServer(backend)
        let laptop = try server.device("ana", newUser: true)
        let desktop = try server.device("ana")
        try laptop.run(["import", MarginProcess.seeds])
        let articles = try laptop.articleIds()
        let note = try laptop.annotate(articles[0], range: "0:10", note: "the original")
        try laptop.syncQuietly()
        try desktop.syncQuietly()
        try server.whileStopped { store in try server.copy(store, to: server.backupLocation) }

        #expect(try laptop.run(["edit", note, "--note", "the laptop's, lost with the server"]).status == 0)
        try laptop.syncQuietly()
        try server.whileStopped { store in try server.copy(server.backupLocation, to: store) }
        // The desktop, which never saw the lost edit, edits the same note on the restored server.
        #expect(try desktop.run(["edit", note, "--note", "the desktop's, made after the restore"]).status == 0)
        try desktop.syncQuietly()

        for device in [laptop, desktop, laptop, desktop] { try device.syncQuietly() }
        let laptopState = try laptop.state()
        #expect(try desktop.state().library == laptopState.library)
        #expect(try desktop.state().conflicts == laptopState.conflicts)
        // The later edit wins; the lost one is kept as a conflict record.
        #expect(try laptop.annotation(note)["note"] as? String == "the desktop's, made after the restore")
        let conflicts = try #require(laptopState.conflicts as? [[String: Any]])
        #expect(conflicts.map { $0["value"] as? String } == ["the laptop's, lost with the server"])
    }
}
