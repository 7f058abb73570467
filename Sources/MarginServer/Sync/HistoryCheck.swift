import MarginCore
import MarginWire

/// One push's place in a library's history: the sequences it handed out, and a name
/// for that history no other push (on this server or on a copy of it) shares. Devices
/// send back the name of the commit holding their cursor; a server restored from a
/// backup, whose pushes since reused the sequences, does not know it.
///
/// The name is `<milliseconds>-<random hex>`: the time of the commit, so that a restored
/// server can tell which of its commits came after the one a device names.
struct Commit: Sendable, Hashable {
    var firstSeq: Int64
    var lastSeq: Int64
    var history: String
    var committedAt: Int64

    /// A commit of the sequences after `previous` up to `last`, at server time `now`.
    init(after previous: Int64, upTo last: Int64, now: Int64) {
        firstSeq = previous + 1
        lastSeq = last
        committedAt = now
        history = "\(now)-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
    }

    init(firstSeq: Int64, lastSeq: Int64, history: String, committedAt: Int64) {
        self.firstSeq = firstSeq
        self.lastSeq = lastSeq
        self.history = history
        self.committedAt = committedAt
    }

    /// The commit holding sequence `seq`, given the first commit of the library that ends at
    /// or after it; nil when that one starts after `seq` (the commits that held it are gone).
    init?(holding seq: Int64, firstSeq: Int64, lastSeq: Int64, history: String, committedAt: Int64) {
        guard firstSeq <= seq else { return nil }
        self.init(firstSeq: firstSeq, lastSeq: lastSeq, history: history, committedAt: committedAt)
    }

    /// The commit time a history name carries, if it is one.
    static func committedAt(_ history: String) -> Int64? {
        history.split(separator: "-").first.flatMap { Int64($0) }
    }
}

/// Whether a device's view of its library still holds on this server, decided the same way
/// on every backend. A device (protocol 2) sends the history of its cursor and the last of
/// its changes it saw acknowledged; a server restored from a backup, or moved to an older
/// copy, no longer has one or the other. It then answers with a `RestorePoint`: the device
/// pulls everything again and sends back what the server lost.
struct HistoryCheck {
    /// Common history ends at or before this sequence, as far as the request tells.
    private let since: Int64
    private let lastApplied: Int64
    /// The time of the device's commit: the library's commits made after it are not common
    /// history (a restored server's later commits all are), so the first of them bounds it too.
    let commitsAfter: Int64?

    /// The check of `request`, or `nil` when the device's view holds. `commit` is the
    /// commit holding the request's cursor.
    init?(_ request: PullRequest, lastSeq: Int64, lastApplied: Int64, commit: Commit?) {
        guard let pushedSeq = request.pushedSeq else { return nil }  // protocol 1
        let cursorLost = request.cursor > lastSeq || (request.history != nil && commit?.history != request.history)
        guard cursorLost || pushedSeq > lastApplied else { return nil }
        self.lastApplied = lastApplied
        let time = cursorLost ? request.history.flatMap(Commit.committedAt) : nil
        commitsAfter = time
        // Without a history name, nothing is known in common.
        since = cursorLost && time == nil ? 0 : min(request.cursor, lastSeq)
    }

    /// The answer, given the first sequence of the earliest commit after `commitsAfter`.
    func restorePoint(firstSeqAfter first: Int64?) -> RestorePoint {
        RestorePoint(since: max(0, first.map { min(since, $0 - 1) } ?? since), lastApplied: lastApplied)
    }
}
