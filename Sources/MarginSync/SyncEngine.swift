import Foundation
import MarginCore
import MarginStore

/// Limits and hooks of one sync.
public struct SyncOptions: Sendable {
    /// The whole sync, retries included, must finish within this.
    public var timeout: Duration = .seconds(60)
    /// One request may take at most this (and no longer than what is left of `timeout`).
    public var requestTimeout: Duration = .seconds(30)
    public var pushBatchCount = 1_000
    public var pushBatchBytes = 4 * 1024 * 1024
    public var pullPageCount = 2_000
    /// Called with a short line after each batch (for a progress display).
    public var progress: (@Sendable (String) -> Void)?

    public init() {}
}

/// What a sync did.
public struct SyncReport: Sendable, Hashable {
    public var pushed = 0
    public var outcomes: [ChangeResult.Outcome: Int] = [:]
    public var pulled = 0
    public var bodiesFetched = 0
    public var requests = 0
    /// The server had compacted history past this store's cursor: everything was pulled again.
    public var reset = false
}

/// Synchronizes a store with its remote (SPEC "Sync"): pushes pending changes in
/// batches, applying each reply in one transaction; then pulls pages up to a bound fixed
/// by the first page, each page with its cursor in one transaction, fetching missing
/// article bodies first. Transient failures are retried with exponential backoff and
/// jitter within `options.timeout`; everything else fails at once.
///
/// Holds the store's sync lock while it runs. Used by one task.
public final class SyncEngine {
    private let store: LibraryStore
    private let remote: RemoteSettings
    private let token: String
    private let options: SyncOptions
    private let transport: CurlTransport
    private let deviceId: String
    private var deadline = ContinuousClock.now
    private var report = SyncReport()

    public init(store: LibraryStore, remote: RemoteSettings, token: String, options: SyncOptions = SyncOptions()) throws(SyncError) {
        self.store = store
        self.remote = remote
        self.token = token
        self.options = options
        do {
            transport = try CurlTransport(insecure: remote.insecure)
            deviceId = try store.deviceId()
        } catch let error as CurlError {
            throw SyncError(.network, "cannot start libcurl: \(error)", cause: error)
        } catch {
            throw SyncError(.store, "\(error)")
        }
    }

    /// Runs one sync; records its outcome in the store (`margin status` shows it).
    public func run() throws(SyncError) -> SyncReport {
        let lock = try SyncLock(storePath: store.path)
        defer { withExtendedLifetime(lock) {} }
        deadline = ContinuousClock.now + options.timeout
        report = SyncReport()
        do {
            try push()
            try pull()
            try storeCall { try store.recordSyncResult(error: nil) }
            return report
        } catch {
            try? store.recordSyncResult(error: error.message)
            throw error
        }
    }

    // MARK: - Push and pull

    private func push() throws(SyncError) {
        while true {
            let request = try storeCall { try store.pendingPush(maxCount: options.pushBatchCount, maxBytes: options.pushBatchBytes) }
            guard !request.changes.isEmpty else { return }
            let response: PushResponse = try send("push", request)
            let summary = try storeCall { try store.applyPushResponse(response, for: request) }
            report.pushed += request.changes.count
            report.outcomes.merge(summary.outcomes, uniquingKeysWith: +)
            options.progress?("pushed \(report.pushed) changes")
        }
    }

    private func pull() throws(SyncError) {
        var (cursor, resetting) = try storeCall { try store.pullState() }
        var bound: Int64?
        var rounds = 0
        while true {
            let page: PullResponse = try send("pull", PullRequest(cursor: cursor, bound: bound, limit: options.pullPageCount))
            if page.reset {
                guard !resetting || cursor > 0 else {
                    throw SyncError(.server, "the server asked for a reset of a pull from the start; check the server")
                }
                try storeCall { try store.beginReset() }
                (cursor, bound, resetting) = (0, nil, true)
                report.reset = true
                continue
            }
            if !page.records.isEmpty || page.cursor != cursor {
                let bodies = try fetchBodies(try storeCall { try store.missingBodies(page.records) })
                try storeCall { try store.applyPullPage(page, bodies: bodies) }
            }
            report.pulled += page.records.count
            (cursor, bound) = (page.cursor, page.bound)
            if !page.records.isEmpty { options.progress?("pulled \(report.pulled) records") }
            if page.more { continue }
            if resetting {
                try storeCall { try store.finishReset() }
                resetting = false
            }
            // Annotations whose article changed after the bound wait for it: one more round.
            rounds += 1
            guard rounds < 3, try storeCall({ try store.hasParkedRecords() }) else { return }
            bound = nil
        }
    }

