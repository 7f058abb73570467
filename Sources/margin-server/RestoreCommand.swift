import ArgumentParser
import Foundation
import MarginServer

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
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
