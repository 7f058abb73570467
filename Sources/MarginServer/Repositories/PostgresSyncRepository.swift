import Foundation
import Logging
import MarginCore
import MarginSchema
import MarginWire
import NIOSSL
import PostgresNIO
import ServiceLifecycle

/// The backend for many users: a PostgreSQL database that several stateless server
/// processes share.
///
/// Pushes to one library are serialized across every process by a row lock on the
/// library's owner (`SELECT … FROM users WHERE id = $1 FOR UPDATE`), held for the push's
/// whole transaction: the next push to that library reads `last_seq` only after the
/// previous one committed, so commit sequences are handed out without gaps or
/// duplicates, and a change with a higher sequence never becomes visible before one with
/// a lower sequence. A device's `last_applied_seq` is read under the same lock, so a
/// change is applied once even when a retry reaches another process. Pulls read from one
/// REPEATABLE READ snapshot. Every call fails with `unavailable` (503) when PostgreSQL
/// does not answer within the configured timeout; the pool reconnects by itself.
public final class PostgresSyncRepository: SyncRepository {
    let client: PostgresClient
    let settings: PostgresSettings
    let logger: Logger

    /// A repository over `settings`; it answers only while its connection pool
    /// (`services`) runs.
    public init(_ settings: PostgresSettings, logger: Logger) {
        var configuration = PostgresClient.Configuration(
            host: settings.host, port: settings.port, username: settings.user, password: settings.password,
            database: settings.database, tls: Self.tls(settings.tls))
        configuration.options.maximumConnections = settings.poolSize
        configuration.options.connectTimeout = settings.timeout
        let milliseconds = settings.timeout.components.seconds * 1_000 + settings.timeout.components.attoseconds / 1_000_000_000_000_000
        configuration.options.additionalStartupParameters = [
            ("application_name", "margin-server"), ("statement_timeout", String(milliseconds)),
        ]
        // The pool logs every failed connection attempt at info: during an outage that is
        // several lines a second, while each request already fails with a clear 503 and an
        // error line. It also warns when a first lease comes a moment before `run()` has
        // started (the lease simply waits), which a short command must not print.
        var background = logger
        background.logLevel = max(logger.logLevel, .error)
        client = PostgresClient(configuration: configuration, backgroundLogger: background)
        self.settings = settings
        self.logger = logger
    }

    private static func tls(_ mode: PostgresSettings.TLSMode) -> PostgresClient.Configuration.TLS {
        switch mode {
        case .disable: .disable
        case .prefer: .prefer(.makeClientConfiguration())
        case .require: .require(.makeClientConfiguration())
        }
    }

    /// The connection pool, which ends on cancellation or graceful shutdown.
    public var services: [any Service] { [client] }

    // MARK: - Authentication

    public func authenticate(tokenHash: String, deviceId: String, now: Int64) async throws -> Int64 {
        try await authenticatedUser(deviceId: deviceId, now: now) {
            try await bounded { connection in
                try await connection.execute(TokenQuery(tokenHash: tokenHash), logger: self.logger).first()
            }
        } bind: {
            try await transaction { connection in
                try await connection.query(
                    """
                    UPDATE tokens SET device_id = \(deviceId), first_used_at = \(now), last_used_at = \(now) \
                    WHERE hash = \(tokenHash) AND device_id IS NULL
                    """, logger: self.logger)
                return try await connection.query("SELECT device_id FROM tokens WHERE hash = \(tokenHash)", logger: self.logger)
                    .decode(String?.self).first() ?? nil
            }
        } touch: {
            try await bounded { connection in
                _ = try await connection.query("UPDATE tokens SET last_used_at = \(now) WHERE hash = \(tokenHash)", logger: self.logger)
            }
        }
    }

    // MARK: - Push

