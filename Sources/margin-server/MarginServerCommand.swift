import ArgumentParser
import Foundation
import Logging
import MarginServer

@main
struct MarginServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "margin-server",
        abstract: "The Marginalia sync server.",
        subcommands: [Serve.self, User.self, Device.self, Migrate.self, Backup.self, Restore.self, Healthcheck.self])

    /// Runs `body`, turning a server error into one line on stderr and exit status 1.
    static func report<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ServerError {
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            throw ExitCode.failure
        }
    }
}

/// Where the data lives (`--database`, the password file, pool and timeout), shared by every subcommand.
struct DatabaseOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Where the server keeps its data: sqlite:PATH or postgres://USER@HOST:PORT/DATABASE[?sslmode=disable|prefer|require].",
        discussion: "Default: $MARGIN_DATABASE, else sqlite:margin-server.sqlite."))
    var database: String?

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

    /// The database the options (or the environment) name.
    func serverDatabase() throws -> ServerDatabase {
        let environment = ProcessInfo.processInfo.environment
        do {
            var database = try ServerDatabase(
                self.database ?? environment["MARGIN_DATABASE"] ?? "sqlite:margin-server.sqlite",
                passwordFile: databasePasswordFile ?? environment["MARGIN_DATABASE_PASSWORD_FILE"])
            if case .postgres(var settings) = database {
                settings.poolSize = databasePoolSize
                settings.timeout = .seconds(databaseTimeout)
                database = .postgres(settings)
            }
            return database
        } catch {
            throw ValidationError(error.message)
        }
    }

    /// Opens (creating and migrating) the store and runs `body` with it; a store that
    /// cannot be opened ends the command with one line on stderr and status 1. Log lines go
    /// to `logger`: by default warnings and errors only, on stderr (stdout carries tokens
    /// and listings).
    func withRepository<Result: Sendable>(
        logger: Logger = Logger(label: "margin-server") { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        },
        _ body: (any SyncRepository) async throws -> Result
    ) async throws -> Result {
        let database = try serverDatabase()
        return try await MarginServerCommand.report { try await withSyncRepository(database, logger: logger, body) }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serves the sync protocol over HTTP.")

    @Option(help: "The address and port to listen on (port 0 picks a free one).")
    var listen = "127.0.0.1:8080"

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Seconds a deleted record is kept before it is purged.")
    var tombstoneRetention: Int64 = 90 * 86_400

    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    @Option(help: "A file whose first line is the bearer token /metrics requires (without it, metrics are off).")
    var metricsTokenFile: String?

    @Option(help: "Failed authentications one address may make in a minute before it is refused for the rest of it.")
    var failedAuthLimit = 20

    @Option(
        name: .customLong("trusted-proxy"),
        help: ArgumentHelp(
            "A reverse proxy (an address, or ADDRESS/PREFIX) whose X-Forwarded-For names the client; repeat for several.",
            discussion: "Without it, X-Forwarded-For is ignored and the limit counts the proxy's address."))
    var trustedProxies: [String] = []

    func validate() throws {
        guard address != nil else { throw ValidationError("--listen must be HOST:PORT, for example 127.0.0.1:8080") }
        guard tombstoneRetention >= 0 else { throw ValidationError("--tombstone-retention cannot be negative") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level '\(logLevel)'") }
        guard failedAuthLimit >= 1 else { throw ValidationError("--failed-auth-limit must be at least 1") }
        do {
            _ = try TrustedProxies(trustedProxies)
        } catch {
            throw ValidationError("--trusted-proxy: \(error.message)")
        }
        if let metricsTokenFile, metricsToken == nil {
            throw ValidationError("cannot read a token from the first line of --metrics-token-file \(metricsTokenFile)")
        }
    }

    /// The first line of `--metrics-token-file`, if it is not empty.
    private var metricsToken: String? {
        metricsTokenFile.flatMap(SecretFile.firstLine(of:)).flatMap { $0.isEmpty ? nil : $0 }
    }

    private var address: (host: String, port: Int)? {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
              (0...65_535).contains(port), colon > listen.startIndex
        else { return nil }
        return (String(listen[..<colon]), port)
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let (host, port) = address!
        // Held while serving, so that no restore replaces the store under this process.
        let lock = try await MarginServerCommand.report { () throws(ServerError) -> StoreLock? in
            guard case .sqlite(let path) = try? database.serverDatabase() else { return nil }
            return try StoreLock(store: path, exclusive: false)
        }
        defer { withExtendedLifetime(lock) {} }
        try await database.withRepository(logger: Logger(label: "margin-server")) { repository in
            let app = buildApplication(
                ServerConfiguration(
                    host: host, port: port, tombstoneRetention: tombstoneRetention, metricsToken: metricsToken,
                    failedAuthenticationLimit: failedAuthLimit, trustedProxies: try TrustedProxies(trustedProxies)),
                repository: repository, logger: Logger(label: "margin-server")
            ) { port in
                // Scripts and tests read this line to learn the port.
                FileHandle.standardOutput.write(Data("margin-server listening on \(host):\(port)\n".utf8))
            }
            try await app.runService()
        }
    }
}

struct User: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manages users and their device tokens.",
        subcommands: [Add.self, Token.self, List.self, Revoke.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Adds a user and prints their first device token, once.")
        @Argument(help: "The user's name.") var name: String
        @OptionGroup var database: DatabaseOptions

        func validate() throws { try User.validateName(name) }

        func run() async throws {
            let token = DeviceToken.make()
            try await database.withRepository { try await $0.addUser(name: name, tokenHash: DeviceToken.hash(token), now: User.now) }
            print(token)
        }
    }

    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issues another device token to a user and prints it, once (one token per device).")
        @Argument(help: "The user's name.") var name: String
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let token = DeviceToken.make()
            try await database.withRepository {
                try await $0.addToken(userName: name, tokenHash: DeviceToken.hash(token), now: User.now)
            }
            print(token)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Lists users, their tokens, devices and records.")
        @OptionGroup var database: DatabaseOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let users = try await database.withRepository { try await $0.users() }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(users), as: UTF8.self))
                return
            }
            for user in users {
                print("\(user.name)\t\(user.revoked ? "revoked" : "active")\ttokens \(user.tokens)\tdevices \(user.devices)\trecords \(user.records)")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revokes a user and all their tokens; the library is kept.")
        @Argument(help: "The user's name.") var name: String
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await database.withRepository { try await $0.revokeUser(name: name, now: User.now) }
            print("revoked \(name)")
        }
    }

    static var now: Int64 { Int64(Date().timeIntervalSince1970 * 1_000) }

    static func validateName(_ name: String) throws {
        guard (1...64).contains(name.count), name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.@".contains($0) }) else {
            throw ValidationError("a user name has 1 to 64 letters, digits, '-', '_', '.' or '@'")
        }
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Creates or upgrades the server's store; with --from, copies a SQLite server store into PostgreSQL.",
        discussion: """
            Servers apply migrations themselves when they start (several at once is safe); this \
            command does it ahead of time. With --from sqlite:PATH, every user, token, device, record \
            and body of that store is copied into --database, which must be PostgreSQL and hold no \
            users, in one transaction. Devices keep their tokens and cursors: point them at the new \
            server and they carry on without re-syncing. Stop the SQLite server first.
            """)

    @OptionGroup var database: DatabaseOptions

    @Option(help: "A SQLite server store to copy into --database: sqlite:PATH.")
    var from: String?

    func validate() throws {
        guard let from else { return }
        guard case .sqlite(let path) = try? ServerDatabase(from), FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("--from must name an existing SQLite server store: sqlite:PATH")
        }
        guard case .postgres = try database.serverDatabase() else {
            throw ValidationError("--from copies into PostgreSQL: give --database postgres://USER@HOST:PORT/DATABASE")
        }
    }

    func run() async throws {
        guard let from, case .sqlite(let path) = try ServerDatabase(from) else {
            try await database.withRepository { _ in }
            print("\(try database.serverDatabase().description) is up to date")
            return
        }
        let copied = try await database.withRepository { repository in
            let source = try SQLiteSyncRepository(path: path)
            return try await (repository as! PostgresSyncRepository).copy(from: source)
        }
        let counts = copied.map { "\($0.rows) \($0.table)" }.joined(separator: ", ")
        print("copied \(counts) from \(from) into \(try database.serverDatabase().description)")
    }
}
