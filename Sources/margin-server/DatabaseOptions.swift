import ArgumentParser
import Foundation
import Logging
import MarginServer

/// Where the data lives (`--database`, the password file, pool and timeout), shared by every subcommand.
struct DatabaseOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Where the server keeps its data: sqlite:PATH or postgres://USER@HOST:PORT/DATABASE[?sslmode=disable|prefer|require].",
            discussion: "Default: $MARGIN_DATABASE, else sqlite:margin-server.sqlite."),
        transform: Self.address)
    var database: ServerDatabase?

    @Option(help: "A file whose first line is the PostgreSQL password (default: $MARGIN_DATABASE_PASSWORD_FILE).")
    var databasePasswordFile: String?

    @Option(help: "Connections one server process keeps to PostgreSQL at most.")
    var databasePoolSize = 10

    @Option(help: "Seconds a PostgreSQL statement, or a wait for a connection, may take before the request fails (503).")
    var databaseTimeout = 10

    func validate() throws {
        _ = try serverDatabase()
        guard (1...1_000).contains(databasePoolSize) else { throw ValidationError("--database-pool-size must be 1 to 1000") }
        guard (1...3_600).contains(databaseTimeout) else { throw ValidationError("--database-timeout must be 1 to 3600 seconds") }
    }

    /// `--database` (or `$MARGIN_DATABASE`), parsed; a bad address is a usage error.
    static func address(_ text: String) throws -> ServerDatabase {
        do {
            return try ServerDatabase(text)
        } catch {
            throw ValidationError(error.message)
        }
    }

    /// The database the options (or the environment) name.
    func serverDatabase() throws -> ServerDatabase {
        let environment = ProcessInfo.processInfo.environment
        var database = try self.database ?? Self.address(environment["MARGIN_DATABASE"] ?? "sqlite:margin-server.sqlite")
        if let file = databasePasswordFile ?? environment["MARGIN_DATABASE_PASSWORD_FILE"] {
            do {
                database = try database.readingPassword(from: file)
            } catch {
                throw ValidationError(error.message)
            }
        }
        if case .postgres(var settings) = database {
            settings.poolSize = databasePoolSize
            settings.timeout = .seconds(databaseTimeout)
            database = .postgres(settings)
        }
        return database
    }

    /// Opens (creating and migrating) the store and runs `body` with it; a store that
    /// cannot be opened ends the command with one line on stderr and status 1. Log lines go
    /// to `logger`: by default warnings and errors only, on stderr (stdout carries tokens
    /// and listings).
    func withRepository<Result: Sendable>(
        logger: Logger = Self.warnings, _ body: (any SyncRepository) async throws -> Result
    ) async throws -> Result {
        let database = try serverDatabase()
        return try await MarginServerCommand.report { try await withSyncRepository(database, logger: logger, body) }
    }

    /// Opens the store for an application that serves it (`buildApplication` runs and
    /// migrates it); a store that cannot be opened, or a server that fails, ends the command
    /// with one line on stderr and status 1.
    func withServableRepository<Result: Sendable>(
        logger: Logger, _ body: (any SyncRepository) async throws -> Result
    ) async throws -> Result {
        let database = try serverDatabase()
        return try await MarginServerCommand.report { try await MarginServer.withServableRepository(database, logger: logger, body) }
    }

    /// `withRepository` for a command that only PostgreSQL supports; another database is a
    /// usage error saying `why`.
    func withPostgresRepository<Result: Sendable>(
        otherwise why: String, _ body: (PostgresSyncRepository) async throws -> Result
    ) async throws -> Result {
        guard case .postgres(let settings) = try serverDatabase() else { throw ValidationError(why) }
        return try await MarginServerCommand.report { try await withPostgresSyncRepository(settings, logger: Self.warnings, body) }
    }

    /// Warnings and errors only, on stderr (stdout carries tokens and listings).
    static var warnings: Logger {
        Logger(label: "margin-server") { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
    }
}