    public func push(_ push: CheckedPush, userId: Int64, deviceId: String, now: Int64) async throws -> PushOutcome {
        let request = push.request
        return try await transaction { connection in
            // The library's lock, held until commit.
            guard let lastSeq = try await connection.query(
                "SELECT last_seq FROM users WHERE id = \(userId) FOR UPDATE", logger: self.logger
            ).decode(Int64.self).first() else {
                throw ServerError.userGone
            }
            let lastApplied = try await connection.query(
                "SELECT last_applied_seq FROM devices WHERE user_id = \(userId) AND device_id = \(deviceId)", logger: self.logger
            ).decode(Int64.self).first() ?? 0
            try PushPlanner.checkSequence(request.changes, lastAppliedSeq: lastApplied, after: request.after)
            let snapshot = try await self.snapshot(
                connection, userId: userId, changes: request.changes, lastSeq: lastSeq, lastApplied: lastApplied)
            let plan = PushPlanner(snapshot: snapshot, deviceId: deviceId, now: now, refusals: push.refusals)
                .plan(request.changes, bodies: request.bodies)
            try await self.write(plan, connection, userId: userId, deviceId: deviceId, now: now)
            return PushOutcome(
                response: PushResponse(results: plan.results, records: plan.reply), applied: plan.appliedCount,
                conflicts: plan.conflicts)
        }
    }

    private func snapshot(
        _ connection: PostgresConnection, userId: Int64, changes: [WireChange], lastSeq: Int64, lastApplied: Int64
    ) async throws -> PushSnapshot {
        var snapshot = PushSnapshot(lastSeq: lastSeq, lastAppliedSeq: lastApplied)
        let ids = Array(PushSnapshot.requiredIds(changes))
        for try await (alias, id) in try await connection.query(
            "SELECT alias, id FROM aliases WHERE user_id = \(userId) AND alias = ANY(\(ids))", logger: logger
        ).decode((String, String).self) { snapshot.aliases[alias] = id }
        try await load(Array(Set(ids).union(snapshot.aliases.values)), into: &snapshot, connection, userId: userId)
        try await load(snapshot.unreadArticleIds, into: &snapshot, connection, userId: userId)
        for try await (id, articleId) in try await connection.query(
            """
            SELECT id, article_id FROM records WHERE user_id = \(userId) AND NOT deleted \
            AND article_id = ANY(\(snapshot.deletedArticleIds(changes)))
            """, logger: logger
        ).decode((String, String).self) { snapshot.liveAnnotationsByArticle[articleId, default: []].insert(id) }
        let hashes = snapshot.bodyHashes(changes)
        for try await (id, hash) in try await connection.query(
            "SELECT id, content_hash FROM records WHERE user_id = \(userId) AND NOT deleted AND content_hash = ANY(\(hashes))",
            logger: logger
        ).decode((String, String).self) { snapshot.liveArticleByHash[hash] = id }
        try await load(snapshot.unreadLiveArticleIds, into: &snapshot, connection, userId: userId)
        for try await hash in try await connection.query(
            "SELECT hash FROM bodies WHERE user_id = \(userId) AND hash = ANY(\(hashes))", logger: logger
        ).decode(String.self) { snapshot.storedBodies.insert(hash) }
        return snapshot
    }

    private func load(_ ids: [String], into snapshot: inout PushSnapshot, _ connection: PostgresConnection, userId: Int64) async throws {
        guard !ids.isEmpty else { return }
        let rows = try await connection.query(
            """
            SELECT id, entity, version, deleted, fields, meta, device, hlc, updated_at, deleted_at FROM records \
            WHERE user_id = \(userId) AND id = ANY(\(ids))
            """, logger: logger)
        for try await (id, entity, version, deleted, fields, meta, device, hlc, updatedAt, deletedAt) in rows.decode(
            (String, String, Int64, Bool, String, String, String, Int64, Int64, Int64?).self) {
            snapshot.records[id] = try StoredRecord(
                entity: entity, id: id, version: version, deleted: deleted, fields: fields, meta: meta, device: device,
                hlc: hlc, updatedAt: updatedAt, deletedAt: deletedAt)
        }
    }

