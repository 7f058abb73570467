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
    public var lastSyncAt: Timestamp?
    public var lastError: String?
    public var lastErrorAt: Timestamp?
}

/// A pulled page whose records passed `LibraryStore.check(_:)`.
public struct CheckedPullPage: Sendable {
    public let page: PullResponse

    fileprivate init(page: PullResponse) {
        self.page = page
    }
}

/// What applying a push reply did: how many changes had each outcome.
public struct PushSummary: Sendable, Hashable {
    public var outcomes: [ChangeResult.Outcome: Int] = [:]
    /// The last change the server acknowledged.
    public var pushedSeq: Int64 = 0
}

extension LibraryStore {
    // MARK: - Remote and status

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
                    next_seq - 1 - pushed_seq AS pending, (SELECT count(*) FROM conflicts) AS conflicts FROM sync_state
                    """)!
            let url: String? = row["remote_url"]
            return SyncStatus(
                remote: url.map { RemoteSettings(url: $0, tokenFile: row["token_file"], insecure: row["insecure"]) },
                deviceId: row["device_id"], cursor: row["cursor"], pendingChanges: row["pending"],
                conflicts: row["conflicts"], lastSyncAt: (row["last_sync_at"] as Int64?).map(Timestamp.init),
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

    // MARK: - Push

    /// The oldest pending changes, at most `maxCount` and about `maxBytes`, with the
    /// bodies of the articles they create. Empty when nothing is pending.
    public func pendingPush(maxCount: Int, maxBytes: Int) throws(MarginError) -> PushRequest {
        try read { db in
            let pushedSeq = try Int64.fetchOne(db, sql: "SELECT pushed_seq FROM sync_state")!
            let rows = try Row.fetchCursor(
                db,
                sql: "SELECT seq, entity, entity_id, op, fields, base_version, hlc FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",
                arguments: [pushedSeq, maxCount])
            var request = PushRequest(changes: [], bodies: [])
            var bytes = 0
            while let row = try rows.next() {
                let fields: String = row["fields"]
                guard let entity = RecordEntity(rawValue: row["entity"]), let op = ChangeEntry.Operation(rawValue: row["op"]) else {
                    throw MarginError(.corruptStore, "the change log has an entry of an unknown kind")
                }
                let change = WireChange(
                    seq: row["seq"], entity: entity, id: row["entity_id"], op: op, baseVersion: row["base_version"],
                    hlc: row["hlc"], fields: try JSONNode.parse(fields).fieldChanges())
                var size = fields.utf8.count + 200
                var body: WireBody?
                if entity == .article, op == .create, let hash = change.fields["contentHash"]?.new.textValue,
                   let text = try Article.body(db, hash: hash) {
                    body = WireBody(hash: hash, text: text)
                    size += text.utf8.count
                }
                if !request.changes.isEmpty, bytes + size > maxBytes { break }
                bytes += size
                request.changes.append(change)
                if let body { request.bodies.append(body) }
            }
            return request
        }
    }

    /// Applies the server's reply to `request` in one transaction: records each outcome,
    /// advances the acknowledged sequence, renames articles the server merged into
    /// another with the same body, and applies the resulting records (rebasing any
    /// newer local edits on them). `bodies` holds the bodies of replied articles the store
    /// lacks (`missingBodies(of:)`: an article whose local delete lost to an edit).
    ///
    /// The replied records are applied even at the version the store holds: a copy pulled
    /// while these changes were pending shows them at that version, and the server may
    /// have resolved them otherwise (a value that lost a conflict).
    public func applyPushResponse(
        _ response: PushResponse, for request: PushRequest, bodies: [WireBody] = []
    ) throws(MarginError) -> PushSummary {
        guard response.results.map(\.seq) == request.changes.map(\.seq) else {
            throw MarginError(.invalidInput, "the server's reply does not match the changes pushed; nothing was applied")
        }
        try Self.validate(response.records)
        try Self.check(bodies)
        let replied = Set(response.records.map(\.id))
        return try mutate { db, recorder in
            var summary = PushSummary()
            var missing: [(entity: RecordEntity, id: String, withArticle: Bool)] = []
            let outcome = try db.cachedStatement(
                sql: "INSERT OR REPLACE INTO sync_outcomes (seq, outcome, version, reason) VALUES (?, ?, ?, ?)")
            for (change, result) in zip(request.changes, response.results) {
                summary.outcomes[result.outcome, default: 0] += 1
                try outcome.execute(arguments: [result.seq, result.outcome.rawValue, result.version, result.reason])
                if let canonical = result.canonicalId, change.entity == .article, canonical != change.id {
                    try Self.renameArticle(db, from: change.id, to: canonical)
                }
                // Sent again whole: an annotation create answered `missing` lacks its article,
                // which goes first, unless it was already sent whole in this very push.
                if result.outcome == .missing, change.entity != .conflict {
                    let withArticle = change.entity == .annotation && change.op == .create
                    let articleSent = request.changes.contains {
                        $0.entity == .article && $0.op == .create && $0.id == change.fields["articleId"]?.new.textValue
                    }
                    if !(withArticle && articleSent) { missing.append((change.entity, change.id, withArticle)) }
                }
                if result.outcome == .applied, let version = result.version, change.entity != .conflict,
                   !replied.contains(change.id) {
                    // Applied as sent: the server's record is this one, at `version`. (A record
                    // others also wrote since comes whole in the reply and is applied below.)
                    let table = change.entity == .article ? "articles" : "annotations"
                    try db.cachedStatement(
                        sql: "UPDATE \(table) SET version = ?, updated_at = max(updated_at, ?) WHERE id = ?"
                    ).execute(arguments: [version, change.hlc >> 16, change.id])
                }
            }
            summary.pushedSeq = request.changes.last?.seq ?? 0
            try db.execute(sql: "UPDATE sync_state SET pushed_seq = max(pushed_seq, ?) WHERE id = 1", arguments: [summary.pushedSeq])
            var applier = try RecordApplier(db, replacingSameVersion: true)
            for body in bodies { applier.bodies[body.hash] = body.text }
            for record in response.records { try applier.apply(record) }
            for record in missing { try Self.sendAgain(record.entity, id: record.id, withArticle: record.withArticle, db, &recorder) }
            return summary
        }
    }

    /// Logs a create of the record `id` as it is here now (and, `withArticle`, of an
    /// annotation's article first), because the server does not have it: its tombstone was
    /// purged while this device was away, and the edits made here since win over that
    /// delete. Nothing is logged for a record deleted here since, or already waiting to be
    /// created again.
    private static func sendAgain(
        _ entity: RecordEntity, id: String, withArticle: Bool, _ db: Database, _ recorder: inout ChangeRecorder
    ) throws {
        let pushedSeq = try Int64.fetchOne(db, sql: "SELECT pushed_seq FROM sync_state")!
        func pendingCreate(_ id: String) throws -> Bool {
            try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM changes WHERE entity_id = ? AND op = 'create' AND seq > ?)",
                arguments: [id, pushedSeq]) ?? false
        }
        // The version it had here tells the server the library had it (and deleted it).
        func create(_ entity: RecordEntity, _ id: String, _ fields: [String: FieldValue]) throws {
            guard try !pendingCreate(id) else { return }
            let version = entity == .article ? try Article.version(db, id: id) : try Annotation.version(db, id: id)
            try recorder.record(db, entity, id: id, .create, old: nil, new: fields, baseVersion: version)
        }
        let articleId: String
        if entity == .annotation {
            guard let annotation = try Annotation.fetchOne(db, id: id) else { return }
            articleId = annotation.articleId
        } else {
            articleId = id
        }
        if entity == .article || withArticle, let article = try Article.fetchOne(db, id: articleId) {
            try create(.article, article.id, article.fieldValues)
        }
        if entity == .annotation, let annotation = try Annotation.fetchOne(db, id: id) {
            try create(.annotation, annotation.id, annotation.fieldValues)
        }
    }

    // MARK: - Pull

    /// The cursor to pull from and whether a reset pull is under way.
    public func pullState() throws(MarginError) -> (cursor: Int64, resetting: Bool) {
        try read { db in
            let row = try Row.fetchOne(db, sql: "SELECT cursor, resetting FROM sync_state")!
            return (row["cursor"], row["resetting"])
        }
    }

    /// The body hashes of live articles among `records` (pulled or replied) that this
    /// store does not hold.
    public func missingBodies(of records: [ServerRecord]) throws(MarginError) -> [String] {
        let hashes = Set(records.filter { $0.entity == .article && !$0.deleted }.compactMap { $0.fields["contentHash"]?.textValue })
        return try read { db in try hashes.filter { try Article.body(db, hash: $0) == nil }.sorted() }
    }

    /// Checks that a pulled page holds only records a server may send; pure, so it can
    /// run on the thread that fetched the page while another page is being applied.
    public static func check(_ page: PullResponse) throws(MarginError) -> CheckedPullPage {
        try validate(page.records)
        return CheckedPullPage(page: page)
    }

    /// Applies one checked pulled page and its cursor in one transaction, so an
    /// interrupted pull resumes after the last page applied. `bodies` holds the article
    /// bodies the page needs that the store lacked. The transaction is not fsynced: a page
    /// lost to a power cut is lost with its cursor, and pulled again.
    public func applyPullPage(_ checked: CheckedPullPage, bodies: [WireBody]) throws(MarginError) {
        let page = checked.page
        try Self.check(bodies)
        try write(durable: false) { db in
            var applier = try RecordApplier(db)
            for body in bodies { applier.bodies[body.hash] = body.text }
            try applier.prefetchVersions(of: page.records)
            for record in page.records { try applier.apply(record) }
            try db.execute(sql: "UPDATE sync_state SET cursor = ? WHERE id = 1", arguments: [page.cursor])
        }
    }

    /// Starts a pull from nothing after the server answered "reset" (this store's cursor
    /// is older than the server's compacted history). Pending changes are kept.
    public func beginReset() throws(MarginError) {
        try write { db in
            try db.execute(sql: "UPDATE sync_state SET cursor = 0, resetting = 1 WHERE id = 1")
            try db.execute(sql: "DELETE FROM reset_seen")
        }
    }

    /// Ends a reset pull: records the server no longer has, and that have no pending
    /// local change, were deleted there and are removed here.
    public func finishReset() throws(MarginError) {
        try write { db in
            let pushedSeq = try Int64.fetchOne(db, sql: "SELECT pushed_seq FROM sync_state")!
            let unseen = "NOT IN (SELECT id FROM reset_seen) AND id NOT IN (SELECT entity_id FROM changes WHERE seq > \(pushedSeq))"
            for id in try String.fetchAll(db, sql: "SELECT id FROM annotations WHERE id \(unseen)") {
                try Annotation.fetchOne(db, id: id)?.delete(db)
            }
            for id in try String.fetchAll(
                db, sql: "SELECT id FROM articles WHERE id \(unseen) AND id NOT IN (SELECT article_id FROM annotations)") {
                try Article.fetchOne(db, id: id)?.delete(db)
            }
            try db.execute(sql: "DELETE FROM conflicts WHERE id NOT IN (SELECT id FROM reset_seen)")
            try db.execute(sql: "DELETE FROM reset_seen")
            try db.execute(sql: "UPDATE sync_state SET resetting = 0 WHERE id = 1")
        }
    }

    // MARK: - Helpers

    /// Refuses bodies that do not match their hash, before anything is written.
    private static func check(_ bodies: [WireBody]) throws(MarginError) {
        for body in bodies where ContentHash.of(body.text) != body.hash {
            throw MarginError(.invalidInput, "the server sent a body that does not match its hash; nothing was applied")
        }
    }

    /// Refuses records a server should never send, before anything is written.
    private static func validate(_ records: [ServerRecord]) throws(MarginError) {
        for record in records {
            guard Identifier.isValid(record.id), record.version > 0 else {
                throw MarginError(.invalidInput, "the server sent a record with an invalid id or version; nothing was applied")
            }
            if record.deleted { continue }
            do {
                try RecordSchema.validate(record: record.fields, of: record.entity)
            } catch {
                throw MarginError(.invalidInput, "the server sent an invalid \(record.entity.rawValue) record (\(error.message)); nothing was applied")
            }
        }
    }

    /// Gives a local article the id the server knows it by (another device imported the
    /// same body first), with its tags, annotations and logged changes.
    static func renameArticle(_ db: Database, from old: String, to new: String) throws {
        guard try Article.fetchOne(db, id: old) != nil, try Article.fetchOne(db, id: new) == nil else { return }
        try db.execute(sql: "PRAGMA defer_foreign_keys = ON")
        try db.execute(sql: "UPDATE articles SET id = ? WHERE id = ?", arguments: [new, old])
        try db.execute(sql: "UPDATE article_tags SET article_id = ? WHERE article_id = ?", arguments: [new, old])
        try db.execute(sql: "UPDATE annotations SET article_id = ? WHERE article_id = ?", arguments: [new, old])
        try db.execute(sql: "UPDATE changes SET entity_id = ? WHERE entity_id = ?", arguments: [new, old])
        try db.execute(
            sql: """
                UPDATE changes SET fields = json_set(fields, '$.articleId.new', ?) \
                WHERE entity = 'annotation' AND json_extract(fields, '$.articleId.new') = ?
                """,
            arguments: [new, old])
        try db.execute(
            sql: """
                UPDATE changes SET fields = json_set(fields, '$.articleId.old', ?) \
                WHERE entity = 'annotation' AND json_extract(fields, '$.articleId.old') = ?
                """,
            arguments: [new, old])
    }
}

extension LibraryStore {
    /// Whether pulled annotations are waiting for their article.
    public func hasParkedRecords() throws(MarginError) -> Bool {
        try read { db in try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM parked_records)") ?? false }
    }
}
