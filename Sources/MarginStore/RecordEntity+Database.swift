import GRDB
import MarginCore

/// Where the client store keeps each kind of record, and the one write of a record's
/// server version.
extension RecordEntity {
    /// The table holding records of this kind.
    var tableName: String {
        switch self {
        case .article: "articles"
        case .annotation: "annotations"
        case .conflict: "conflicts"
        }
    }

    /// Records that this store's copy of the record `id` is the server's at `version`.
    /// `writtenAt` (milliseconds), when the change that made it was written here, moves
    /// its update time forward to that time, never back.
    func setVersion(_ db: Database, id: String, version: Int64, writtenAt: Int64? = nil) throws {
        if let writtenAt {
            try db.cachedStatement(sql: "UPDATE \(tableName) SET version = ?, updated_at = max(updated_at, ?) WHERE id = ?")
                .execute(arguments: [version, writtenAt, id])
        } else {
            try db.cachedStatement(sql: "UPDATE \(tableName) SET version = ? WHERE id = ?").execute(arguments: [version, id])
        }
    }
}
