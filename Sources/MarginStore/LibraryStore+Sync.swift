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

/// What applying a push reply did: how many changes had each outcome.
public struct PushSummary: Sendable, Hashable {
    public var outcomes: [ChangeResult.Outcome: Int] = [:]
    /// The last change the server acknowledged.
    public var pushedSeq: Int64 = 0
    /// The changes parked by this reply: refused, or waiting on a refused create.
    public var parked: [RejectedChange] = []
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

    // MARK: - Push

    /// The oldest pending changes, at most `maxCount` and about `maxBytes` as JSON (one
    /// change alone may be larger), with the bodies they need (`WireChange.bodyHash`). A body
    /// over `RecordRules.body` cannot travel: its create goes without it, the server
    /// refuses that create alone, and it is parked. Empty when nothing is pending.
    public func pendingPush(maxCount: Int, maxBytes: Int) throws(MarginError) -> PushRequest {
        try read { db in
            let state = try Row.fetchOne(db, sql: "SELECT device_id, pushed_seq, resume_after FROM sync_state")!
            let pushedSeq: Int64 = state["pushed_seq"]
            let rows = try Row.fetchCursor(
                db, sql: "SELECT \(ChangeEntry.columns) FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",
                arguments: [pushedSeq, maxCount])
            var request = PushRequest(changes: [], bodies: [], after: state["resume_after"])
            var bytes = 0
            while let row = try rows.next() {
                let change = try ChangeEntry(row: row, deviceId: state["device_id"], pushedSeq: pushedSeq).wire
                var size = (row["fields"] as String).utf8.count + 200
                var body: WireBody?
                // (Only the size can stop a stored body: import refused the rest.)
                if let hash = change.bodyHash, let text = try Article.body(db, hash: hash), text.utf8.count <= RecordRules.body.maximum {
                    body = WireBody(hash: hash, text: text)
                    size += JSONWriter.encodedCount(of: text)
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
    /// another with the same body, parks refused changes (`RejectedChange`), settles the
    /// parked changes that accepted ones take the place of, sends again whole what the
    /// server lacks, and applies the resulting records (rebasing any newer local edits on
    /// them; a record whose change was refused comes back as the server has it). `bodies`
    /// holds the bodies of replied articles the store lacks (`missingBodies(of:)`: an
    /// article whose local delete lost to an edit).
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
        let time = now()
        return try mutate { db, recorder in
            var summary = PushSummary()
            summary.pushedSeq = request.changes.last?.seq ?? 0
            try db.execute(
                sql: "UPDATE sync_state SET pushed_seq = max(pushed_seq, ?), resume_after = NULL WHERE id = 1",
                arguments: [summary.pushedSeq])
            var missing: [(entity: RecordEntity, id: String, withArticle: Bool)] = []
            var parked: [Int64] = []
            // Most replies settle nothing: look parked changes up only when there are some.
            let hadParked = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM rejected_changes)") ?? false
            let outcome = try db.cachedStatement(
                sql: "INSERT OR REPLACE INTO sync_outcomes (seq, outcome, version, reason) VALUES (?, ?, ?, ?)")
            for (change, result) in zip(request.changes, response.results) {
                summary.outcomes[result.outcome, default: 0] += 1
                try outcome.execute(arguments: [result.seq, result.outcome.rawValue, result.version, result.reason])
                if let canonical = result.canonicalId, change.entity == .article, canonical != change.id {
                    try Self.renameArticle(db, from: change.id, to: canonical)
                }
                switch result.outcome {
                case .rejected:
                    try Self.park(db, change, reason: try Self.refusal(db, change, result), at: time, pushedSeq: summary.pushedSeq)
                    parked.append(change.seq)
                    continue
                case .missing:
                    // Sent again whole: an annotation create answered `missing` lacks its
                    // article, which goes first, unless it was already sent whole ahead of it in
                    // this very push, or it waits on a refused create itself. (An article create
                    // later in the push came too late for it: an update answered `missing`
                    // before the article's own was sent again this way.)
                    guard change.entity != .conflict else { break }
                    let articleId = change.entity == .annotation ? try Annotation.fetchOne(db, id: change.id)?.articleId : nil
                    if let articleId, let reason = try Self.parkedCreateReason(db, id: articleId) {
                        try Self.park(
                            db, change, reason: "its article is not on the server (\(reason))", at: time, pushedSeq: summary.pushedSeq)
                        parked.append(change.seq)
                        continue
                    }
                    let withArticle = change.entity == .annotation && change.op == .create
                    let articleSent = request.changes.prefix { $0.seq < change.seq }.contains {
                        $0.entity == .article && $0.op == .create && $0.id == change.fields[.articleId]?.new.textValue
                    }
                    if !(withArticle && articleSent) { missing.append((change.entity, change.id, withArticle)) }
                case .applied, .merged, .conflict, .alreadyApplied:
                    if hadParked || !parked.isEmpty { try Self.settleRejected(db, by: change) }
                }
                if result.outcome == .applied, change.op == .delete, let version = result.version {
                    try Tombstones.record(db, change.entity, id: change.id, version: version)
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
            var applier = try RecordApplier(replying: db, now: time)
            for body in bodies { applier.bodies[body.hash] = body.text }
            for record in response.records { try applier.apply(record) }
            for record in missing { try Self.sendAgain(record.entity, id: record.id, withArticle: record.withArticle, db, &recorder) }
            summary.parked = try parked.compactMap { seq in try Self.fetchRejected(db, where: "WHERE r.seq = ?", arguments: [seq]).first }
            return summary
        }
    }

    /// Why the server refused `change`, in the device's words where it knows better: a
    /// create whose body it withheld (over `RecordRules.body`) names the body's size.
    private static func refusal(_ db: Database, _ change: WireChange, _ result: ChangeResult) throws -> String {
        let reason = result.reason ?? "refused by the server"
        guard let hash = change.bodyHash, let body = try Article.body(db, hash: hash)
        else { return reason }
        do {
            try RecordRules.check(body: body)
            return reason
        } catch {
            return error.message
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
        // The version it had here tells the server the library had it (and deleted it); the
        // record keeps the time it was last written.
        func create(_ entity: RecordEntity, _ id: String, _ fields: [RecordField: FieldValue], updatedAt: Timestamp) throws {
            guard try !pendingCreate(id) else { return }
            let version = entity == .article ? try Article.version(db, id: id) : try Annotation.version(db, id: id)
            try recorder.record(
                db, entity, id: id, .create, old: nil, new: fields, baseVersion: version, resending: true,
                writtenAt: HybridTimestamp(physical: updatedAt, logical: 0))
        }
        let articleId: String
        if entity == .annotation {
            guard let annotation = try Annotation.fetchOne(db, id: id) else { return }
            articleId = annotation.articleId
        } else {
            articleId = id
        }
        if entity == .article || withArticle, let article = try Article.fetchOne(db, id: articleId) {
            try create(.article, article.id, article.fieldValues, updatedAt: article.updatedAt)
        }
        if entity == .annotation, let annotation = try Annotation.fetchOne(db, id: id) {
            try create(.annotation, annotation.id, annotation.fieldValues, updatedAt: annotation.updatedAt)
        }
    }

    // MARK: - Helpers

    /// Refuses bodies that do not match their hash, before anything is written.
    static func check(_ bodies: [WireBody]) throws(MarginError) {
        for body in bodies where ContentHash.of(body.text) != body.hash {
            throw MarginError(.invalidInput, "the server sent a body that does not match its hash; nothing was applied")
        }
    }

    /// Refuses records a server should never send, before anything is written. Limits
    /// are not checked: a record stored under an earlier release's rules stays readable.
    static func validate(_ records: [ServerRecord]) throws(MarginError) {
        for record in records {
            guard Identifier.isValid(record.id), record.version > 0 else {
                throw MarginError(.invalidInput, "the server sent a record with an invalid id or version; nothing was applied")
            }
            if record.deleted { continue }
            do throws(MarginError) {
                try RecordRules.check(record: record.fields, of: record.entity, limits: false)
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
        try db.execute(sql: "UPDATE articles SET id = ?, handle = ? WHERE id = ?", arguments: [new, Handle.of(new), old])
        try db.execute(sql: "UPDATE article_tags SET article_id = ? WHERE article_id = ?", arguments: [new, old])
        try repoint(db, from: old, to: new)
    }

    /// Folds the local article `old` into the article `new`, which is taking its text (the
    /// server merged the two: `old` is an alias of `new` there): its annotations and logged
    /// changes go to `new`, and the row goes. Nothing is logged: the server did it.
    static func foldArticle(_ db: Database, from old: String, into new: String) throws {
        guard let article = try Article.fetchOne(db, id: old) else { return }
        try repoint(db, from: old, to: new)
        try article.delete(db)
    }

    /// Points the annotations and logged changes of the article `old` at `new`.
    private static func repoint(_ db: Database, from old: String, to new: String) throws {
        try db.execute(sql: "UPDATE annotations SET article_id = ? WHERE article_id = ?", arguments: [new, old])
        try db.execute(sql: "UPDATE changes SET entity_id = ? WHERE entity_id = ?", arguments: [new, old])
        try db.execute(sql: "UPDATE pulled_changes SET entity_id = ? WHERE entity_id = ?", arguments: [new, old])
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
