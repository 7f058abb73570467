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
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT device_id, cursor, remote_url, token_file, insecure, last_sync_at, last_error, last_error_at, \
                    next_seq - 1 - pushed_seq AS pending, (SELECT count(*) FROM conflicts) AS conflicts, \
                    (SELECT count(*) FROM rejected_changes) AS rejected FROM sync_state
                    """)!
            let url: String? = row["remote_url"]
            return SyncStatus(
                remote: url.map { RemoteSettings(url: $0, tokenFile: row["token_file"], insecure: row["insecure"]) },
                deviceId: row["device_id"], cursor: row["cursor"], pendingChanges: row["pending"],
                conflicts: row["conflicts"], rejected: row["rejected"], lastSyncAt: (row["last_sync_at"] as Int64?).map(Timestamp.init),
                lastError: row["last_error"], lastErrorAt: (row["last_error_at"] as Int64?).map(Timestamp.init))
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
