import Dispatch
import Foundation
import MarginCore
import MarginStore
import MarginWire
import Synchronization

/// Pulls the pages after a first one on a background thread, over a connection of its
/// own, while the caller applies the previous page: the network, the server, and the
/// parsing and checking of page n + 1 overlap the store's work on page n. At most one page waits to
/// be taken, so memory stays bounded whatever the backlog.
///
/// The thread stops after the last page of the pass (`more == false`), a reset, a
/// failure, or `cancel()`.
final class PageFetcher: Sendable {
    private enum Event: Sendable {
        case page(CheckedPullPage)
        case failed(SyncError)
    }

    private struct State: Sendable {
        var waiting: Event?
        var cancelled = false
        var requests = 0
    }

    private let state = Mutex(State())
    /// Signalled when a page (or a failure) waits to be taken.
    private let filled = DispatchSemaphore(value: 0)
    /// Signalled when the slot is free again (or the fetch is cancelled).
    private let emptied = DispatchSemaphore(value: 0)

    /// Starts fetching the pages that follow `page` (whose `more` is true) with `settings`,
    /// each asked for as `request` (its cursor, bound and history then follow the pages).
    init(after page: PullResponse, _ request: PullRequest, settings: SyncClient.Settings) {
        Thread.detachNewThread { [self] in
            var request = request
            request.follow(page)
            let client: SyncClient
            do throws(SyncError) {
                client = try SyncClient(settings)
            } catch {
                _ = hand(.failed(error), requests: 0)
                return
            }
            while true {
                let event: Event
                do throws(SyncError) {
                    event = .page(try SyncEngine.check(client.send("pull", request)))
                } catch {
                    event = .failed(error)
                }
                guard hand(event, requests: client.requests), case .page(let next) = event, next.page.more, !next.page.reset else {
                    return
                }
                request.follow(next.page)
                emptied.wait()
                guard !state.withLock({ $0.cancelled }) else { return }
            }
        }
    }

    /// Requests the fetcher has sent so far.
    var requests: Int { state.withLock { $0.requests } }

    /// The next page, waiting for it if need be.
    func next() throws(SyncError) -> CheckedPullPage {
        filled.wait()
        let event = state.withLock { state in
            defer { state.waiting = nil }
            return state.waiting!
        }
        emptied.signal()
        switch event {
        case .page(let page): return page
        case .failed(let error): throw error
        }
    }

    /// Stops fetching: the thread ends after its current request, if any.
    func cancel() {
        state.withLock { $0.cancelled = true }
        emptied.signal()
    }

    /// Puts `event` in the slot (free: the thread waits for `emptied` before fetching
    /// the next page); `false` once cancelled.
    private func hand(_ event: Event, requests: Int) -> Bool {
        let accepted = state.withLock { state in
            state.requests = requests
            guard !state.cancelled else { return false }
            state.waiting = event
            return true
        }
        if accepted { filled.signal() }
        return accepted
    }
}
