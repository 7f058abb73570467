import Foundation
import GRDB
import MarginCore
import MarginStore

/// A temporary folder with a library in it, removed when the fixture goes away.
final class StoreFixture {
    let directory: URL
    let store: LibraryStore

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let seeds = repositoryRoot.appendingPathComponent("seeds").path

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("margin-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try LibraryStore(path: directory.appendingPathComponent("library.sqlite").path)
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    var path: String { store.path }

    /// Another library in the same folder.
    func otherStore(_ name: String) throws -> LibraryStore {
        try LibraryStore(path: directory.appendingPathComponent(name).path)
    }

    /// Writes `bytes` to `name` in the fixture's folder and returns its path.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let url = directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
        return url.path
    }

    /// Imports the five seeds and returns their articles keyed by published date.
    @discardableResult
    func importSeeds() throws -> [String: Article] {
        let report = try store.importFiles([Self.seeds])
        let ids = Set(report.imported.map(\.id))
        return Dictionary(
            uniqueKeysWithValues: try store.articles().filter { ids.contains($0.id) }.map { ($0.published!.description, $0) })
    }

    /// A raw connection to the store file, for what the public API must not allow.
    func rawDatabase() throws -> DatabaseQueue {
        try DatabaseQueue(path: path)
    }

    func count(_ table: String) throws -> Int {
        try rawDatabase().read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)")! }
    }
}
