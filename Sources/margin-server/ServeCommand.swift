import ArgumentParser
import Foundation
import Logging
import MarginServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serves the sync protocol over HTTP.")

    @Option(
        help: "The address and port to listen on (port 0 picks a free one). (default: 127.0.0.1:8080)",
        transform: ListenAddress.init(parsing:))
    var listen = ListenAddress(host: "127.0.0.1", port: 8080)

    @OptionGroup var database: DatabaseOptions

    @OptionGroup var retention: RetentionOptions

    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical. (default: info)", transform: Self.logLevel)
    var logLevel = Logger.Level.info

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

    static func logLevel(_ text: String) throws -> Logger.Level {
        guard let level = Logger.Level(rawValue: text) else { throw ValidationError("use trace, debug, info, notice, warning, error or critical") }
        return level
    }

    func run() async throws {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let (host, port) = (listen.host, listen.port)
        // Held while serving, so that no restore replaces the store under this process.
        let lock = try await MarginServerCommand.report { () throws(ServerError) -> StoreLock? in
            guard case .sqlite(let path) = try? database.serverDatabase() else { return nil }
            return try StoreLock(store: path, exclusive: false)
        }
        defer { withExtendedLifetime(lock) {} }
        try await database.withServableRepository(logger: Logger(label: "margin-server")) { repository in
            let app = buildApplication(
                ServerConfiguration(
                    host: host, port: port, tombstoneRetention: retention.tombstoneRetention, metricsToken: metricsToken,
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

/// `--listen HOST:PORT`.
struct ListenAddress: Sendable, CustomStringConvertible {
    var host: String
    var port: Int

    var description: String { "\(host):\(port)" }

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    init(parsing text: String) throws {
        guard let colon = text.lastIndex(of: ":"), colon > text.startIndex, let port = Int(text[text.index(after: colon)...]),
              (0...65_535).contains(port)
        else { throw ValidationError("write HOST:PORT, for example 127.0.0.1:8080") }
        self.init(host: String(text[..<colon]), port: port)
    }
}
