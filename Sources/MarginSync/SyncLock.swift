import Foundation

/// One sync at a time per store: an exclusive `flock` on `<store>.sync-lock`, shared by
/// interactive and cron runs. Released when the value is freed (or the process dies).
public final class SyncLock {
    private let descriptor: Int32

    /// Takes the lock for `storePath`, waiting up to `wait` for a running sync to finish.
    public init(storePath: String, wait: Duration = .seconds(2)) throws(SyncError) {
        let path = storePath + ".sync-lock"
        descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw SyncError(.store, "cannot create the lock file \(path): \(String(cString: strerror(errno)))")
        }
        let deadline = ContinuousClock.now + wait
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR, ContinuousClock.now < deadline else {
                close(descriptor)
                throw SyncError(.alreadyRunning, "sync already running for \(storePath); try again when it has finished")
            }
            usleep(50_000)
        }
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