    private func write(_ plan: PushPlan, _ connection: PostgresConnection, userId: Int64, deviceId: String, now: Int64) async throws {
        if !plan.written.isEmpty {
            // One statement for the whole batch: a column array each, NULLs as -1 and ''.
            let records = plan.written
            try await connection.query(
                """
                INSERT INTO records (user_id, id, entity, version, deleted, fields, meta, device, hlc, updated_at, \
                deleted_at, article_id, content_hash) \
                SELECT \(userId), id, entity, version, deleted, fields, meta, device, hlc, updated_at, \
                nullif(deleted_at, -1), nullif(article_id, ''), nullif(content_hash, '') \
                FROM unnest(\(records.map(\.id)), \(records.map(\.entity.rawValue)), \(records.map(\.version)), \
                \(records.map(\.deleted)), \(records.map(\.fieldsJSON)), \(records.map(\.metaJSON)), \(records.map(\.device)), \
                \(records.map(\.hlc)), \(records.map(\.updatedAt)), \(records.map { $0.deletedAt ?? -1 }), \
                \(records.map { $0.articleId ?? "" }), \(records.map { $0.contentHash ?? "" })) \
                AS r(id, entity, version, deleted, fields, meta, device, hlc, updated_at, deleted_at, article_id, content_hash) \
                ON CONFLICT (user_id, id) DO UPDATE SET entity = excluded.entity, version = excluded.version, \
                deleted = excluded.deleted, fields = excluded.fields, meta = excluded.meta, device = excluded.device, \
                hlc = excluded.hlc, updated_at = excluded.updated_at, deleted_at = excluded.deleted_at, \
                article_id = excluded.article_id, content_hash = excluded.content_hash
                """, logger: logger)
        }
        if !plan.newAliases.isEmpty {
            try await connection.query(
                """
                INSERT INTO aliases (user_id, alias, id) \
                SELECT \(userId), alias, id FROM unnest(\(plan.newAliases.map(\.alias)), \(plan.newAliases.map(\.id))) AS a(alias, id) \
                ON CONFLICT (user_id, alias) DO UPDATE SET id = excluded.id
                """, logger: logger)
        }
        if !plan.newBodies.isEmpty {
            try await connection.query(
                """
                INSERT INTO bodies (user_id, hash, text) \
                SELECT \(userId), hash, text FROM unnest(\(plan.newBodies.map(\.hash)), \(plan.newBodies.map(\.text))) AS b(hash, text) \
                ON CONFLICT DO NOTHING
                """, logger: logger)
        }
        try await connection.query("UPDATE users SET last_seq = \(plan.lastSeq) WHERE id = \(userId)", logger: logger)
        if let commit = plan.commit {
            try await connection.query(
                """
                INSERT INTO commits (user_id, first_seq, last_seq, history, committed_at) \
                VALUES (\(userId), \(commit.firstSeq), \(commit.lastSeq), \(commit.history), \(commit.committedAt))
                """, logger: logger)
        }
        try await connection.query(
            """
            INSERT INTO devices (user_id, device_id, last_applied_seq, last_seen_at) \
            VALUES (\(userId), \(deviceId), \(plan.lastAppliedSeq), \(now)) \
            ON CONFLICT (user_id, device_id) DO UPDATE SET last_applied_seq = excluded.last_applied_seq, \
            last_seen_at = excluded.last_seen_at
            """, logger: logger)
    }

    // MARK: - Pull

    public func pull(_ request: PullRequest, userId: Int64, deviceId: String, byteLimit: Int) async throws -> PullPage {
        // Most pulls find nothing new: the head, read by one statement (its own snapshot),
        // answers them without a transaction.
        let head = try await bounded { connection in
            try await self.pullHead(connection, userId: userId, deviceId: deviceId, cursor: request.cursor)
        }
        if case .answer(let page) = head.decide(request) { return page }
        // Records are read with the head they are bounded by, in one snapshot: the library
        // may have moved on (a push, a compaction's horizon) since the read above.
        return try await transaction(isolation: "REPEATABLE READ READ ONLY") { connection in
            let head = try await self.pullHead(connection, userId: userId, deviceId: deviceId, cursor: request.cursor)
            let window: PullWindow
            switch head.decide(request) {
            case .answer(let page): return page
            case .reset(let check):
                var first: Int64?
                if let time = check.commitsAfter {
                    first = try await connection.query(
                        "SELECT min(first_seq) FROM commits WHERE user_id = \(userId) AND committed_at > \(time)", logger: self.logger
                    ).decode(Int64?.self).first() ?? nil
                }
                return PullWindow.reset(lastSeq: head.lastSeq, restore: check.restorePoint(firstSeqAfter: first))
            case .read(let read): window = read
            }
            let rows = try await connection.query(
                """
                SELECT id, entity, version, deleted, fields, updated_at, device FROM records \
                WHERE user_id = \(userId) AND version > \(request.cursor) AND version <= \(window.bound) \
                AND (\(window.snapshot) OR entity = 'conflict' OR device <> \(deviceId)) \
                AND (NOT \(window.snapshot) OR NOT deleted) ORDER BY version LIMIT \(Int64(window.limit))
                """, logger: self.logger)
            var page = PullPageBuilder(cursor: request.cursor, byteLimit: byteLimit)
            for try await (id, entity, version, deleted, fields, updatedAt, device) in rows.decode(
                (String, String, Int64, Bool, String, Int64, String).self) {
                if page.isFull { break }
                page.add(
                    id: id, entity: entity, version: version, deleted: deleted, fieldsJSON: fields, updatedAt: updatedAt, device: device)
            }
            var result = page.page(bound: window.bound, limit: window.limit)
            result.history = result.cursor == request.cursor
                ? head.commit?.history : try await self.commit(connection, userId: userId, holding: result.cursor)?.history
            return result
        }
    }

