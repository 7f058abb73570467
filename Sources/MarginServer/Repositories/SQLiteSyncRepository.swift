import Foundation
import GRDB
import Logging
import MarginCore
import MarginSQLite
import MarginSchema
import MarginWire
import ServiceLifecycle

/// The zero-set-up backend: one SQLite file in WAL mode. Pushes are serialized by
/// SQLite's single writer; pulls read concurrently from WAL snapshots.
public final class SQLiteSyncRepository: SyncRepository {
    private let pool: DatabasePool

    /// Opens (creating and migrating as needed) the server store at `path`.
    public init(path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw ServerError(.unavailable, "cannot create the server store \(path); check the folder's permissions")
            }
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        // An acknowledged push is on disk before the reply leaves. Statement journals (what
        // each `INSERT OR REPLACE` of a push must be able to undo alone) stay in memory: on
        // disk, pushes wrote them to a temporary file page by page, ten times as many writes
        // as the pushes themselves.
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY") }
        pool = try DatabasePool(path: path, configuration: configuration)
        var migrator = DatabaseMigrator()
        for migration in EmbeddedSchema.server {
            migrator.registerMigration(migration.identifier) { db in try db.execute(sql: migration.sql) }
        }
        if try pool.read({ db in try migrator.hasBeenSuperseded(db) }) {
            throw ServerError(.unavailable, "the server store \(path) was written by a newer margin-server; upgrade it")
        }
        try migrator.migrate(pool)
    }

    /// Nothing runs beside a SQLite store.
    public var services: [any Service] { [] }

    /// Nothing to do: the store was migrated when it was opened.
    public func migrate() async throws {}

    /// Closes the store: its write-ahead log is checkpointed into the file and emptied, so
    /// that the file alone is the whole store (what a backup of a stopped server copies).
    func close(logger: Logger) {
        do {
            _ = try pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
            try pool.close()
        } catch {
            logger.error("the server store did not close cleanly", metadata: ["error": "\(error)"])
        }
    }

    // MARK: - Authentication

    public func authenticate(tokenHash: String, deviceId: String, now: Int64) async throws -> Int64 {
        try await authenticatedUser(deviceId: deviceId, now: now) {
            try readHere(isolated: false) { db in
                try Row.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT t.user_id, t.device_id, t.last_used_at FROM tokens t JOIN users u ON u.id = t.user_id \
                            WHERE t.hash = ? AND t.revoked_at IS NULL AND u.revoked_at IS NULL
                            """),
                    arguments: [tokenHash]
                ).map { row in TokenUse(userId: row["user_id"], deviceId: row["device_id"], lastUsedAt: row["last_used_at"]) }
            }
        } bind: {
            try await write { db in
                try db.execute(
                    sql: """
                        UPDATE tokens SET device_id = ?, first_used_at = ?, last_used_at = ? \
                        WHERE hash = ? AND device_id IS NULL
                        """,
                    arguments: [deviceId, now, now, tokenHash])
                return try String.fetchOne(db, sql: "SELECT device_id FROM tokens WHERE hash = ?", arguments: [tokenHash])
            }
        } touch: {
            try await write { db in
                try db.execute(sql: "UPDATE tokens SET last_used_at = ? WHERE hash = ?", arguments: [now, tokenHash])
            }
        }
    }

    // MARK: - Push

    public func push(_ push: CheckedPush, userId: Int64, deviceId: String, now: Int64) async throws -> PushOutcome {
        let request = push.request
        return try await write { db in
            guard let lastSeq = try Int64.fetchOne(db, sql: "SELECT last_seq FROM users WHERE id = ?", arguments: [userId]) else {
                throw ServerError.userGone
            }
            let lastApplied = try Int64.fetchOne(
                db, sql: "SELECT last_applied_seq FROM devices WHERE user_id = ? AND device_id = ?",
                arguments: [userId, deviceId]) ?? 0
            try PushPlanner.checkSequence(request.changes, lastAppliedSeq: lastApplied, after: request.after)
            let snapshot = try Self.snapshot(db, userId: userId, changes: request.changes, lastSeq: lastSeq, lastApplied: lastApplied)
            let plan = PushPlanner(snapshot: snapshot, deviceId: deviceId, now: now, refusals: push.refusals)
                .plan(request.changes, bodies: request.bodies)
            try Self.write(plan, db, userId: userId, deviceId: deviceId, now: now)
            return PushOutcome(
                response: PushResponse(results: plan.results, records: plan.reply), applied: plan.appliedCount,
                conflicts: plan.conflicts)
        }
    }

    private static let recordColumns =
        "id, entity, version, deleted, fields, meta, device, hlc, updated_at, deleted_at"

    /// The records of the user with these ids.
    private static func records(_ db: Database, userId: Int64, ids: some Collection<String>) throws -> [StoredRecord] {
        let rows = try matching(
            db, "SELECT \(recordColumns) FROM records WHERE user_id = ?1 AND id IN (SELECT value FROM json_each(?2))", userId: userId,
            ids)
        return try rows.map(record)
    }

    /// The rows of `sql`, whose `?1` is the user and `?2` a JSON array of `values`: one
    /// cached statement serves any number of values.
    private static func matching(_ db: Database, _ sql: String, userId: Int64, _ values: some Collection<String>) throws -> [Row] {
        guard !values.isEmpty else { return [] }
        return try Row.fetchAll(db.cachedStatement(sql: sql), arguments: [userId, JSONText.array(Array(values))])
    }

    private static func record(_ row: Row) throws -> StoredRecord {
        try StoredRecord(
            entity: row["entity"], id: row["id"], version: row["version"], deleted: row["deleted"], fields: row["fields"],
            meta: row["meta"], device: row["device"], hlc: row["hlc"], updatedAt: row["updated_at"],
            deletedAt: row["deleted_at"])
    }

    private static func snapshot(
        _ db: Database, userId: Int64, changes: [WireChange], lastSeq: Int64, lastApplied: Int64
    ) throws -> PushSnapshot {
        var snapshot = PushSnapshot(lastSeq: lastSeq, lastAppliedSeq: lastApplied)
        let ids = PushSnapshot.requiredIds(changes)
        for row in try matching(db, "SELECT alias, id FROM aliases WHERE user_id = ?1 AND alias IN (SELECT value FROM json_each(?2))", userId: userId, ids) {
            snapshot.aliases[row["alias"]] = row["id"] as String
        }
        for record in try records(db, userId: userId, ids: ids.union(snapshot.aliases.values)) { snapshot.records[record.id] = record }
        for record in try records(db, userId: userId, ids: snapshot.unreadArticleIds) { snapshot.records[record.id] = record }
        // The partial indexes named: without statistics, SQLite would rather read every record
        // of the user through the primary key (0.1 s a push in a library of 100,000 records).
        for row in try matching(
            db,
            """
            SELECT id, article_id FROM records INDEXED BY records_article \
            WHERE user_id = ?1 AND deleted = 0 AND article_id IN (SELECT value FROM json_each(?2))
            """, userId: userId, snapshot.deletedArticleIds(changes)) {
            snapshot.liveAnnotationsByArticle[row["article_id"], default: []].insert(row["id"])
        }
        let hashes = snapshot.bodyHashes(changes)
        for row in try matching(
            db,
            """
            SELECT id, content_hash FROM records INDEXED BY records_hash \
            WHERE user_id = ?1 AND deleted = 0 AND content_hash IN (SELECT value FROM json_each(?2))
            """, userId: userId, hashes) {
            snapshot.liveArticleByHash[row["content_hash"]] = row["id"] as String
        }
        for record in try records(db, userId: userId, ids: snapshot.unreadLiveArticleIds) { snapshot.records[record.id] = record }
        for row in try matching(db, "SELECT hash FROM bodies WHERE user_id = ?1 AND hash IN (SELECT value FROM json_each(?2))", userId: userId, hashes) {
            snapshot.storedBodies.insert(row[0])
        }
        return snapshot
    }

    private static func write(_ plan: PushPlan, _ db: Database, userId: Int64, deviceId: String, now: Int64) throws {
        let upsert = try db.cachedStatement(
            sql: """
                INSERT OR REPLACE INTO records (user_id, \(recordColumns), article_id, content_hash) \
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        for record in plan.written {
            try upsert.execute(bound: [
                .integer(userId), .text(record.id), .text(record.entity.rawValue), .integer(record.version),
                .integer(record.deleted ? 1 : 0), .text(record.fieldsJSON), .text(record.metaJSON), .text(record.device),
                .integer(record.hlc), .integer(record.updatedAt), BoundValue(record.deletedAt), BoundValue(record.articleId),
                BoundValue(record.contentHash),
            ])
        }
        let alias = try db.cachedStatement(sql: "INSERT OR REPLACE INTO aliases (user_id, alias, id) VALUES (?, ?, ?)")
        for (name, id) in plan.newAliases { try alias.execute(arguments: [userId, name, id]) }
        let body = try db.cachedStatement(sql: "INSERT OR IGNORE INTO bodies (user_id, hash, text) VALUES (?, ?, ?)")
        for wire in plan.newBodies { try body.execute(arguments: [userId, wire.hash, wire.text]) }
        try db.execute(sql: "UPDATE users SET last_seq = ? WHERE id = ?", arguments: [plan.lastSeq, userId])
        if let commit = plan.commit {
            try db.execute(
                sql: "INSERT INTO commits (user_id, first_seq, last_seq, history, committed_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [userId, commit.firstSeq, commit.lastSeq, commit.history, commit.committedAt])
        }
        try db.execute(
            sql: """
                INSERT INTO devices (user_id, device_id, last_applied_seq, last_seen_at) VALUES (?, ?, ?, ?) \
                ON CONFLICT (user_id, device_id) DO UPDATE SET last_applied_seq = excluded.last_applied_seq, \
                last_seen_at = excluded.last_seen_at
                """,
            arguments: [userId, deviceId, plan.lastAppliedSeq, now])
    }

    // MARK: - Pull

    /// Runs a short read on the calling thread. The reads of authentication and pulls
    /// take microseconds; handing each to one of the pool's dispatch queues and back cost
    /// more than the read (thread wake-ups), and halved the no-op pulls a server answered
    /// (`MarginBenchmarks --only noop-pulls`). Bodies, megabytes at a time, stay on the
    /// pool's queues. The calling task's thread is held for the read; reads never wait for
    /// writes in WAL mode, and the pool has more readers than the cooperative pool threads.
    /// A read of one statement (`isolated` false) needs no transaction: SQLite runs it on
    /// one snapshot by itself.
    private func readHere<T>(isolated: Bool = true, _ body: (Database) throws -> T) throws -> T {
        do {
            return try isolated ? pool.read(body) : pool.unsafeRead(body)
        } catch let error as DatabaseError {
            throw Self.storageError(error)
        }
    }

    /// Runs `body` in a write transaction on the pool's writer.
    private func write<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(body)
        } catch let error as DatabaseError {
            throw Self.storageError(error)
        }
    }

    /// Runs `body` in a read transaction on one of the pool's readers.
    private func read<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch let error as DatabaseError {
            throw Self.storageError(error)
        }
    }

    /// A store still locked by another writer when the busy timeout ran out is
    /// `unavailable` (503: the client retries); any other SQLite error stays what it is (500).
    private static func storageError(_ error: DatabaseError) -> any Error {
        guard [.SQLITE_BUSY, .SQLITE_LOCKED].contains(error.resultCode) else { return error }
        return ServerError(.unavailable, "the server is busy; try again shortly", cause: error)
    }

    public func pull(_ request: PullRequest, userId: Int64, deviceId: String, byteLimit: Int) async throws -> PullPage {
        try readHere { db in
            guard let library = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT last_seq, horizon FROM users WHERE id = ?"), arguments: [userId])
            else { throw ServerError.userGone }
            let head = PullHead(
                lastSeq: library["last_seq"], horizon: library["horizon"],
                lastApplied: try Int64.fetchOne(
                    db.cachedStatement(sql: "SELECT last_applied_seq FROM devices WHERE user_id = ? AND device_id = ?"),
                    arguments: [userId, deviceId]) ?? 0,
                commit: try Self.commit(db, userId: userId, holding: request.cursor))
            let window: PullWindow
            switch head.decide(request) {
            case .answer(let page): return page
            case .reset(let check):
                let first = try check.commitsAfter.flatMap { time in
                    try Int64.fetchOne(
                        db, sql: "SELECT min(first_seq) FROM commits WHERE user_id = ? AND committed_at > ?", arguments: [userId, time])
                }
                return PullWindow.reset(lastSeq: head.lastSeq, restore: check.restorePoint(firstSeqAfter: first))
            case .read(let read): window = read
            }
            let rows = try Row.fetchCursor(
                db.cachedStatement(
                    sql: """
                        SELECT id, entity, version, deleted, fields, updated_at, device FROM records \
                        WHERE user_id = ? AND version > ? AND version <= ? \
                        AND (? OR entity = 'conflict' OR device <> ?) AND (NOT ? OR deleted = 0) \
                        ORDER BY version LIMIT ?
                        """),
                arguments: [userId, request.cursor, window.bound, window.snapshot, deviceId, window.snapshot, window.limit])
            var page = PullPageBuilder(cursor: request.cursor, byteLimit: byteLimit)
            while !page.isFull, let row = try rows.next() {
                page.add(
                    id: row["id"], entity: row["entity"], version: row["version"], deleted: row["deleted"], fieldsJSON: row["fields"],
                    updatedAt: row["updated_at"], device: row["device"])
            }
            var result = page.page(bound: window.bound, limit: window.limit)
            result.history = result.cursor == request.cursor
                ? head.commit?.history : try Self.commit(db, userId: userId, holding: result.cursor)?.history
            return result
        }
    }

    /// The commit that handed out sequence `seq`, if the library's history still has it.
    private static func commit(_ db: Database, userId: Int64, holding seq: Int64) throws -> Commit? {
        guard seq > 0, let row = try Row.fetchOne(
            db.cachedStatement(
                sql: "SELECT first_seq, last_seq, history, committed_at FROM commits WHERE user_id = ? AND last_seq >= ? ORDER BY last_seq LIMIT 1"),
            arguments: [userId, seq])
        else { return nil }
        return Commit(holding: seq, firstSeq: row[0], lastSeq: row[1], history: row[2], committedAt: row[3])
    }

    // MARK: - Bodies

    public func bodies(_ hashes: [String], userId: Int64, byteLimit: Int) async throws -> [WireBody] {
        try await read { db in
            var bodies: [WireBody] = []
            var bytes = 0
            let rows = try Row.fetchCursor(
                db.cachedStatement(sql: "SELECT hash, text FROM bodies WHERE user_id = ?1 AND hash IN (SELECT value FROM json_each(?2))"),
                arguments: [userId, JSONText.array(hashes)])
            while let row = try rows.next() {
                let body = WireBody(hash: row["hash"], text: row["text"])
                bytes += body.text.utf8.count
                if !bodies.isEmpty, bytes > byteLimit { return bodies }
                bodies.append(body)
            }
            return bodies
        }
    }

    // MARK: - Users

    public func addUser(name: String, tokenHash: String, now: Int64) async throws {
        try await write { db in
            guard try !Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM users WHERE name = ?)", arguments: [name])! else {
                throw ServerError.userExists(name)
            }
            try db.execute(sql: "INSERT INTO users (name, created_at) VALUES (?, ?)", arguments: [name, now])
            try db.execute(
                sql: "INSERT INTO tokens (hash, user_id, created_at) VALUES (?, ?, ?)",
                arguments: [tokenHash, db.lastInsertedRowID, now])
        }
    }

    public func addToken(userName: String, tokenHash: String, now: Int64) async throws {
        try await write { db in
            guard let userId = try Int64.fetchOne(
                db, sql: "SELECT id FROM users WHERE name = ? AND revoked_at IS NULL", arguments: [userName])
            else { throw ServerError.noActiveUser(userName) }
            try db.execute(
                sql: "INSERT INTO tokens (hash, user_id, created_at) VALUES (?, ?, ?)", arguments: [tokenHash, userId, now])
        }
    }

    public func revokeUser(name: String, now: Int64) async throws {
        try await write { db in
            guard let userId = try Int64.fetchOne(db, sql: "SELECT id FROM users WHERE name = ?", arguments: [name]) else {
                throw ServerError.noUser(name)
            }
            try db.execute(sql: "UPDATE users SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?", arguments: [now, userId])
            try db.execute(
                sql: "UPDATE tokens SET revoked_at = coalesce(revoked_at, ?) WHERE user_id = ?", arguments: [now, userId])
        }
    }

    public func users() async throws -> [UserSummary] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT u.name, u.created_at, u.revoked_at IS NOT NULL AS revoked, \
                    (SELECT count(*) FROM tokens t WHERE t.user_id = u.id AND t.revoked_at IS NULL) AS tokens, \
                    (SELECT count(*) FROM devices d WHERE d.user_id = u.id) AS devices, \
                    (SELECT count(*) FROM records r WHERE r.user_id = u.id AND r.deleted = 0) AS records \
                    FROM users u ORDER BY u.name
                    """
            ).map { row in
                UserSummary(
                    name: row["name"], createdAt: row["created_at"], revoked: row["revoked"], tokens: row["tokens"],
                    devices: row["devices"], records: row["records"])
            }
        }
    }

    public func devices(userName: String) async throws -> [DeviceSummary] {
        try await read { db in
            guard let userId = try Int64.fetchOne(db, sql: "SELECT id FROM users WHERE name = ?", arguments: [userName]) else {
                throw ServerError.noUser(userName)
            }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT max(t.device_id) AS device_id, min(t.created_at) AS created_at, min(t.first_used_at) AS first_used_at, \
                    max(t.last_used_at) AS last_used_at, max(d.last_seen_at) AS last_seen_at, coalesce(max(d.last_applied_seq), 0) AS pushed, \
                    CASE WHEN count(*) = count(t.revoked_at) THEN max(t.revoked_at) END AS revoked_at \
                    FROM tokens t LEFT JOIN devices d ON d.user_id = t.user_id AND d.device_id = t.device_id \
                    WHERE t.user_id = ? GROUP BY coalesce(t.device_id, t.hash) \
                    ORDER BY max(t.device_id) IS NULL, min(coalesce(t.first_used_at, t.created_at)), max(t.device_id)
                    """,
                arguments: [userId]
            ).map { row in
                DeviceSummary(
                    deviceId: row["device_id"], tokenCreatedAt: row["created_at"], firstSeenAt: row["first_used_at"],
                    lastSeenAt: row["last_used_at"], lastPushAt: row["last_seen_at"], changesPushed: row["pushed"],
                    revokedAt: row["revoked_at"])
            }
        }
    }

    public func revokeDevice(_ device: String, now: Int64) async throws -> String {
        try await write { db in
            let matches = try String.fetchAll(
                db, sql: "SELECT DISTINCT device_id FROM tokens WHERE substr(device_id, 1, ?) = ?", arguments: [device.count, device])
            let deviceId = try ServerError.device(device, among: matches)
            try db.execute(
                sql: "UPDATE tokens SET revoked_at = coalesce(revoked_at, ?) WHERE device_id = ?", arguments: [now, deviceId])
            return deviceId
        }
    }

    // MARK: - Compaction

    public func checkReady() async throws {
        _ = try await read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    public func compact(deletedBefore cutoff: Int64) async throws -> Int {
        try await write { db in
            var purged = 0
            let libraries = try Row.fetchAll(
                db,
                sql: "SELECT user_id, max(version) AS newest FROM records WHERE deleted = 1 AND deleted_at < ? GROUP BY user_id",
                arguments: [cutoff])
            for library in libraries {
                let userId: Int64 = library["user_id"]
                try db.execute(
                    sql: "DELETE FROM records WHERE user_id = ? AND deleted = 1 AND deleted_at < ?", arguments: [userId, cutoff])
                purged += db.changesCount
                try db.execute(
                    sql: "UPDATE users SET horizon = max(horizon, ?) WHERE id = ?", arguments: [library["newest"] as Int64, userId])
                try db.execute(
                    sql: "DELETE FROM commits WHERE user_id = ? AND last_seq < (SELECT horizon FROM users WHERE id = ?)",
                    arguments: [userId, userId])
            }
            return purged
        }
    }
}

