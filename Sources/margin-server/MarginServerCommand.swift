import ArgumentParser
import Foundation
import Logging
import MarginServer

@main
struct MarginServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "margin-server",
        abstract: "The Marginalia sync server.",
        subcommands: [Serve.self, User.self])
}

/// `--database sqlite:PATH`, shared by every subcommand.
struct DatabaseOptions: ParsableArguments {
    @Option(help: "Where the server keeps its data: sqlite:PATH.")
    var database = "sqlite:margin-server.sqlite"

    func validate() throws {
        guard database.hasPrefix("sqlite:"), database.count > "sqlite:".count else {
            throw ValidationError("--database must be sqlite:PATH (for example sqlite:/var/lib/marginalia/server.sqlite)")
        }
    }

    func repository() throws -> any SyncRepository {
        do {
            return try SQLiteSyncRepository(path: String(database.dropFirst("sqlite:".count)))
        } catch {
            throw CleanExit.message("error: cannot open \(database): \(error)")
        }
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

    func validate() throws {
        guard address != nil else { throw ValidationError("--listen must be HOST:PORT, for example 127.0.0.1:8080") }
        guard tombstoneRetention >= 0 else { throw ValidationError("--tombstone-retention cannot be negative") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level '\(logLevel)'") }
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
        let logger = Logger(label: "margin-server")
        let repository = try database.repository()
        let (host, port) = address!
        let app = buildApplication(
            ServerConfiguration(host: host, port: port, tombstoneRetention: tombstoneRetention),
            repository: repository, logger: logger
        ) { port in
            // Scripts and tests read this line to learn the port.
            FileHandle.standardOutput.write(Data("margin-server listening on \(host):\(port)\n".utf8))
        }
        try await app.runService()
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
            try await User.report { try await database.repository().addUser(name: name, tokenHash: DeviceToken.hash(token), now: User.now) }
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
            try await User.report {
                try await database.repository().addToken(userName: name, tokenHash: DeviceToken.hash(token), now: User.now)
            }
            print(token)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Lists users, their tokens, devices and records.")
        @OptionGroup var database: DatabaseOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let users = try await User.report { try await database.repository().users() }
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
            try await User.report { try await database.repository().revokeUser(name: name, now: User.now) }
            print("revoked \(name)")
        }
    }

    static var now: Int64 { Int64(Date().timeIntervalSince1970 * 1_000) }

    static func validateName(_ name: String) throws {
        guard (1...64).contains(name.count), name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.@".contains($0) }) else {
            throw ValidationError("a user name has 1 to 64 letters, digits, '-', '_', '.' or '@'")
        }
    }

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
