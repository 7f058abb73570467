import Foundation
import GRDB
import MarginCore
import MarginSchema

/// A local Marginalia library in one SQLite file (WAL mode): articles, annotations, tags,
/// full-text search and the change log that sync pushes.
///
/// Every mutation writes its change-log entry in the same transaction as the change.
/// Instances may be shared across threads: all access goes through one serialized
/// GRDB `DatabaseQueue`, and other processes are waited for up to five seconds.
///
/// For example:
/// ```swift
/// let store = try LibraryStore(path: "/tmp/library.sqlite")
/// let report = try store.importDocuments([(document, source: "000.txt")])
/// ```
public final class LibraryStore: Sendable {
    /// The store file.
    public let path: String
    let dbQueue: DatabaseQueue
    let now: @Sendable () -> Timestamp

    /// Opens the library at `path`, creating it (mode 0600, parent folders 0700) and
    /// upgrading its schema in place as needed.
    ///
    /// - Parameter now: the wall clock; tests pass a fixed one.
    public init(path: String, now: @escaping @Sendable () -> Timestamp = { .now() }) throws(MarginError) {
        self.path = path
        self.now = now
        try Self.createFileIfMissing(path)
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        // WAL is switched on once, when the store is created, and persists in the file.
        // (GRDB's `journalMode = .wal` would also write to the store on every open.)
        // FULL: a commit is on disk before a command reports success.
        // A 16 MB page cache (allocated only as pages are used) keeps bulk imports from
        // re-reading the pages of a growing search index.
        // A checkpoint once the WAL holds 8,192 pages (32 MB), not SQLite's 1,000: bulk writes
        // (imports, the pages of a first sync) dirty the same index pages commit after
        // commit, and each checkpoint writes them to the store and fsyncs twice, so fewer,
        // larger checkpoints write less and wait less (a first sync of 100,000 annotations
        // spent 0.77 s in fsync with 148 calls, 0.47 s with 28). The WAL goes when margin closes.
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL; PRAGMA cache_size = -16384; PRAGMA wal_autocheckpoint = 8192")
        }
        do {
            dbQueue = try DatabaseQueue(path: path, configuration: configuration)
            try Self.migrate(dbQueue, path: path)
        } catch let error as MarginError {
            throw error
        } catch {
            throw Self.storeError(error, path: path)
        }
    }

    /// This device's id, made when the store was created.
    public func deviceId() throws(MarginError) -> String {
        try read { db in try SyncState.current(db).deviceId }
    }

    /// Runs `PRAGMA integrity_check`, returning SQLite's report (`["ok"]` when sound).
    public func integrityCheck() throws(MarginError) -> [String] {
        try read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
    }

    // MARK: - Access

    func read<T>(_ body: (Database) throws -> T) throws(MarginError) -> T {
        do {
            return try dbQueue.read(body)
        } catch let error as MarginError {
            throw error
        } catch {
            throw Self.storeError(error, path: path)
        }
    }

    /// Runs `body` in one write transaction. A write that need not survive a power cut —
    /// what a server can send again, bookkeeping — passes `durable: false`: it commits
    /// just as atomically, with `synchronous = NORMAL` (no fsync), and becomes durable at
    /// the next durable commit or checkpoint. A lost one leaves the store as it was.
    func write<T>(durable: Bool = true, _ body: (Database) throws -> T) throws(MarginError) -> T {
        do {
            guard !durable else { return try dbQueue.write(body) }
            return try dbQueue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
                defer { try? db.execute(sql: "PRAGMA synchronous = FULL") }
                var result: T?
                try db.inTransaction {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        } catch let error as MarginError {
            throw error
        } catch {
            throw Self.storeError(error, path: path)
        }
    }

    /// Runs `body` in one write transaction with a change recorder: the changes and their
    /// log entries commit together, or neither does.
    func mutate<T>(_ body: (Database, inout ChangeRecorder) throws -> T) throws(MarginError) -> T {
        let time = now()
        return try write { db in
            var recorder = try ChangeRecorder(db, now: time)
            let result = try body(db, &recorder)
            try recorder.save(db)
            return result
        }
    }

    // MARK: - Opening

    private static func createFileIfMissing(_ path: String) throws(MarginError) {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(
                    atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw MarginError(.storeUnavailable, "cannot create the folder \(directory) for the library; check its permissions")
            }
        }
        let descriptor = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        if descriptor >= 0 {
            close(descriptor)
            return
        }
        let code = errno
        guard code == EEXIST else {
            throw MarginError(.storeUnavailable, "cannot create the library \(path): \(String(cString: strerror(code)))")
        }
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw MarginError(.storeUnavailable, "\(path) is not a regular file; pass a file path with --store")
        }
    }

    /// What a migration needs done in Swift, in its transaction, after its SQL.
    private static let completions: [String: @Sendable (Database) throws -> Void] = [
        "client-007-handles": { db in
            for table in ["articles", "annotations"] {
                let update = try db.makeStatement(sql: "UPDATE \(table) SET handle = ? WHERE id = ?")
                for id in try String.fetchAll(db, sql: "SELECT id FROM \(table) WHERE handle IS NULL") {
                    try update.execute(arguments: [Handle.of(id), id])
                }
            }
        },
    ]

    private static func migrate(_ dbQueue: DatabaseQueue, path: String) throws {
        var migrator = DatabaseMigrator()
        for migration in EmbeddedSchema.client {
            migrator.registerMigration(migration.identifier) { db in
                try db.execute(sql: migration.sql)
                try completions[migration.identifier]?(db)
            }
        }
        // One read transaction on every open: is the store newer, current, and set up?
        let (superseded, ready) = try dbQueue.read { db in
            let complete = try migrator.hasCompletedMigrations(db)
            let hasDevice = try complete && (Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM sync_state)") ?? false)
            return (try migrator.hasBeenSuperseded(db), hasDevice)
        }
        guard !superseded else {
            throw MarginError(.storeTooNew, "the library \(path) was written by a newer margin; upgrade margin to use it")
        }
        if ready { return }
        try dbQueue.writeWithoutTransaction { db in
            guard try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL") == "wal" else {
                throw MarginError(.storeUnavailable, "cannot switch the library \(path) to WAL mode")
            }
        }
        try migrator.migrate(dbQueue)
        try dbQueue.write { db in
            try db.execute(
                sql: "INSERT INTO sync_state (id, device_id, next_seq, last_hlc) SELECT 1, ?, 1, 0 "
                    + "WHERE NOT EXISTS (SELECT 1 FROM sync_state)",
                arguments: [Identifier.make()])
        }
    }

    static func storeError(_ error: any Error, path: String) -> MarginError {
        guard let error = error as? DatabaseError else {
            return MarginError(.io, "cannot use the library \(path): \(error)")
        }
        switch error.resultCode {
        case .SQLITE_NOTADB:
            return MarginError(.corruptStore, "\(path) is not a Marginalia library (not an SQLite database)", cause: error)
        case .SQLITE_CORRUPT:
            return MarginError(
                .corruptStore, "the library \(path) is damaged; restore it from a backup or an export", cause: error)
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return MarginError(
                .storeUnavailable, "the library \(path) is busy in another margin process; try again", cause: error)
        case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_READONLY, .SQLITE_AUTH:
            return MarginError(
                .storeUnavailable, "cannot open the library \(path) for writing; check its permissions", cause: error)
        case .SQLITE_FULL:
            return MarginError(.io, "the disk holding \(path) is full; nothing was changed", cause: error)
        default:
            return MarginError(.io, "the library \(path) failed: \(error.message ?? "SQLite error \(error.resultCode)")", cause: error)
        }
    }
}