    private func pullHead(_ connection: PostgresConnection, userId: Int64, deviceId: String, cursor: Int64) async throws -> PullHead {
        guard let head = try await connection.execute(
            PullHeadQuery(userId: userId, deviceId: deviceId, cursor: cursor), logger: logger
        ).first() else { throw ServerError.userGone }
        return head
    }

    /// The commit that handed out sequence `seq`, if the library's history still has it.
    private func commit(_ connection: PostgresConnection, userId: Int64, holding seq: Int64) async throws -> Commit? {
        guard seq > 0, let (first, last, history, committedAt) = try await connection.query(
            """
            SELECT first_seq, last_seq, history, committed_at FROM commits \
            WHERE user_id = \(userId) AND last_seq >= \(seq) ORDER BY last_seq LIMIT 1
            """, logger: logger
        ).decode((Int64, Int64, String, Int64).self).first() else { return nil }
        return Commit(holding: seq, firstSeq: first, lastSeq: last, history: history, committedAt: committedAt)
    }

    // MARK: - Bodies

    public func bodies(_ hashes: [String], userId: Int64, byteLimit: Int) async throws -> [WireBody] {
        try await bounded { connection in
            var bodies: [WireBody] = []
            var bytes = 0
            let rows = try await connection.query(
                "SELECT hash, text FROM bodies WHERE user_id = \(userId) AND hash = ANY(\(hashes))", logger: self.logger)
            for try await (hash, text) in rows.decode((String, String).self) {
                bytes += text.utf8.count
                if !bodies.isEmpty, bytes > byteLimit { break }
                bodies.append(WireBody(hash: hash, text: text))
            }
            return bodies
        }
    }

    // MARK: - Users

    public func addUser(name: String, tokenHash: String, now: Int64) async throws {
        do {
            _ = try await transaction { connection in
                try await connection.query(
                    """
                    WITH user_row AS (INSERT INTO users (name, created_at) VALUES (\(name), \(now)) RETURNING id) \
                    INSERT INTO tokens (hash, user_id, created_at) SELECT \(tokenHash), id, \(now) FROM user_row
                    """, logger: self.logger)
            }
        } catch let error as ServerError where error.sqlState == "23505" {
            throw ServerError.userExists(name)
        }
    }

    public func addToken(userName: String, tokenHash: String, now: Int64) async throws {
        try await transaction { connection in
            let rows = try await connection.query(
                """
                INSERT INTO tokens (hash, user_id, created_at) \
                SELECT \(tokenHash), id, \(now) FROM users WHERE name = \(userName) AND revoked_at IS NULL RETURNING user_id
                """, logger: self.logger)
            guard try await rows.decode(Int64.self).first() != nil else {
                throw ServerError.noActiveUser(userName)
            }
        }
    }

    public func revokeUser(name: String, now: Int64) async throws {
        try await transaction { connection in
            guard let userId = try await connection.query(
                "UPDATE users SET revoked_at = coalesce(revoked_at, \(now)) WHERE name = \(name) RETURNING id", logger: self.logger
            ).decode(Int64.self).first() else {
                throw ServerError.noUser(name)
            }
            try await connection.query(
                "UPDATE tokens SET revoked_at = coalesce(revoked_at, \(now)) WHERE user_id = \(userId)", logger: self.logger)
        }
    }

