import Foundation
import Logging

@testable import MarginServer

/// Runs `body` with a new SQLite server store in a folder of its own (the repository, and
/// the store's path for opening it from elsewhere); the store is closed and the folder
/// removed afterwards.
func withTemporaryStore<Result>(_ body: (SQLiteSyncRepository, String) async throws -> Result) async throws -> Result {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("server-store-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("server.sqlite").path
    let repository = try SQLiteSyncRepository(path: path)
    defer { repository.close(logger: Logger(label: "test")) }
    return try await body(repository, path)
}
