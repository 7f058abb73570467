import Foundation
import GRDB
import MarginStore
import Testing

/// Where pulls start, in one store.
@Suite struct PullStateTests {
    /// Found by NetworkFaultTests (seed 61348201): a device whose first sync pushed an
    /// article and then failed part way through the reset pull that followed went on, next
    /// time, with an ordinary pull, which leaves out the device's own records; the reset's
    /// end then dropped its own article. An interrupted reset now starts over.
    @Test func aResetInterruptedAfterSomePagesStartsOver() throws {
        let fixture = try StoreFixture()
        try fixture.importSeeds()
        let queue = try fixture.rawDatabase()
        try queue.write { db in
            try db.execute(sql: "UPDATE articles SET version = 1")
            try db.execute(sql: "UPDATE sync_state SET resetting = 1, cursor = 7, history = 'h', restore_since = 3, pushed_seq = 5")
            try db.execute(sql: "INSERT INTO reset_seen (id) SELECT id FROM articles LIMIT 2")
        }
        try queue.close()

        let state = try fixture.store.pullState()

        #expect(state.cursor == 0)
        #expect(state.history == nil)
        #expect(state.resetting)
        #expect(state.snapshot)
        let (seen, restoreSince) = try fixture.rawDatabase().read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM reset_seen"), try Int64.fetchOne(db, sql: "SELECT restore_since FROM sync_state"))
        }
        #expect(seen == 0)
        // What a restore asked to send again is kept for the pass that starts over.
        #expect(restoreSince == 3)
    }

    /// A store that holds nothing the server acknowledged pulls a snapshot of the library;
    /// one whose first sync pushed records pulls every change after 0 instead, deletes
    /// included (a snapshot would send its own records back and leave deletes out).
    @Test func onlyAStoreWithNothingAcknowledgedPullsASnapshot() throws {
        let fixture = try StoreFixture()
        try fixture.importSeeds()

        let fresh = try fixture.store.pullState()
        #expect(fresh.cursor == 0)
        #expect(fresh.snapshot)

        let queue = try fixture.rawDatabase()
        try queue.write { db in try db.execute(sql: "UPDATE articles SET version = 1") }
        try queue.close()
        let pushed = try fixture.store.pullState()

        #expect(pushed.cursor == 0)
        #expect(!pushed.snapshot)
        #expect(!pushed.resetting)
    }
}