extension SQLiteSyncRepository {
    /// Reads every table (`ServerTable.all`, in order) from one snapshot of the store, in
    /// pages of at most `pageSize` rows in primary-key order, as COPY text. Pushes that
    /// commit meanwhile are not part of the copy.
    func exportTables(pageSize: Int, _ page: (ServerTable, CopyText) async throws -> Void) async throws {
        let snapshot = try pool.makeSnapshot()
        for table in ServerTable.all {
            let columns = table.columns.joined(separator: ", ")
            let key = table.key.joined(separator: ", ")
            var after: [DatabaseValue] = []
            while true {
                let (text, last) = try await snapshot.read { [after] db -> (CopyText, [DatabaseValue]) in
                    let condition = after.isEmpty
                        ? "" : "WHERE (\(key)) > (\(Array(repeating: "?", count: after.count).joined(separator: ", ")))"
                    let rows = try Row.fetchCursor(
                        db, sql: "SELECT \(columns) FROM \(table.name) \(condition) ORDER BY \(key) LIMIT \(pageSize)",
                        arguments: StatementArguments(after))
                    var text = CopyText()
                    var last: [DatabaseValue] = []
                    while let row = try rows.next() {
                        text.append(try row.databaseValues.map(Self.bound))
                        last = table.key.map { row[$0] }
                    }
                    return (text, last)
                }
                if text.rows > 0 { try await page(table, text) }
                guard text.rows == pageSize else { break }
                after = last
            }
        }
    }

    private static func bound(_ value: DatabaseValue) throws -> BoundValue {
        switch value.storage {
        case .null: .null
        case .int64(let integer): .integer(integer)
        case .string(let text): .text(text)
        case .double, .blob: throw ServerError(.internalError, "the server store holds a value of an unexpected type")
        }
    }
}
