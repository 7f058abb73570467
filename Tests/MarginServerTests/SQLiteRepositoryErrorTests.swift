import Foundation
import GRDB
import Testing

@testable import MarginServer

@Suite struct SQLiteRepositoryErrorTests {
    /// Storage errors are the repository's to name: a store another process keeps locked
    /// past the busy timeout (10 s) is `unavailable` — a 503 the client retries — not a
    /// failure of the server.
    @Test func aStoreLockedPastTheBusyTimeoutIsUnavailable() async throws {
        try await withTemporaryStore { repository, path in
            // Another process's writer holds the store until the attempt has given up.
            let locker = try DatabaseQueue(path: path)
            let locked = DispatchSemaphore(value: 0)
            let release = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                try? locker.writeWithoutTransaction { db in
                    try db.execute(sql: "BEGIN IMMEDIATE")
                    locked.signal()
                    release.wait()
                    try db.execute(sql: "ROLLBACK")
                }
            }
            locked.wait()
            defer { release.signal() }
            let error = await #expect(throws: ServerError.self) {
                try await repository.addUser(name: "blocked", tokenHash: String(repeating: "a", count: 64), now: 0)
            }
            #expect(error?.code == .unavailable)
            #expect(error?.message == "the server is busy; try again shortly")
        }
    }
}
