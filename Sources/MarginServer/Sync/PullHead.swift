import MarginCore
import MarginWire

/// What a pull reads before any record, the same on every backend: the library's last
/// sequence and compaction horizon, the last change of the pulling device the library
/// applied, and the commit holding the request's cursor. From it alone a pull is decided:
/// answered at once (nothing to read, or a reset), or read through a window of records.
struct PullHead: Sendable {
    var lastSeq: Int64
    var horizon: Int64
    /// 0 when the library has applied nothing from the device.
    var lastApplied: Int64
    /// The commit holding the request's cursor, when the library's history still has it.
    var commit: Commit?

    enum Decision {
        /// The page, with no record to read.
        case answer(PullPage)
        /// The device's view of the library does not hold: it resets, from the restore point
        /// `check` names once the backend has read the first sequence of the commits after
        /// `check.commitsAfter`.
        case reset(HistoryCheck)
        /// Read the records in the window.
        case read(PullWindow)
    }

    func decide(_ request: PullRequest) -> Decision {
        if let check = HistoryCheck(
            request, lastSeq: lastSeq, lastApplied: lastApplied, commit: request.history == nil ? nil : commit) {
            return .reset(check)
        }
        guard let window = PullWindow(request, lastSeq: lastSeq, horizon: horizon) else {
            return .answer(PullWindow.reset(lastSeq: lastSeq))
        }
        guard window.bound > request.cursor else {
            // Up to date: no record can lie between the cursor and the bound.
            return .answer(
                PullPage(records: [], cursor: request.cursor, bound: window.bound, more: false, reset: false, history: commit?.history))
        }
        return .read(window)
    }
}
