import Foundation
import GRDB
import MarginCore

/// Where a store synchronizes to, as `margin remote set` saved it.
public struct RemoteSettings: Sendable, Hashable, Codable {
    /// The server's base URL, e.g. `https://sync.example.org`.
    public var url: String
    /// A file holding the device token (`$MARGIN_TOKEN` is used when this is `nil`).
    public var tokenFile: String?
    /// Skip TLS certificate verification (only ever set explicitly).
    public var insecure: Bool

    public init(url: String, tokenFile: String?, insecure: Bool) {
        self.url = url
        self.tokenFile = tokenFile
        self.insecure = insecure
    }

    private enum CodingKeys: String, CodingKey {
        case url, tokenFile, insecure
    }

    /// `tokenFile` is written as `null` when absent, so that every key is always there.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(url, forKey: .url)
        try container.encode(tokenFile, forKey: .tokenFile)
        try container.encode(insecure, forKey: .insecure)
    }
}

/// The synchronization state `margin status` shows.
public struct SyncStatus: Sendable, Hashable {
    public var remote: RemoteSettings?
    public var deviceId: String
    /// The server commit sequence this store has pulled up to.
    public var cursor: Int64
    public var pendingChanges: Int
    public var conflicts: Int
    /// Changes the server refused, parked (`rejectedChanges()`).
    public var rejected: Int
    public var lastSyncAt: Timestamp?
    public var lastError: String?
    public var lastErrorAt: Timestamp?
}

extension LibraryStore {
    /// Saves where this store synchronizes to.
    public func setRemote(_ remote: RemoteSettings) throws(MarginError) {
        try write { db in
            try db.execute(
                sql: "UPDATE sync_state SET remote_url = ?, token_file = ?, insecure = ? WHERE id = 1",
                arguments: [remote.url, remote.tokenFile, remote.insecure])
        }
    }

    /// The remote, cursor, last outcome and counts.
    public func syncStatus() throws(MarginError) -> SyncStatus {
        try read { db in
            let state = try SyncState.current(db)
            return SyncStatus(
                remote: state.remote, deviceId: state.deviceId, cursor: state.cursor, pendingChanges: state.pendingCount,
                conflicts: try Int.fetchOne(db, sql: "SELECT count(*) FROM conflicts") ?? 0,
                rejected: try Int.fetchOne(db, sql: "SELECT count(*) FROM rejected_changes") ?? 0,
                lastSyncAt: state.lastSyncAt, lastError: state.lastError, lastErrorAt: state.lastErrorAt)
        }
    }

    /// Records how a sync ended: success clears the last error. This bookkeeping is not
    /// worth an fsync of its own (a sync with nothing to do must be quick).
    public func recordSyncResult(error: String?) throws(MarginError) {
        let time = now().milliseconds
        try write(durable: false) { db in
            if let error {
                try db.execute(
                    sql: "UPDATE sync_state SET last_error = ?, last_error_at = ? WHERE id = 1", arguments: [error, time])
            } else {
                try db.execute(sql: "UPDATE sync_state SET last_sync_at = ?, last_error = NULL WHERE id = 1", arguments: [time])
            }
        }
    }
}
