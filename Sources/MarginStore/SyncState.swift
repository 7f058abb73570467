import GRDB
import MarginCore

/// This device's synchronization bookkeeping: the one row of `sync_state`, which every
/// store has from the moment it is created.
///
/// Readers take the whole row through `SyncState.current(_:)`; writers update the columns
/// they own with `UPDATE sync_state … WHERE id = 1`, each in the one place that owns them.
struct SyncState: FetchableRecord, TableRecord {
    static let databaseTableName = "sync_state"

    /// This device's id, made when the store was created.
    var deviceId: String
    /// The sequence number the next change-log entry gets.
    var nextSeq: Int64
    /// The last change a server acknowledged: changes are pushed in order, so those after
    /// it are pending.
    var pushedSeq: Int64
    /// The last time of the hybrid logical clock that stamps changes.
    var lastHLC: HybridTimestamp
    /// The server commit sequence this store has pulled up to, and the server history it
    /// belongs to.
    var cursor: Int64
    var history: String?
    /// After a restored server answered: the last change of this device it still has, from
    /// which pushes continue.
    var resumeAfter: Int64?
    /// Whether a pull from nothing is under way, and, after a restore, the server version
    /// above which what this store holds came from history the server lost.
    var resetting: Bool
    var restoreSince: Int64?
    /// Where this store synchronizes to, and how its last sync ended.
    var remote: RemoteSettings?
    var lastSyncAt: Timestamp?
    var lastError: String?
    var lastErrorAt: Timestamp?

    init(row: Row) throws {
        deviceId = row["device_id"]
        nextSeq = row["next_seq"]
        pushedSeq = row["pushed_seq"]
        lastHLC = HybridTimestamp(rawValue: row["last_hlc"])
        cursor = row["cursor"]
        history = row["history"]
        resumeAfter = row["resume_after"]
        resetting = row["resetting"]
        restoreSince = row["restore_since"]
        let url: String? = row["remote_url"]
        remote = url.map { RemoteSettings(url: $0, tokenFile: row["token_file"], insecure: row["insecure"]) }
        lastSyncAt = (row["last_sync_at"] as Int64?).map(Timestamp.init(milliseconds:))
        lastError = row["last_error"]
        lastErrorAt = (row["last_error_at"] as Int64?).map(Timestamp.init(milliseconds:))
    }

    /// The row; a store without one was not made by margin.
    static func current(_ db: Database) throws -> SyncState {
        guard let state = try fetchOne(db) else {
            throw MarginError(.corruptStore, "the library has no device record; it was not created by margin")
        }
        return state
    }

    /// How many changes wait to be pushed.
    var pendingCount: Int { Int(nextSeq - 1 - pushedSeq) }

    /// Whether changes wait to be pushed.
    var hasPending: Bool { pendingCount > 0 }

    /// The change-log entry in `row` (of `ChangeEntry.columns`), made on this device.
    func change(_ row: Row) throws -> ChangeEntry {
        try ChangeEntry(row: row, deviceId: deviceId, pushedSeq: pushedSeq)
    }
}
