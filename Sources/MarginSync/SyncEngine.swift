import Foundation
import MarginCore
import MarginStore
import MarginWire

/// Limits and hooks of one sync.
public struct SyncOptions: Sendable {
    /// The whole sync, retries included, must finish within this.
    public var timeout: Duration = .seconds(60)
    /// One request may take at most this (and no longer than what is left of `timeout`).
    public var requestTimeout: Duration = .seconds(30)
    public var pushBatchCount = 1_000
    public var pushBatchBytes = 4 * 1024 * 1024
    public var pullPageCount = 1_000
    /// Called with a short line after each batch (for a progress display).
    public var progress: (@Sendable (String) -> Void)?

    public init() {}
}

/// What a sync did.
public struct SyncReport: Sendable, Hashable {
    public var pushed = 0
    public var outcomes: [ChangeResult.Outcome: Int] = [:]
    /// Changes the server refused in this sync, parked (`LibraryStore.rejectedChanges()`).
    public var parked: [RejectedChange] = []
    /// Conflicts this sync brought (`LibraryStore.conflicts()`), newest first: values of this
    /// device's changes that lost, and values that other devices' changes lost to this one's.
    public var newConflicts: [ConflictRecord] = []
    public var pulled = 0
    public var bodiesFetched = 0
    public var requests = 0
    /// The server had compacted history past this store's cursor, or lost history this
    /// store holds: everything was pulled again.
    public var reset = false
    /// The server was restored from a backup and lost history this store holds: what it
    /// lacked was sent again.
    public var restored = false
}

/// Synchronizes a store with its remote: pushes pending changes in batches, applying each
/// reply in one transaction (a change the server refuses is parked, never retried, and
/// never holds back the others); then pulls pages up to a bound fixed by the first page,
/// each page with its cursor in one transaction, fetching missing article bodies first
/// (later pages are fetched while earlier ones are applied). A server restored from a
/// backup is noticed by the pull (or by a push it cannot continue): the store pulls
/// everything again, keeps what the server lost, and pushes it again in the same sync.
/// Transient failures are retried with exponential backoff and jitter within
/// `options.timeout`; everything else fails at once.
///
/// Holds the store's sync lock while it runs. Used by one task.
public final class SyncEngine {
    private let store: LibraryStore
    private let options: SyncOptions
    private let client: SyncClient
    private var report = SyncReport()

    public init(store: LibraryStore, remote: RemoteSettings, token: String, options: SyncOptions = SyncOptions()) throws(SyncError) {
        self.store = store
        self.options = options
        let deviceId: String
        do {
            deviceId = try store.deviceId()
        } catch {
            throw SyncError(.store, "\(error)")
        }
        client = try SyncClient(SyncClient.Settings(
            remote: remote, token: token, deviceId: deviceId,
            deadline: ContinuousClock.now + options.timeout, requestTimeout: options.requestTimeout))
    }

    /// Runs one sync; records its outcome in the store (`margin status` shows it).
    public func run() throws(SyncError) -> SyncReport {
        let lock = try SyncLock(storePath: store.path)
        defer { withExtendedLifetime(lock) {} }
        report = SyncReport()
        client.settings.deadline = ContinuousClock.now + options.timeout
        let sent = client.requests
        do {
            let knownConflicts = try Self.storeCall { try store.conflictIds() }
            try push()
            try pull()
            if report.restored {
                // What the restored server lacked was logged by the pull: send it now.
                try pushBatches()
                try pull()
            }
            report.newConflicts = try Self.storeCall { try store.conflicts(excluding: knownConflicts) }
            try Self.storeCall { try store.recordSyncResult(error: nil) }
        } catch {
            try? store.recordSyncResult(error: error.message)
            throw error
        }
        report.requests += client.requests - sent
        return report
    }

    // MARK: - Push and pull

    /// Pushes every pending change. A server that lacks changes it acknowledged (restored
    /// from a backup) refuses to continue the device's sequence: the pull finds out where
    /// the histories part, and the push goes on from there.
    private func push() throws(SyncError) {
        do {
            try pushBatches()
        } catch where error.code == .restoredServer {
            try pull()
            try pushBatches()
        }
    }

    /// Pushes the pending changes in batches. While the server stores one batch, a second
    /// thread applies the reply to the batch before it, then reads and encodes the batch after
    /// it: the device and the server work at the same time instead of taking turns. A reply
    /// that rewrites the changes logged after its batch (`LibraryStore.keepsLaterChanges`)
    /// is applied before the next batch is read. Replies are applied in order, each in one
    /// transaction; a crash between sending a batch and applying its reply sends it again
    /// at the next sync, and the server answers `alreadyApplied`.
    private func pushBatches() throws(SyncError) {
        let (store, options) = (store, options)
        var batch = try Batch(store, options)
        var unapplied: Reply?
        while !batch.request.changes.isEmpty {
            let (previous, sent) = (unapplied, batch.request)
            let job = BackgroundJob { () throws(SyncError) in
                let summary = try previous.map { reply throws(SyncError) in try Self.apply(reply, to: store) }
                return (summary, try Batch(store, options, following: sent))
            }
            let sending = Result { () throws(SyncError) -> PushResponse in try client.send(batch.encoded) }
            let (summary, next) = try job.wait()
            if let previous, let summary { count(previous.request, summary) }
            let response = try sending.get()
            let bodies = try fetchBodies(try Self.storeCall { try store.missingBodies(of: response.records) })
            let reply = Reply(request: batch.request, response: response, bodies: bodies)
            if LibraryStore.keepsLaterChanges(response, of: batch.request) {
                (unapplied, batch) = (reply, next)
            } else {
                count(batch.request, try Self.apply(reply, to: store))
                unapplied = nil
                batch = try Batch(store, options)
            }
        }
        if let unapplied { count(unapplied.request, try Self.apply(unapplied, to: store)) }
    }

