import Dispatch
import Foundation
import Synchronization

/// Work started on a thread of its own, whose outcome one caller takes with `wait()`: the
/// sync engine's way to let the store work while the calling thread waits on the network.
///
/// The caller must `wait()` before it touches what the work touches (and before it returns:
/// nothing the work does may outlive the sync that started it).
final class BackgroundJob<Value: Sendable>: Sendable {
    private let outcome = Mutex<Result<Value, SyncError>?>(nil)
    private let finished = DispatchSemaphore(value: 0)

    init(_ work: @escaping @Sendable () throws(SyncError) -> Value) {
        Thread.detachNewThread { [self] in
            let result: Result<Value, SyncError>
            do throws(SyncError) {
                result = .success(try work())
            } catch {
                result = .failure(error)
            }
            outcome.withLock { $0 = result }
            finished.signal()
        }
    }

    /// What the work returned or threw, waiting for it to end. Called once.
    func wait() throws(SyncError) -> Value {
        finished.wait()
        guard let result = outcome.withLock({ $0 }) else {
            throw SyncError(.store, "background work ended without an outcome")
        }
        return try result.get()
    }
}
