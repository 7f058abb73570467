import Foundation
import Logging

/// Where a server keeps its data: `sqlite:PATH` (the default, nothing to set up) or
/// `postgres://USER@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require]`, which
/// several server processes can share.
public enum ServerDatabase: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresSettings)

    /// The address, without any password.
    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let settings): settings.description
        }
    }

    /// Parses `--database`. A PostgreSQL password never appears in the address: it is read
    /// from a file (`readingPassword(from:)`).
    public init(_ address: String) throws(ServerError) {
        if address.hasPrefix("sqlite:") {
            let path = String(address.dropFirst("sqlite:".count))
            guard !path.isEmpty else {
                throw ServerError(.badRequest, "sqlite: needs a path, for example sqlite:/var/lib/marginalia/server.sqlite")
            }
            self = .sqlite(path: path)
        } else {
            guard address.hasPrefix("postgres://") || address.hasPrefix("postgresql://") else {
                throw ServerError(
                    .badRequest, "the database must be sqlite:PATH or postgres://USER@HOST:PORT/DATABASE, not '\(address)'")
            }
            self = .postgres(try PostgresSettings(address))
        }
    }

    /// The database with its PostgreSQL password read from the first line of `file`.
    public func readingPassword(from file: String) throws(ServerError) -> ServerDatabase {
        guard case .postgres(var settings) = self else {
            throw ServerError(.badRequest, "a password file is only for a postgres:// database")
        }
        guard let line = SecretFile.firstLine(of: file) else { throw ServerError(.badRequest, "cannot read the password file \(file)") }
        settings.password = line
        return .postgres(settings)
    }
}

/// How to reach a PostgreSQL database, and how hard to use it.
public struct PostgresSettings: Sendable, Equatable {
    /// Whether connections are encrypted (libpq's `sslmode`): `prefer` tries TLS and falls
    /// back to plain text; `require` refuses a server without TLS.
    public enum TLSMode: String, Sendable {
        case disable, prefer, require
    }

    public var host: String
    public var port: Int
    public var user: String
    public var database: String
    public var password: String?
    public var tls: TLSMode
    /// Connections one server process keeps to PostgreSQL at most.
    public var poolSize: Int = 10
    /// How long a statement may run, and how long a request waits for a connection,
    /// before it fails with `unavailable` (503).
    public var timeout: Duration = .seconds(10)

    /// Parses `postgres://USER@HOST[:PORT]/DATABASE[?sslmode=…]`.
    init(_ address: String) throws(ServerError) {
        let usage = "write the database as postgres://USER@HOST:PORT/DATABASE"
        guard let components = URLComponents(string: address), let host = components.host, !host.isEmpty else {
            throw ServerError(.badRequest, "cannot read the database address; \(usage)")
        }
        guard components.password == nil else {
            throw ServerError(
                .badRequest,
                "a password in the database address would show in process lists and shell history; "
                    + "put it in a file and pass --database-password-file (or MARGIN_DATABASE_PASSWORD_FILE)")
        }
        guard let user = components.user, !user.isEmpty else { throw ServerError(.badRequest, "the database address names no user; \(usage)") }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw ServerError(.badRequest, "the database address names no database; \(usage)")
        }
        var tls = TLSMode.prefer
        for item in components.queryItems ?? [] {
            switch (item.name, item.value.flatMap(TLSMode.init(rawValue:))) {
            case ("sslmode", let mode?): tls = mode
            default:
                throw ServerError(
                    .badRequest,
                    "unknown database option '\(item.name)=\(item.value ?? "")'; only sslmode=disable|prefer|require is read")
            }
        }
        self.host = host
        port = components.port ?? 5432
        self.user = user
        self.database = database
        self.tls = tls
    }

    /// The address without the password, for messages and logs.
    public var description: String { "postgres://\(user)@\(host):\(port)/\(database)" }
}

/// Opens the repository `database` names, applying its migrations, and runs `body` with
/// it. For PostgreSQL the connection pool runs for as long as `body` does.
public func withSyncRepository<Result: Sendable>(
    _ database: ServerDatabase, logger: Logger, _ body: (any SyncRepository) async throws -> Result
) async throws -> Result {
    try await withServableRepository(database, logger: logger) { repository in try await running(repository, body) }
}

/// Opens the repository `database` names for an application that serves it
/// (`buildApplication`): the application runs its services and migrates it before it
/// listens. A SQLite store is opened (and migrated) here, and closed when `body` returns.
public func withServableRepository<Result: Sendable>(
    _ database: ServerDatabase, logger: Logger, _ body: (any SyncRepository) async throws -> Result
) async throws -> Result {
    switch database {
    case .sqlite(let path):
        let repository = try SQLiteSyncRepository(path: path)
        // Closed here, not whenever the last reference goes: a store left open at exit
        // keeps its write-ahead log beside it, and a copy of the file alone is then not
        // the whole store.
        defer { repository.close(logger: logger) }
        return try await body(repository)
    case .postgres(let settings):
        return try await body(PostgresSyncRepository(settings, logger: logger))
    }
}

/// Opens (migrating) the PostgreSQL store `settings` name, runs `body` with it, and closes
/// its connections.
public func withPostgresSyncRepository<Result: Sendable>(
    _ settings: PostgresSettings, logger: Logger, _ body: (PostgresSyncRepository) async throws -> Result
) async throws -> Result {
    let repository = PostgresSyncRepository(settings, logger: logger)
    return try await running(repository, body)
}

/// Runs `body` with `repository` while its services run beside it, once it is migrated
/// (a command's work, outside an application).
private func running<Repository: SyncRepository, Result: Sendable>(
    _ repository: Repository, _ body: (Repository) async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for service in repository.services { group.addTask { try await service.run() } }
        defer { group.cancelAll() }
        try await repository.migrate()
        return try await body(repository)
    }
}