    public func users() async throws -> [UserSummary] {
        try await bounded { connection in
            var users: [UserSummary] = []
            let rows = try await connection.query(
                """
                SELECT u.name, u.created_at, u.revoked_at IS NOT NULL, \
                (SELECT count(*) FROM tokens t WHERE t.user_id = u.id AND t.revoked_at IS NULL), \
                (SELECT count(*) FROM devices d WHERE d.user_id = u.id), \
                (SELECT count(*) FROM records r WHERE r.user_id = u.id AND NOT r.deleted) \
                FROM users u ORDER BY u.name COLLATE "C"
                """, logger: self.logger)
            for try await (name, createdAt, revoked, tokens, devices, records) in rows.decode(
                (String, Int64, Bool, Int64, Int64, Int64).self) {
                users.append(UserSummary(
                    name: name, createdAt: createdAt, revoked: revoked, tokens: Int(tokens), devices: Int(devices),
                    records: Int(records)))
            }
            return users
        }
    }

    public func devices(userName: String) async throws -> [DeviceSummary] {
        try await bounded { connection in
            guard let userId = try await connection.query("SELECT id FROM users WHERE name = \(userName)", logger: self.logger)
                .decode(Int64.self).first()
            else { throw ServerError.noUser(userName) }
            let rows = try await connection.query(
                """
                SELECT max(t.device_id), min(t.created_at), min(t.first_used_at), max(t.last_used_at), max(d.last_seen_at), \
                coalesce(max(d.last_applied_seq), 0), CASE WHEN count(*) = count(t.revoked_at) THEN max(t.revoked_at) END \
                FROM tokens t LEFT JOIN devices d ON d.user_id = t.user_id AND d.device_id = t.device_id \
                WHERE t.user_id = \(userId) GROUP BY coalesce(t.device_id, t.hash) \
                ORDER BY max(t.device_id) IS NULL, min(coalesce(t.first_used_at, t.created_at)), max(t.device_id) COLLATE "C"
                """, logger: self.logger)
            var devices: [DeviceSummary] = []
            for try await (deviceId, createdAt, firstUsed, lastUsed, lastPush, pushed, revoked) in rows.decode(
                (String?, Int64, Int64?, Int64?, Int64?, Int64, Int64?).self) {
                devices.append(DeviceSummary(
                    deviceId: deviceId, tokenCreatedAt: createdAt, firstSeenAt: firstUsed, lastSeenAt: lastUsed,
                    lastPushAt: lastPush, changesPushed: pushed, revokedAt: revoked))
            }
            return devices
        }
    }

    public func revokeDevice(_ device: String, now: Int64) async throws -> String {
        try await transaction { connection in
            var matches: [String] = []
            for try await id in try await connection.query(
                "SELECT DISTINCT device_id FROM tokens WHERE starts_with(device_id, \(device))", logger: self.logger
            ).decode(String.self) { matches.append(id) }
            let deviceId = try ServerError.device(device, among: matches)
            try await connection.query(
                "UPDATE tokens SET revoked_at = coalesce(revoked_at, \(now)) WHERE device_id = \(deviceId)", logger: self.logger)
            return deviceId
        }
    }

    // MARK: - Compaction

    public func checkReady() async throws {
        try await bounded { connection in
            for try await _ in try await connection.query("SELECT 1", logger: self.logger) {}
        }
    }

    public func compact(deletedBefore cutoff: Int64) async throws -> Int {
        let libraries = try await bounded { connection in
            var libraries: [Int64] = []
            for try await userId in try await connection.query(
                "SELECT DISTINCT user_id FROM records WHERE deleted AND deleted_at < \(cutoff)", logger: self.logger
            ).decode(Int64.self) { libraries.append(userId) }
            return libraries
        }
        var purged = 0
        for userId in libraries {
            // Under the library's lock, so that the horizon moves with the purge and no push interleaves.
            purged += try await transaction { connection in
                try await connection.query("SELECT 1 FROM users WHERE id = \(userId) FOR UPDATE", logger: self.logger)
                let rows = try await connection.query(
                    """
                    WITH purged AS (DELETE FROM records WHERE user_id = \(userId) AND deleted AND deleted_at < \(cutoff) \
                    RETURNING version) SELECT count(*), coalesce(max(version), 0) FROM purged
                    """, logger: self.logger)
                guard let (count, newest) = try await rows.decode((Int64, Int64).self).first() else { return 0 }
                try await connection.query(
                    "UPDATE users SET horizon = greatest(horizon, \(newest)) WHERE id = \(userId)", logger: self.logger)
                try await connection.query(
                    "DELETE FROM commits WHERE user_id = \(userId) AND last_seq < (SELECT horizon FROM users WHERE id = \(userId))",
                    logger: self.logger)
                return Int(count)
            }
        }
        return purged
    }
}