    /// Pending changes to push, and their request encoded.
    private struct Batch: Sendable {
        let request: PushRequest
        let encoded: SyncClient.Encoded

        /// The oldest pending changes; `following` a batch whose reply is not applied yet,
        /// those after it.
        init(_ store: LibraryStore, _ options: SyncOptions, following previous: PushRequest? = nil) throws(SyncError) {
            request = try storeCall {
                try store.pendingPush(maxCount: options.pushBatchCount, maxBytes: options.pushBatchBytes, following: previous)
            }
            encoded = SyncClient.Encoded("push", request)
        }
    }

    /// A push batch, the server's reply, and the bodies of replied articles the store lacks.
    private struct Reply: Sendable {
        var request: PushRequest
        var response: PushResponse
        var bodies: [WireBody]
    }

    private static func apply(_ reply: Reply, to store: LibraryStore) throws(SyncError) -> PushSummary {
        try storeCall { try store.applyPushResponse(reply.response, for: reply.request, bodies: reply.bodies) }
    }

    /// Counts an applied batch in the report.
    private func count(_ request: PushRequest, _ summary: PushSummary) {
        report.pushed += request.changes.count
        report.outcomes.merge(summary.outcomes, uniquingKeysWith: +)
        report.parked += summary.parked
        options.progress?("pushed \(report.pushed) changes")
    }

    /// Pulls in passes: the pages after the store's cursor up to a bound the first page
    /// fixes. A pass's first page is fetched here (with nothing to do, the only request);
    /// the rest by a `PageFetcher` while this thread applies the one before.
    private func pull() throws(SyncError) {
        var state = try Self.storeCall { try store.pullState() }
        var rounds = 0
        var resets = 0
        while true {
            let request = PullRequest(
                cursor: state.cursor, bound: nil, limit: options.pullPageCount, snapshot: state.snapshot, history: state.history,
                pushedSeq: state.pushedSeq)
            var page = try Self.check(client.send("pull", request))
            var fetcher: PageFetcher?
            defer {
                fetcher?.cancel()
                report.requests += fetcher?.requests ?? 0
            }
            var cursor = state.cursor
            while !page.page.reset {
                try apply(page, after: cursor, snapshot: state.cursor == 0)
                cursor = page.page.cursor
                guard page.page.more else { break }
                if fetcher == nil { fetcher = PageFetcher(after: page.page, request, settings: client.settings) }
                page = try fetcher!.next()
            }
            if page.page.reset {
                resets += 1
                guard (!state.resetting || cursor > 0 || page.page.restore != nil), resets <= 2 else {
                    throw SyncError(.server, "the server asked for a reset of a pull from the start; check the server")
                }
                try Self.storeCall { try store.beginReset(restore: page.page.restore) }
                report.reset = true
                report.restored = report.restored || page.page.restore != nil
                state = try Self.storeCall { try store.pullState() }
                continue
            }
            if state.resetting {
                try Self.storeCall { try store.finishReset() }
            }
            state = try Self.storeCall { try store.pullState() }
            // Annotations whose article changed after the bound wait for it: one more pass.
            rounds += 1
            guard rounds < 3, try Self.storeCall({ try store.hasParkedRecords() }) else { return }
        }
    }

    /// Applies one pulled page (of a pass from nothing: `snapshot`), with the article bodies
    /// it needs that the store lacks.
    private func apply(_ checked: CheckedPullPage, after cursor: Int64, snapshot: Bool) throws(SyncError) {
        let records = checked.page.records
        guard !records.isEmpty || checked.page.cursor != cursor else { return }
        let bodies = try fetchBodies(try Self.storeCall { try store.missingBodies(of: records) })
        try Self.storeCall { try store.applyPullPage(checked, bodies: bodies, snapshot: snapshot) }
        report.pulled += records.count
        if !records.isEmpty { options.progress?("pulled \(report.pulled) records") }
    }

    /// Checks a pulled page's records: one the store would refuse is the server's fault.
    static func check(_ page: PullResponse) throws(SyncError) -> CheckedPullPage {
        try storeCall { try LibraryStore.check(page) }
    }

    private func fetchBodies(_ hashes: [String]) throws(SyncError) -> [WireBody] {
        var missing = hashes
        var bodies: [WireBody] = []
        while !missing.isEmpty {
            let reply: BodiesResponse = try client.send("bodies", BodiesRequest(hashes: Array(missing.prefix(SyncProtocol.maximumBatchCount))))
            guard !reply.bodies.isEmpty else {
                throw SyncError(.server, "the server does not have the body of an article it sent; nothing was applied")
            }
            let received = Set(reply.bodies.map(\.hash))
            missing.removeAll { received.contains($0) }
            bodies += reply.bodies
            report.bodiesFetched += reply.bodies.count
        }
        return bodies
    }

    /// Runs a store operation; a server record the store refuses is the server's fault.
    private static func storeCall<T>(_ body: () throws -> T) throws(SyncError) -> T {
        do {
            return try body()
        } catch {
            let error = error as? MarginError ?? MarginError(.io, "\(error)")
            let code: SyncError.Code = error.code == .invalidInput ? .server : .store
            throw SyncError(code, error.message, cause: error)
        }
    }
}
