import ArgumentParser
import Foundation
import MarginServer

struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Writes a consistent copy of a SQLite server store, while servers keep running.",
        discussion: """
            The copy is of one moment (SQLite's VACUUM INTO, in a read transaction), flushed to disk \
            before it takes its name; --to must not exist. A PostgreSQL store is backed up with \
            pg_dump (see the README, "Backups").
            """)

    @OptionGroup var database: DatabaseOptions

    @Option(help: "The backup file to write (it must not exist).")
    var to: String

    func run() async throws {
        guard case .sqlite(let path) = try database.serverDatabase() else {
            throw ValidationError("backup copies a SQLite store; back up PostgreSQL with pg_dump (see the README, \"Backups\")")
        }
        let bytes = try await MarginServerCommand.report { try SQLiteStoreBackup.backup(store: path, to: to) }
        print("backed up sqlite:\(path) to \(to) (\(bytes) bytes)")
    }
}

struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Puts a backup of a SQLite server store in its place; stop its servers first.",
        discussion: """
            The backup is checked (a margin-server store this release opens, intact), the current \
            store is kept beside it as STORE.replaced-TIME, and a copy of the backup takes its place. \
            Refused while a server serves the store. Devices give back what the backup lacks when \
            they next sync.
            """)

    @OptionGroup var database: DatabaseOptions

    @Option(help: "The backup file to restore.")
    var from: String

    func run() async throws {
        guard case .sqlite(let path) = try database.serverDatabase() else {
            throw ValidationError("restore replaces a SQLite store; restore PostgreSQL with pg_restore (see the README, \"Backups\")")
        }
        let kept = try await MarginServerCommand.report { try SQLiteStoreBackup.restore(store: path, from: from) }
        print("restored sqlite:\(path) from \(from)" + (kept.map { "; the store it replaced is kept at \($0)" } ?? ""))
    }
}
