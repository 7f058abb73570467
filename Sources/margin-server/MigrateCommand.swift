import ArgumentParser
import Foundation
import MarginServer

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Creates or upgrades the server's store; with --from, copies a SQLite server store into PostgreSQL.",
        discussion: """
            Servers apply migrations themselves when they start (several at once is safe); this \
            command does it ahead of time. With --from sqlite:PATH, every user, token, device, record \
            and body of that store is copied into --database, which must be PostgreSQL and hold no \
            users, in one transaction. Devices keep their tokens and cursors: point them at the new \
            server and they carry on without re-syncing. Stop the SQLite server first.
            """)

    @OptionGroup var database: DatabaseOptions

    /// The path of the SQLite store to copy.
    @Option(help: "A SQLite server store to copy into --database: sqlite:PATH.", transform: Self.sqliteStore)
    var from: String?

    static let copiesIntoPostgres = "--from copies into PostgreSQL: give --database postgres://USER@HOST:PORT/DATABASE"

    static func sqliteStore(_ text: String) throws -> String {
        guard case .sqlite(let path) = try? ServerDatabase(text), FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("name an existing SQLite server store: sqlite:PATH")
        }
        return path
    }

    func validate() throws {
        guard from != nil else { return }
        guard case .postgres = try database.serverDatabase() else { throw ValidationError(Self.copiesIntoPostgres) }
    }

    func run() async throws {
        guard let path = from else {
            try await database.withRepository { _ in }
            print("\(try database.serverDatabase().description) is up to date")
            return
        }
        let copied = try await database.withPostgresRepository(otherwise: Self.copiesIntoPostgres) { repository in
            try await repository.copy(from: try SQLiteSyncRepository(path: path))
        }
        let counts = copied.map { "\($0.rows) \($0.table)" }.joined(separator: ", ")
        print("copied \(counts) from sqlite:\(path) into \(try database.serverDatabase().description)")
    }
}
