import ArgumentParser
import Foundation
import MarginServer

struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
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
