/// The SQL migrations of every Marginalia store, compiled into the binaries from the
/// `.sql` files beside this one, so an installed binary needs no files of its own.
public enum EmbeddedSchema {
    /// One migration: applied once, in order, identified by its file name.
    public struct Migration: Sendable {
        /// The file name without `.sql`, e.g. `client-001-library`.
        public let identifier: String
        public let sql: String

        init(_ identifier: String, _ bytes: [UInt8]) {
            self.identifier = identifier
            self.sql = String(decoding: bytes, as: UTF8.self)
        }
    }

    /// The client store's migrations (`client-*.sql`), oldest first.
    public static let client: [Migration] = [
        Migration("client-001-library", PackageResources.client_001_library_sql),
        Migration("client-002-sync", PackageResources.client_002_sync_sql),
        Migration("client-003-rejected", PackageResources.client_003_rejected_sql),
        Migration("client-004-web", PackageResources.client_004_web_sql),
        Migration("client-005-anchors", PackageResources.client_005_anchors_sql),
        Migration("client-006-article-updates", PackageResources.client_006_article_updates_sql),
        Migration("client-007-handles", PackageResources.client_007_handles_sql),
        Migration("client-008-history", PackageResources.client_008_history_sql),
        Migration("client-009-checks", PackageResources.client_009_checks_sql),
    ]

    /// The SQLite sync server's migrations (`server-*.sql`), oldest first.
    public static let server: [Migration] = [
        Migration("server-001-sync", PackageResources.server_001_sync_sql),
        Migration("server-002-commits", PackageResources.server_002_commits_sql),
        Migration("server-003-basis", PackageResources.server_003_basis_sql),
        Migration("server-004-token-use", PackageResources.server_004_token_use_sql),
        Migration("server-005-checks", PackageResources.server_005_checks_sql),
    ]

    /// The PostgreSQL sync server's migrations (`postgres-*.sql`), oldest first.
    public static let postgres: [Migration] = [
        Migration("postgres-001-sync", PackageResources.postgres_001_sync_sql),
        Migration("postgres-002-commits", PackageResources.postgres_002_commits_sql),
        Migration("postgres-003-basis", PackageResources.postgres_003_basis_sql),
        Migration("postgres-004-token-use", PackageResources.postgres_004_token_use_sql),
    ]

    /// The sync protocol's OpenAPI 3 description, served at `/v1/openapi.json`.
    public static let openAPI = String(decoding: PackageResources.openapi_json, as: UTF8.self)
}
