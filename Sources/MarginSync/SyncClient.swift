import Foundation
import MarginCore
import MarginStore
import MarginWire

/// Sends sync protocol requests to a remote over one `CurlTransport` (one kept-alive
/// connection), retrying transient failures — connection errors, timeouts, 429, 502,
/// 503, 504 — after the `Retry-After` a 429 or 503 gives, else with exponential backoff and
/// full jitter, until the sync's deadline.
///
/// Owned by one thread at a time; not `Sendable` (its transport is not).
final class SyncClient {
    /// Where and how to send: the same for every client of one sync.
    struct Settings: Sendable {
        var remote: RemoteSettings
        var token: String
        var deviceId: String
        /// The whole sync, retries included, must finish by then.
        var deadline: ContinuousClock.Instant
        /// One request may take at most this (and no longer than what is left).
        var requestTimeout: Duration
    }

    var settings: Settings
    private let transport: CurlTransport
    /// Requests sent, retries included.
    private(set) var requests = 0

    init(_ settings: Settings) throws(SyncError) {
        self.settings = settings
        do {
            transport = try CurlTransport(insecure: settings.remote.insecure)
        } catch {
            throw SyncError(.network, "cannot start libcurl: \(error)", cause: error)
        }
    }

    /// A request's body, encoded (and compressed when large) ahead of sending: any thread
    /// may build one.
    struct Encoded: Sendable {
        var endpoint: String
        var payload: [UInt8]
        var gzipped: Bool

        init(_ endpoint: String, _ body: some WireMessage) {
            self.endpoint = endpoint
            payload = body.jsonBytes
            gzipped = payload.count > 1_024
            if gzipped { payload = Gzip.compress(payload, level: 1) }
        }
    }

    /// POSTs `body` to `/v1/<endpoint>` and decodes the reply, retrying transient failures.
    func send<Response: WireMessage>(_ endpoint: String, _ body: some WireMessage) throws(SyncError) -> Response {
        try send(Encoded(endpoint, body))
    }

    /// POSTs an encoded request and decodes the reply, retrying transient failures.
    func send<Response: WireMessage>(_ request: Encoded) throws(SyncError) -> Response {
        let (endpoint, payload) = (request.endpoint, request.payload)
        var headers = [
            "Content-Type: application/json", "Authorization: Bearer \(settings.token)",
            "\(SyncProtocol.versionHeader): \(SyncProtocol.version)", "\(SyncProtocol.deviceHeader): \(settings.deviceId)",
        ]
        if request.gzipped { headers.append("Content-Encoding: gzip") }
        let base = settings.remote.url
        let url = base.hasSuffix("/") ? base + "v1/" + endpoint : base + "/v1/" + endpoint
        var attempt = 0
        // The last transient answer the server gave: what a final attempt cut short by the
        // deadline reports, rather than its own time-out.
        var lastAnswer: SyncError?
        // How long the server last asked to wait (`Retry-After` on 429 or 503).
        var serverAsked: Duration?
        while true {
            let remaining = settings.deadline - ContinuousClock.now
            requests += 1
            let outcome: Result<HTTPReply, CurlError>
            do {
                outcome = .success(
                    try transport.post(url: url, headers: headers, body: payload, timeout: min(remaining, settings.requestTimeout)))
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
                            .server, "the server's reply to \(endpoint) is not the sync protocol (\(error.message)); is \(base) a margin-server?")
                    }
                }
                failure = Self.error(for: reply, endpoint: endpoint)
                guard [429, 502, 503, 504].contains(reply.status) else { throw failure }
                lastAnswer = failure
                serverAsked = [429, 503].contains(reply.status) ? reply.retryAfter : nil
            case .failure(let error):
                let unreachable = SyncError(
                    .network, "cannot reach \(base): \(error.message)\(error.detail.isEmpty ? "" : " (\(error.detail))"); check the address and your connection",
                    cause: error)
                guard error.isTransient else { throw unreachable }
                // An attempt cut short by the deadline: the server's last answer says more.
                failure = remaining < settings.requestTimeout ? lastAnswer ?? unreachable : unreachable
            }
            // Transient: wait as long as the server asked, else back off exponentially with
            // full jitter; within the deadline either way.
            attempt += 1
            let ceiling = min(0.25 * pow(2, Double(attempt - 1)), 8)
            let delay = serverAsked ?? Duration.milliseconds(Int(Double.random(in: 0...ceiling) * 1_000))
            serverAsked = nil
            guard ContinuousClock.now + delay < settings.deadline else {
                let asked = delay > .seconds(8) ? "; the server asked to wait \(delay.components.seconds) s" : ""
                throw SyncError(
                    failure.code, failure.message + " (gave up after \(attempt) attempts within --timeout\(asked))", cause: failure.cause)
            }
            Thread.sleep(forTimeInterval: Double(delay / .milliseconds(1)) / 1_000)
        }
    }

    private static func error(for reply: HTTPReply, endpoint: String) -> SyncError {
        let error = (try? ErrorResponse(jsonBytes: reply.body))?.error
        let detail = error?.message ?? "HTTP status \(reply.status)"
        if reply.status == 409, error?.code == "sequence_gap" {
            return SyncError(.restoredServer, "the server does not have changes of this device it acknowledged: \(detail)")
        }
        switch reply.status {
        case 401, 403: return SyncError(.authentication, "the server refused the token: \(detail)")
        case 426: return SyncError(.protocolMismatch, "upgrade margin: \(detail)")
        case 429, 500...599: return SyncError(.server, "the server failed (\(reply.status)): \(detail)")
        default: return SyncError(.server, "the server rejected the \(endpoint) (\(reply.status)): \(detail)")
        }
    }
}
