import MarginCore
import MarginWire

/// What a pull reads, decided from the library's sequence and compaction horizon the same
/// way on every backend.
struct PullWindow {
    /// The highest version this pass pulls: fixed by its first page.
    let bound: Int64
    let limit: Int
    /// A snapshot pass (a new device, or a reset) reads current state on every page: no
    /// tombstones, own records included (`PullRequest.snapshot`).
    let snapshot: Bool

    /// Nil when the cursor is ahead of the library, or behind its horizon in an
    /// incremental pull (it may have missed purged tombstones): the device resets. A
    /// snapshot pass needs no tombstones, so purges during it do not matter.
    init?(_ request: PullRequest, lastSeq: Int64, horizon: Int64) {
        snapshot = request.snapshot
        if request.cursor > lastSeq || (!snapshot && request.cursor < horizon) { return nil }
        bound = min(request.bound ?? lastSeq, lastSeq)
        limit = min(max(request.limit ?? 1_000, 1), SyncProtocol.maximumBatchCount)
    }

    /// The answer to a cursor the library cannot continue from: start again from 0
    /// (`restore`: the device holds history the library lost).
    static func reset(lastSeq: Int64, restore: RestorePoint? = nil) -> PullPage {
        PullPage(records: [], cursor: 0, bound: lastSeq, more: true, reset: true, restore: restore)
    }
}
