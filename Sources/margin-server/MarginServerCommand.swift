import ArgumentParser
import Foundation
import MarginServer

@main
struct MarginServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "margin-server",
        abstract: "The Marginalia sync server.",
        subcommands: [
            ServeCommand.self, UserCommand.self, DeviceCommand.self, MigrateCommand.self, CompactCommand.self, BackupCommand.self,
            RestoreCommand.self, HealthcheckCommand.self,
        ])

    /// Runs `body`, turning a server error into one line on stderr and exit status 1.
    static func report<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ServerError {
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            throw ExitCode.failure
        }
    }

    /// Milliseconds since 1970, as the server store keeps times.
    static var now: Int64 { Int64(Date().timeIntervalSince1970 * 1_000) }
}