    private func fetchBodies(_ hashes: [String]) throws(SyncError) -> [WireBody] {
        var missing = hashes
        var bodies: [WireBody] = []
        while !missing.isEmpty {
            let reply: BodiesResponse = try send("bodies", BodiesRequest(hashes: Array(missing.prefix(SyncProtocol.maximumBatchCount))))
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

    // MARK: - Requests

    /// POSTs `body` to `/v1/<endpoint>` and decodes the reply, retrying transient failures.
    private func send<Response: WireMessage>(_ endpoint: String, _ body: some WireMessage) throws(SyncError) -> Response {
        var payload = body.jsonBytes
        var headers = [
            "Content-Type: application/json", "Authorization: Bearer \(token)",
            "\(SyncProtocol.versionHeader): \(SyncProtocol.version)", "\(SyncProtocol.deviceHeader): \(deviceId)",
        ]
        if payload.count > 1_024 {
            payload = Gzip.compress(payload, level: 1)
            headers.append("Content-Encoding: gzip")
        }
        let url = remote.url.hasSuffix("/") ? remote.url + "v1/" + endpoint : remote.url + "/v1/" + endpoint
        var attempt = 0
        while true {
            let remaining = deadline - ContinuousClock.now
            report.requests += 1
            let outcome: Result<HTTPReply, CurlError>
            do {
                outcome = .success(
                    try transport.post(url: url, headers: headers, body: payload, timeout: min(remaining, options.requestTimeout)))
            } catch {
                outcome = .failure(error)
            }
            let failure: SyncError
            switch outcome {
            case .success(let reply):
                if reply.status == 200 {
                    do {
                        return try Response(jsonBytes: reply.body)
                    } catch {
                        throw SyncError(
                            .server, "the server's reply to \(endpoint) is not the sync protocol (\(error.message)); is \(remote.url) a margin-server?")
                    }
                }
                failure = Self.error(for: reply, endpoint: endpoint)
                guard [429, 502, 503, 504].contains(reply.status) else { throw failure }
            case .failure(let error):
                failure = SyncError(
                    .network, "cannot reach \(remote.url): \(error.message)\(error.detail.isEmpty ? "" : " (\(error.detail))"); check the address and your connection",
                    cause: error)
                guard error.isTransient else { throw failure }
            }
            // Transient: back off exponentially with full jitter, within the deadline.
            attempt += 1
            let ceiling = min(0.25 * pow(2, Double(attempt - 1)), 8)
            let delay = Duration.milliseconds(Int(Double.random(in: 0...ceiling) * 1_000))
            guard ContinuousClock.now + delay < deadline else {
                throw SyncError(failure.code, failure.message + " (gave up after \(attempt) attempts within --timeout)", cause: failure.cause)
            }
            Thread.sleep(forTimeInterval: Double(delay / .milliseconds(1)) / 1_000)
        }
    }

    private static func error(for reply: HTTPReply, endpoint: String) -> SyncError {
        let detail = (try? ErrorResponse(jsonBytes: reply.body))?.error.message
            ?? "HTTP status \(reply.status)"
        switch reply.status {
        case 401, 403: return SyncError(.authentication, "the server refused the token: \(detail)")
        case 426: return SyncError(.protocolMismatch, "upgrade margin: \(detail)")
        case 429, 500...599: return SyncError(.server, "the server failed (\(reply.status)): \(detail)")
        default: return SyncError(.server, "the server rejected the \(endpoint) (\(reply.status)): \(detail)")
        }
    }

    /// Runs a store operation; a server record the store refuses is the server's fault.
    private func storeCall<T>(_ body: () throws -> T) throws(SyncError) -> T {
        do {
            return try body()
        } catch {
            let error = error as? MarginError ?? MarginError(.io, "\(error)")
            let code: SyncError.Code = error.code == .invalidInput ? .server : .store
            throw SyncError(code, error.message, cause: error)
        }
    }
}
