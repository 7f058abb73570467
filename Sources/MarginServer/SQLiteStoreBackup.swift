import Foundation
import GRDB
import MarginCore
import MarginSchema

/// Backups of a SQLite server store, taken while servers run, and their restore while none
/// does.
///
/// A backup is `VACUUM INTO` from a read transaction: a consistent copy of the store as of
/// one moment, written beside its final name, flushed to disk, then renamed to it (mode
/// 0600: it holds token hashes). A restore checks the backup is a margin-server store this
/// release can open, takes the store's lock exclusively (every `serve` on the store holds it
/// shared, so a restore under a running server is refused), moves the current store and its
/// WAL aside (`<store>.replaced-<time>`: a restore loses nothing), and puts a copy of the
/// backup in its place. Devices then give back what the backup lacks when they next sync.
public enum SQLiteStoreBackup {
    /// Writes a backup of the store at `store` to `target`, which must not exist yet; returns its size in bytes.
    public static func backup(store: String, to target: String) throws(ServerError) -> Int {
        guard FileManager.default.fileExists(atPath: store) else { throw ServerError(.notFound, "no server store at \(store)") }
        guard !FileManager.default.fileExists(atPath: target) else {
            throw ServerError(.conflict, "\(target) exists already; name a new file for the backup")
        }
        let partial = target + ".partial"
        try? FileManager.default.removeItem(atPath: partial)
        // Empty and the owner's alone before SQLite writes into it (it may write into an empty file).
        guard FileManager.default.createFile(atPath: partial, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw ServerError(.unavailable, "cannot create \(partial); check the folder exists and its permissions")
        }
        do {
            let queue = try openReadOnly(store)
            try check(queue, what: store)
            try queue.inDatabase { db in try db.execute(sql: "VACUUM INTO ?", arguments: [partial]) }
            try queue.close()
            try durable(partial)
            guard rename(partial, target) == 0 else { throw ServerError(.unavailable, "cannot name the backup \(target): \(errorText())") }
            try syncFolder(of: target)
        } catch let error as ServerError {
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw ServerError(.unavailable, "cannot back up \(store) to \(target): \(error)")
        }
        return (try? FileManager.default.attributesOfItem(atPath: target)[.size] as? Int) ?? 0
    }

    /// Replaces the store at `store` with a copy of the backup `backup`; returns where the
    /// replaced store was kept (`nil` when there was none). Refused while a server serves it.
    public static func restore(store: String, from backup: String) throws(ServerError) -> String? {
        guard FileManager.default.fileExists(atPath: backup) else { throw ServerError(.notFound, "no backup at \(backup)") }
        do {
            let queue = try openReadOnly(backup)
            try check(queue, what: backup)
            try queue.close()
        } catch let error as ServerError {
            throw error
        } catch {
            throw ServerError(.badRequest, "\(backup) is not a margin-server store: \(error)")
        }
        let lock = try StoreLock(store: store, exclusive: true)
        defer { lock.release() }
        let incoming = store + ".restoring"
        do {
            try? FileManager.default.removeItem(atPath: incoming)
            try FileManager.default.copyItem(atPath: backup, toPath: incoming)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: incoming)
            try durable(incoming)
            var kept: String?
            if FileManager.default.fileExists(atPath: store) {
                let aside = store + ".replaced-" + Timestamp.now().iso8601.replacingOccurrences(of: ":", with: "")
                for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: store + suffix) {
                    try FileManager.default.moveItem(atPath: store + suffix, toPath: aside + suffix)
                }
                try? FileManager.default.removeItem(atPath: store + "-shm")
                kept = aside
            }
            guard rename(incoming, store) == 0 else { throw ServerError(.unavailable, "cannot put the backup in place at \(store): \(errorText())") }
            try syncFolder(of: store)
            return kept
        } catch let error as ServerError {
            throw error
        } catch {
            throw ServerError(.unavailable, "cannot restore \(store) from \(backup): \(error)")
        }
    }

    private static func openReadOnly(_ path: String) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        return try DatabaseQueue(path: path, configuration: configuration)
    }

    /// Throws unless `queue` holds a margin-server store this release can open, intact.
    private static func check(_ queue: DatabaseQueue, what: String) throws {
        let (applied, integrity) = try queue.read { db -> ([String], String) in
            guard try db.tableExists("grdb_migrations") else { return ([], "") }
            return (try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"),
                    try String.fetchOne(db, sql: "PRAGMA quick_check") ?? "")
        }
        let known = Set(EmbeddedSchema.server.map(\.identifier))
        guard applied.contains(EmbeddedSchema.server[0].identifier) else {
            throw ServerError(.badRequest, "\(what) is not a margin-server store")
        }
        guard Set(applied).isSubset(of: known) else {
            throw ServerError(.badRequest, "\(what) was written by a newer margin-server; upgrade it first")
        }
        guard integrity == "ok" else { throw ServerError(.badRequest, "\(what) is damaged: \(integrity)") }
    }

    /// Flushes the file at `path` to disk.
    private static func durable(_ path: String) throws {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw ServerError(.unavailable, "cannot open \(path): \(errorText())") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw ServerError(.unavailable, "cannot flush \(path) to disk: \(errorText())") }
    }

    /// Flushes the folder holding `path`, so that a rename in it survives a power cut.
    private static func syncFolder(of path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        try durable(folder.isEmpty ? "." : folder)
    }

    private static func errorText() -> String { String(cString: strerror(errno)) }
}

/// The lock on a SQLite server store: each `serve` holds it shared for as long as it runs,
/// a restore exclusively, so that one never replaces a store a server has open. An
/// `flock` on `<store>.lock`, released when its process ends however it ends.
public final class StoreLock: Sendable {
    private let descriptor: Int32

    /// Takes the lock, without waiting: an exclusive one fails while any server holds it.
    public init(store: String, exclusive: Bool) throws(ServerError) {
        let path = store + ".lock"
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw ServerError(.unavailable, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0 else {
            close(descriptor)
            throw ServerError(
                .conflict,
                exclusive ? "a margin-server is serving \(store); stop it first" : "\(store) is being restored; try again when it is done")
        }
    }

    /// Releases the lock (also released when the process ends).
    public func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
