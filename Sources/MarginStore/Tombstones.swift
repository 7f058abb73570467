import GRDB
import MarginCore

/// The records this device has seen deleted, by itself or through the server, with the
/// server version of the delete. Only the pull after a restore of the server reads them:
/// a record the restored server holds again, whose delete came from the history it lost,
/// is deleted again (`RecordApplier`). Callers hold the transaction.
enum Tombstones {
    /// Notes that record `id` was deleted, at server `version` (its last known version
    /// when the delete is this device's own and not yet acknowledged).
    static func record(_ db: Database, _ entity: RecordEntity, id: String, version: Int64) throws {
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO tombstones (id, entity, version) VALUES (?, ?, ?)")
            .execute(arguments: [id, entity.rawValue, version])
    }

    /// Forgets the delete of record `id`: it is live again.
    static func remove(_ db: Database, id: String) throws {
        try db.cachedStatement(sql: "DELETE FROM tombstones WHERE id = ?").execute(arguments: [id])
    }

    /// The server version at which record `id` was deleted, if this device saw it deleted.
    static func version(_ db: Database, id: String) throws -> Int64? {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT version FROM tombstones WHERE id = ?"), arguments: [id])
    }

    /// Whether any delete is noted (most pulls then need not look records up).
    static func isEmpty(_ db: Database) throws -> Bool {
        try !(Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM tombstones)") ?? false)
    }
}
