import Foundation
import GRDB
import MarginCore
import MarginWire

/// What applying a push reply did: how many changes had each outcome.
public struct PushSummary: Sendable, Hashable {
    public var outcomes: [ChangeResult.Outcome: Int] = [:]
    /// The last change the server acknowledged.
    public var pushedSeq: Int64 = 0
    /// The changes parked by this reply: refused, or waiting on a refused create.
    public var parked: [RejectedChange] = []
}

extension LibraryStore {
    /// The oldest pending changes, at most `maxCount` and about `maxBytes` as JSON (one
    /// change alone may be larger), with the bodies they need (`WireChange.bodyHash`). A body
    /// over `RecordRules.body` cannot travel: its create goes without it, the server
    /// refuses that create alone, and it is parked. Empty when nothing is pending.
    ///
    /// `following` a request whose reply is not applied yet: the batch after it, as it will
    /// be once that reply is applied, provided the reply `keepsLaterChanges`.
    public func pendingPush(maxCount: Int, maxBytes: Int, following previous: PushRequest? = nil) throws(MarginError) -> PushRequest {
        try read { db in
            let state = try SyncState.current(db)
            let rows = try Row.fetchCursor(
                db, sql: "SELECT \(ChangeEntry.columns) FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",
                arguments: [previous?.changes.last?.seq ?? state.pushedSeq, maxCount])
            // (Applying any reply forgets where a restored server's history resumed.)
            var request = PushRequest(changes: [], bodies: [], after: previous == nil ? state.resumeAfter : nil)
            var bytes = 0
            while let row = try rows.next() {
                let change = try state.change(row).wire
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

    /// Whether applying `response` leaves the changes logged after `request` as they are,
    /// so that the next batch can be read (`pendingPush(following:)`) before it is applied.
    /// It does unless the server refused a change (parking it rewrites later updates of its
    /// record), lacks a record (sent again), or has an article under another id (renamed,
    /// in the log too).
    public static func keepsLaterChanges(_ response: PushResponse, of request: PushRequest) -> Bool {
        zip(request.changes, response.results).allSatisfy { change, result in
            result.outcome != .rejected && result.outcome != .missing
                && (result.canonicalId == nil || result.canonicalId == change.id)
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
                    try Article.rename(db, from: change.id, to: canonical)
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
                    try change.entity.setVersion(db, id: change.id, version: version, writtenAt: change.hlc >> 16)
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
        let pushedSeq = try SyncState.current(db).pushedSeq
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
}
