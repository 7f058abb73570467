import MarginCore
import MarginWire
import Testing

@testable import MarginServer

/// How a server tells that a device holds history it lost (it was restored from a backup).
@Suite struct HistoryCheckTests {
    static let mine = Commit(firstSeq: 91, lastSeq: 120, history: "2000-aa", committedAt: 2_000)

    @Test func aDeviceWhoseViewHoldsIsServedAsUsual() {
        let request = PullRequest(cursor: 120, bound: nil, limit: nil, history: Self.mine.history, pushedSeq: 4)
        #expect(HistoryCheck(request, lastSeq: 150, lastApplied: 4, commit: Self.mine) == nil)
        // Protocol 1 sends neither, and is served as before.
        #expect(HistoryCheck(PullRequest(cursor: 500, bound: nil, limit: nil), lastSeq: 150, lastApplied: 4, commit: nil) == nil)
    }

    @Test func aCursorAheadOfTheLibraryPartsAtTheLibrarysEnd() throws {
        let request = PullRequest(cursor: 120, bound: nil, limit: nil, history: Self.mine.history, pushedSeq: 4)
        let check = try #require(HistoryCheck(request, lastSeq: 100, lastApplied: 4, commit: nil))
        #expect(check.commitsAfter == 2_000)
        #expect(check.restorePoint(firstSeqAfter: nil) == RestorePoint(since: 100, lastApplied: 4))
    }

    @Test func sequencesHandedOutAgainAfterARestorePartBeforeTheirFirstCommit() throws {
        // Restored at 100, then others pushed 101…130 under new names.
        let theirs = Commit(firstSeq: 101, lastSeq: 130, history: "9000-bb", committedAt: 9_000)
        let request = PullRequest(cursor: 120, bound: nil, limit: nil, history: Self.mine.history, pushedSeq: 4)
        let check = try #require(HistoryCheck(request, lastSeq: 130, lastApplied: 4, commit: theirs))
        #expect(check.restorePoint(firstSeqAfter: 101) == RestorePoint(since: 100, lastApplied: 4))
    }

    @Test func changesTheServerAcknowledgedAndLostPartAtTheCursor() throws {
        let request = PullRequest(cursor: 120, bound: nil, limit: nil, history: Self.mine.history, pushedSeq: 9)
        let check = try #require(HistoryCheck(request, lastSeq: 150, lastApplied: 4, commit: Self.mine))
        #expect(check.commitsAfter == nil)
        #expect(check.restorePoint(firstSeqAfter: nil) == RestorePoint(since: 120, lastApplied: 4))
    }

    @Test func withoutAHistoryNothingIsKnownInCommon() throws {
        let request = PullRequest(cursor: 120, bound: nil, limit: nil, pushedSeq: 4)
        let check = try #require(HistoryCheck(request, lastSeq: 100, lastApplied: 4, commit: nil))
        #expect(check.restorePoint(firstSeqAfter: nil) == RestorePoint(since: 0, lastApplied: 4))
    }

    @Test func aCommitNamesItsTime() {
        let commit = Commit(after: 10, upTo: 12, now: 1_234)
        #expect((commit.firstSeq, commit.lastSeq) == (11, 12))
        #expect(Commit.committedAt(commit.history) == 1_234)
        #expect(Commit(after: 10, upTo: 12, now: 1_234).history != commit.history)
    }
}
