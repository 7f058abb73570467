import Foundation
import Logging
import MarginCore
import MarginSchema
import NIOSSL
import PostgresNIO

/// Moving a SQLite server store into PostgreSQL (`margin-server migrate --from`).
extension PostgresSyncRepository {
    /// Copies every user, token, device, record, alias and body of `source` into this
    /// database, which must hold no users yet, in one transaction: all or nothing. The
    /// copy keeps ids, commit sequences and cursors, so devices carry on without
    /// re-syncing. Returns the rows copied per table, checked against what the database
    /// holds before committing.
    public func copy(from source: SQLiteSyncRepository) async throws -> [(table: String, rows: Int)] {
        try await transaction(timeout: nil) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: self.logger)
            guard try await connection.query("SELECT count(*) FROM users", logger: self.logger)
                .decode(Int64.self).first() == 0
            else {
                throw ServerError(
                    .conflict, "\(self.settings.description) already holds users; copy into a new, empty database")
            }
            var rows: [String: Int] = [:]
            try await source.exportTables(pageSize: 5_000) { table, text in
                try await connection.copyFrom(table: table.name, columns: table.columns, logger: self.logger) { writer in
                    try await writer.write(ByteBuffer(bytes: text.bytes))
                }
                rows[table.name, default: 0] += text.rows
            }
            let copied = ServerTable.all.map { (table: $0.name, rows: rows[$0.name, default: 0]) }
            try await connection.query(
                "SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM users), false)",
                logger: self.logger)
            for (table, rows) in copied {
                let count = try await connection.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"), logger: self.logger)
                    .decode(Int64.self).first()
                guard count == Int64(rows) else {
                    throw ServerError(.internalError, "the copy of \(table) holds \(count ?? 0) rows instead of \(rows); nothing was copied")
                }
            }
            return copied
        }
    }
}
