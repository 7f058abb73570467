import Foundation
import Logging
import MarginCore
import MarginSchema
import NIOSSL
import PostgresNIO

/// The PostgreSQL store's schema: `Schema/postgres-*.sql`, applied once each.
extension PostgresSyncRepository {
    /// An arbitrary constant: the advisory lock that serializes migrations (and copies)
    /// across every process starting on the database.
    static let migrationLock: Int64 = 0x6D61_7267_696E

    /// Applies the migrations this binary knows (`Schema/postgres-*.sql`) that the database
    /// lacks, in one transaction under an advisory lock, so processes starting together
    /// apply each exactly once. Refuses a database migrated by a newer server.
    public func migrate() async throws {
        try await transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: self.logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS margin_migrations (identifier TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)",
                logger: self.logger)
            var applied = Set<String>()
            for try await identifier in try await connection.query("SELECT identifier FROM margin_migrations", logger: self.logger)
                .decode(String.self) { applied.insert(identifier) }
            guard applied.isSubset(of: EmbeddedSchema.postgres.map(\.identifier)) else {
                throw ServerError(
                    .unavailable, "the database \(self.settings.description) was migrated by a newer margin-server; upgrade this one")
            }
            for migration in EmbeddedSchema.postgres where !applied.contains(migration.identifier) {
                for statement in Self.statements(migration.sql) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                }
                try await connection.query(
                    "INSERT INTO margin_migrations (identifier, applied_at) VALUES (\(migration.identifier), \(Timestamp.now().milliseconds))",
                    logger: self.logger)
                self.logger.info("applied migration", metadata: ["migration": "\(migration.identifier)"])
            }
        }
    }

    /// A migration's statements, one at a time (the extended protocol takes one per query):
    /// split at a `;` that ends a line, comments dropped.
    static func statements(_ sql: String) -> [String] {
        let lines = sql.split(separator: "\n", omittingEmptySubsequences: false)
            .map { line in line.range(of: "--").map { line[..<$0.lowerBound] } ?? line }
        var statements: [String] = []
        var current = ""
        for line in lines {
            current += line + "\n"
            if line.trimmingCharacters(in: .whitespaces).hasSuffix(";") {
                statements.append(current)
                current = ""
            }
        }
        statements.append(current)
        return statements.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }
}
