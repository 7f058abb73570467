import Foundation
import GRDB
import MarginCore
import MarginWire

/// Applies records from the server to the local store within one write transaction
/// (sync rule 4, "no echo, no clobber"): a record this store already has at that version
/// is skipped (its own changes coming back); a record with pending local changes keeps
/// them on top (rebased: the pending values over the server's, tags merged as
/// `MergeRules.tags`); deletes from the server remove local records unless they have
/// pending edits (an edit beats a delete: the push will bring them back). Annotations that
/// arrive before their article wait in `parked_records`.
///
/// Changes made here are the server's, so they are not written to the change log — but
/// in the pull that follows a restore of the server from a backup, where this store's copy
/// of a record came from history the server lost, that copy is kept and logged to be sent
/// again (`keepLostValues`).
struct RecordApplier {
    let db: Database
    private let pushedSeq: Int64
    /// Whether any change is pending at all (most pulls have none to rebase on).
    private let hasPending: Bool
    private let resetting: Bool
    /// Whether a record at the version the store holds is applied again (push replies).
    private let replacingSameVersion: Bool
    /// In the pull after a restore: records held at a higher version came from history
    /// the server lost.
    private let restoreSince: Int64?
    /// Logs what is sent again after a restore; the caller saves it with the transaction.
    private(set) var recorder: ChangeRecorder?
    /// Writes what the records change here, for a record's history.
    private let history: PulledHistory
    /// Whether this store noted any delete (`Tombstones`): a record inserted again must
    /// drop its note.
    private let hasTombstones: Bool
    /// Bodies fetched for this page, by hash.
    var bodies: [String: String] = [:]
    /// Article texts already read with their hashes, by article id, for anchoring their
    /// annotations.
    private var texts: [String: (hash: String, text: ArticleText)] = [:]
    /// The bodies of articles inserted by this applier, by id: their `ArticleText`
    /// (normalized, split into scalars) is made only if an annotation needs it. Most
    /// pulled articles come without one: making it for each was a third of applying an
    /// article (`perf`, a first sync of 5,000 articles).
    private var insertedBodies: [String: (hash: String, body: String)] = [:]
    /// Texts annotations were made on, by hash, for anchoring them.
    private var basisTexts: [String: ArticleText] = [:]
    /// The local versions of annotations about to be applied, read in one query by
    /// `prefetchVersions(of:)`: `nil` for an annotation this store does not hold. An id
    /// is dropped once used, and all of them when applying may have changed others.
    private var knownVersions: [String: Int64?] = [:]

    /// An applier for pulled records (of a whole library when `snapshot`: records new here
    /// get no history entry); after a restore, what it sends again is logged at clock time `now`.
    init(_ db: Database, now: Timestamp, snapshot: Bool) throws {
        try self.init(
            db, replacingSameVersion: false, pulling: true,
            history: PulledHistory(origin: .pulled, receivedAt: now, recordsCreates: !snapshot))
    }

    /// An applier for the records of a push reply (`origin` merged; pulled, for records
    /// that waited for their article in a pull): the store may hold one at the same version
    /// with pending changes rebased on it, which the server has now resolved.
    init(replying db: Database, now: Timestamp, origin: HistoryEntry.Origin = .merged) throws {
        try self.init(
            db, replacingSameVersion: true, pulling: false, history: PulledHistory(origin: origin, receivedAt: now, recordsCreates: true))
    }

    /// Only a pull (`pulling`) may bring records of history a restored server lost.
    private init(_ db: Database, replacingSameVersion: Bool, pulling: Bool, history: PulledHistory) throws {
        self.db = db
        self.replacingSameVersion = replacingSameVersion
        self.history = history
        let now = pulling ? history.receivedAt : nil
        let state = try SyncState.current(db)
        pushedSeq = state.pushedSeq
        hasPending = state.hasPending
        resetting = state.resetting
        restoreSince = now == nil ? nil : state.restoreSince
        if restoreSince != nil, let now { recorder = try ChangeRecorder(db, now: now) }
        hasTombstones = try !Tombstones.isEmpty(db)
    }

    /// Reads the local versions of the annotations among `records` in one query, so that
    /// applying them need not look each one up.
    mutating func prefetchVersions(of records: [ServerRecord]) throws {
        let ids = records.filter { $0.entity == .annotation }.map(\.id)
        guard !ids.isEmpty else { return }
        for id in ids { knownVersions[id] = .some(nil) }
        let rows = try Row.fetchCursor(
            db, sql: "SELECT id, version FROM annotations WHERE id IN (SELECT value FROM json_each(?))",
            arguments: [JSONText.array(ids)])
        while let row = try rows.next() { knownVersions[row[0]] = .some(row[1]) }
    }

    mutating func apply(_ record: ServerRecord) throws {
        if resetting {
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO reset_seen (id) VALUES (?)").execute(arguments: [record.id])
        }
        switch record.entity {
        case .article: try applyArticle(record)
        case .annotation: try applyAnnotation(record)
        case .conflict: try applyConflict(record)
        }
    }

    // MARK: - Articles

    private mutating func applyArticle(_ record: ServerRecord) throws {
        let local = try Article.fetchOne(db, id: record.id)
        let localVersion = local == nil ? 0 : try Article.version(db, id: record.id)
        let lost = local != nil && isLost(localVersion, record)
        if local != nil, !lost, isCurrent(localVersion, record) { return }
        if local == nil, try deleteAgain(.article, record) { return }
        let pending = try pendingChanges(record.id)
        if lost, let local {
            let values = try keepLostValues(.article, record, held: local.fieldValues, pending: pending, writtenAt: local.updatedAt)
            let article = Article(id: record.id, fields: values, updatedAt: local.updatedAt)
            if article != local { try article.update(db, old: local) }
            try setVersion(record)
            return try applyParked(articleId: record.id)
        }
        if record.deleted {
            guard let local, pending.isEmpty else { return try setVersion(record) }
            let annotations = try Annotation.fetchListings(db, where: "WHERE n.article_id = ?", arguments: [record.id])
            if try annotations.contains(where: { try !pendingChanges($0.annotation.id).isEmpty }) {
                return try setVersion(record)
            }
            for listing in annotations {
                try listing.annotation.delete(db)
                try Tombstones.record(db, .annotation, id: listing.annotation.id, version: record.version)
                try history.record(db, .annotation, id: listing.annotation.id, .delete, old: listing.annotation.fieldValues, new: nil, from: record)
            }
            knownVersions.removeAll()
            // The body goes with its last article; a later record of this batch may be
            // another article with the same body (imported again elsewhere).
            if bodies[local.contentHash] == nil { bodies[local.contentHash] = try Article.body(db, hash: local.contentHash) }
            try local.delete(db)
            try Tombstones.record(db, .article, id: record.id, version: record.version)
            try history.record(db, .article, id: record.id, .delete, old: local.fieldValues, new: nil, from: record)
            return try applyParked(onGone: record.id)
        }
        guard let values = Self.rebase(record.fields, on: pending) else { return }
        let article = Article(id: record.id, fields: values, updatedAt: Timestamp(milliseconds: record.updatedAt))
        // Another article here holding this text: one never synchronized was imported here
        // too, and the server merged it into this one; a synchronized one holds a text the
        // server has since given to this article (the library holds one live article per
        // text), so a later record gives it another text or deletes it: this one waits.
        let holder = local?.contentHash == article.contentHash ? nil : try Article.id(db, contentHash: article.contentHash)
        if let holder, holder != article.id, try Article.version(db, id: holder) > 0 {
            return try park(record, articleId: holder)
        }
        if let existing = try local ?? adoptDuplicate(of: article) {
            if existing != article {
                // A new text comes with the bodies fetched for this page; the update anchors
                // the article's annotations in it.
                let body = try bodies[article.contentHash] ?? Article.body(db, hash: article.contentHash)
                if existing.contentHash != article.contentHash, let holder, holder != article.id {
                    try Article.fold(db, from: holder, into: article.id)
                    forgetText(of: holder)
                }
                try article.update(db, old: existing, body: body)
                forgetText(of: article.id)
                try history.record(db, .article, id: article.id, .update, old: existing.fieldValues, new: article.fieldValues, from: record)
            }
        } else {
            guard let body = try bodies[article.contentHash] ?? Article.body(db, hash: article.contentHash) else {
                throw MarginError(.invalidInput, "the server did not send the body of article \(article.id)")
            }
            try article.insert(db, body: body, searchableBody: SearchText.searchable(body))
            if hasTombstones { try Tombstones.remove(db, id: article.id) }
            try history.record(db, .article, id: article.id, .create, old: nil, new: article.fieldValues, from: record)
            insertedBodies[article.id] = (article.contentHash, body)
        }
        try setVersion(record)
        try applyParked(articleId: record.id)
    }

    /// A local article with the same body under another id (imported here before this
    /// sync pushed it): it takes the server's id.
    private func adoptDuplicate(of article: Article) throws -> Article? {
        guard let other = try Article.id(db, contentHash: article.contentHash), other != article.id else { return nil }
        try Article.rename(db, from: other, to: article.id)
        return try Article.fetchOne(db, id: article.id)
    }

    // MARK: - Annotations

    private mutating func applyAnnotation(_ record: ServerRecord) throws {
        let localVersion = try knownVersions.removeValue(forKey: record.id) ?? Int64.fetchOne(
            db.cachedStatement(sql: "SELECT version FROM annotations WHERE id = ?"), arguments: [record.id])
        let lost = localVersion.map { isLost($0, record) } ?? false
        if let localVersion, !lost, isCurrent(localVersion, record) { return }
        if localVersion == nil, try deleteAgain(.annotation, record) { return }
        let local = localVersion == nil ? nil : try Annotation.fetchOne(db, id: record.id)
        let pending = try pendingChanges(record.id)
        if lost, let local {
            let values = try keepLostValues(.annotation, record, held: local.fieldValues, pending: pending, writtenAt: local.updatedAt)
            let annotation = Annotation(id: record.id, fields: values, updatedAt: local.updatedAt)
            if annotation != local { try annotation.update(db, old: local) }
            return try setVersion(record)
        }
        if record.deleted {
            try db.execute(sql: "DELETE FROM parked_records WHERE id = ?", arguments: [record.id])
            guard let local, pending.isEmpty else { return try setVersion(record) }
            try local.delete(db)
            try history.record(db, .annotation, id: record.id, .delete, old: local.fieldValues, new: nil, from: record)
            return try Tombstones.record(db, .annotation, id: record.id, version: record.version)
        }
        guard let values = Self.rebase(record.fields, on: pending) else { return }
        let annotation = Annotation(id: record.id, fields: values, updatedAt: Timestamp(milliseconds: record.updatedAt))
        if let local {
            if local.articleId != annotation.articleId {
                // The server put it on another article (one with the same text, under the
                // id the server knows it by): it moves once that article is here.
                guard let current = try text(of: annotation.articleId) else { return try park(record, articleId: annotation.articleId) }
                try annotation.move(db, in: current.text, hash: current.hash, texts: &basisTexts)
            }
            if local != annotation {
                try annotation.update(db, old: local)
                try history.record(
                    db, .annotation, id: record.id, .update, old: local.fieldValues, new: annotation.fieldValues, from: record)
            }
        } else {
            guard let current = try text(of: annotation.articleId) else { return try park(record, articleId: annotation.articleId) }
            if hasTombstones { try Tombstones.remove(db, id: annotation.id) }
            // A text it was made on, fetched for this page, is kept: the annotation is
            // anchored from it again whenever the article changes.
            if let basis = annotation.basis, let body = bodies[basis] { try Article.keep(db, body: body, hash: basis) }
            let anchor = try annotation.anchor(db, in: current.text, hash: current.hash, texts: &basisTexts)
            try history.record(db, .annotation, id: record.id, .create, old: nil, new: annotation.fieldValues, from: record)
            return try annotation.insert(db, anchor: anchor, version: record.version)
        }
        try setVersion(record)
    }

    /// After a restore: whether `record`, which this store does not hold, was deleted here
    /// in history the server lost. The delete is then logged again (and the record not
    /// applied): with the server's values as they were when the server's record is from
    /// before the restore point, else unknown, so that an edit made since beats it and
    /// the delete is kept as a conflict record.
    private mutating func deleteAgain(_ entity: RecordEntity, _ record: ServerRecord) throws -> Bool {
        guard let since = restoreSince, !record.deleted, hasTombstones, let version = try Tombstones.version(db, id: record.id),
              version > since
        else { return false }
        let old = record.version <= since ? record.fields : record.fields.mapValues { _ in FieldValue.null }
        try recorder?.record(db, entity, id: record.id, .delete, old: old, new: nil, baseVersion: record.version, resending: true)
        return true
    }

    /// Keeps an annotation whose article is not here yet until it arrives, with the text
    /// it was made on when this page brought it: the page that brings the article will not.
    private func park(_ record: ServerRecord, articleId: String) throws {
        if let basis = record.fields[.basis]?.textValue, let body = bodies[basis] { try Article.keep(db, body: body, hash: basis) }
        try db.execute(
            sql: "INSERT OR REPLACE INTO parked_records (id, article_id, record) VALUES (?, ?, ?)",
            arguments: [record.id, articleId, String(decoding: record.jsonBytes, as: UTF8.self)])
    }

    /// The current text of an article with its hash, read once per applier.
    private mutating func text(of articleId: String) throws -> (hash: String, text: ArticleText)? {
        if let text = texts[articleId] { return text }
        let text = try insertedBodies.removeValue(forKey: articleId).map { ($0.hash, ArticleText($0.body)) }
            ?? Article.hashedText(db, id: articleId)
        texts[articleId] = text
        return text
    }

    /// Drops what was read of an article's text: it changed.
    private mutating func forgetText(of articleId: String) {
        texts[articleId] = nil
        insertedBodies[articleId] = nil
    }

    /// Whether the store's copy at `localVersion` came from history the server lost
    /// (after a restore), so that versions do not compare: the copy may hold what the server
    /// no longer has.
    private func isLost(_ localVersion: Int64, _ record: ServerRecord) -> Bool {
        restoreSince.map { localVersion > $0 && !record.deleted } ?? false
    }

    /// Whether the store's copy at `localVersion` needs nothing from `record`.
    private func isCurrent(_ localVersion: Int64, _ record: ServerRecord) -> Bool {
        replacingSameVersion ? localVersion > record.version : localVersion >= record.version
    }

    /// What waited on an article that is gone here: `articleId`, just deleted (its
    /// annotations go with it), or any (after a reset dropped articles). Articles that waited
    /// for it to give up their text apply.
    mutating func applyParked(onGone articleId: String? = nil) throws {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT id, record FROM parked_records p WHERE (?1 IS NULL OR article_id = ?1) \
                AND NOT EXISTS (SELECT 1 FROM articles a WHERE a.id = p.article_id)
                """,
            arguments: [articleId])
        for row in rows {
            let record = try ServerRecord(jsonBytes: Array((row["record"] as String).utf8))
            guard record.entity == .article || articleId != nil else { continue }
            try db.execute(sql: "DELETE FROM parked_records WHERE id = ?", arguments: [row["id"] as String])
            knownVersions.removeAll()
            if record.entity == .article { try apply(record) }
        }
    }

    private mutating func applyParked(articleId: String) throws {
        let parked = try String.fetchAll(
            db, sql: "SELECT record FROM parked_records WHERE article_id = ?", arguments: [articleId])
        guard !parked.isEmpty else { return }
        try db.execute(sql: "DELETE FROM parked_records WHERE article_id = ?", arguments: [articleId])
        knownVersions.removeAll()
        for json in parked { try apply(try ServerRecord(jsonBytes: Array(json.utf8))) }
    }

    // MARK: - Conflicts

    private mutating func applyConflict(_ record: ServerRecord) throws {
        if record.deleted {
            try db.execute(sql: "DELETE FROM conflicts WHERE id = ?", arguments: [record.id])
            return try Tombstones.record(db, .conflict, id: record.id, version: record.version)
        }
        if restoreSince != nil,
           try !(Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM conflicts WHERE id = ?)", arguments: [record.id]) ?? false),
           try deleteAgain(.conflict, record) { return }
        let conflict = ConflictRecord(id: record.id, fields: record.fields)
        if conflict.field == .contentHash, let hash = conflict.value.textValue, let body = bodies[hash] {
            // A text that lost: kept, so that `restoreConflict` can put it back.
            try Article.keep(db, body: body, hash: hash)
        }
        try db.execute(
            sql: """
                INSERT INTO conflicts (id, record_entity, record_id, kind, field, value, device, hlc, created_at, version) \
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version \
                WHERE excluded.version > conflicts.version
                """,
            arguments: [
                record.id, conflict.recordEntity.rawValue, conflict.recordId, conflict.kind.rawValue, conflict.field?.rawValue,
                JSONText.value(conflict.value), conflict.device, conflict.hlc, conflict.createdAt.milliseconds, record.version,
            ])
    }

    // MARK: - Rebase

    /// This store's unacknowledged changes to the record `id`, oldest first.
    private func pendingChanges(_ id: String) throws -> [(op: ChangeEntry.Operation, fields: [RecordField: ChangeEntry.FieldChange])] {
        guard hasPending else { return [] }
        let rows = try Row.fetchAll(
            db.cachedStatement(sql: "SELECT op, fields FROM changes WHERE entity_id = ? AND seq > ? ORDER BY seq"),
            arguments: [id, pushedSeq])
        return try rows.map { row in
            let fields: String = row["fields"]
            return (ChangeEntry.Operation(rawValue: row["op"]) ?? .update, try JSONNode.parse(fields).fieldChanges())
        }
    }

    /// The server's values with the pending local changes on top, or `nil` when a
    /// pending change deletes the record.
    static func rebase(
        _ server: [RecordField: FieldValue], on pending: [(op: ChangeEntry.Operation, fields: [RecordField: ChangeEntry.FieldChange])]
    ) -> [RecordField: FieldValue]? {
        var values = server
        for change in pending {
            if change.op == .delete { return nil }
            for (field, fieldChange) in change.fields {
                values[field] = field == .tags
                    ? .list(MergeRules.tags(
                        values[field]?.listValue ?? [], old: fieldChange.old.listValue ?? [], new: fieldChange.new.listValue ?? []))
                    : fieldChange.new
            }
        }
        return values
    }

    /// After a restore: the values to keep for a record this store `held` from history the
    /// server lost. The server's record, with the pending changes on top, is what the
    /// server will hold; where the held copy differs in a field a change may set, the held
    /// value is kept and logged as an update to send again. Its old value is the server's
    /// when the server's record is from before the restore point (the update then simply
    /// applies); otherwise the server's value may be another device's edit made since, so
    /// the old value is left unknown (`null`) and the server resolves the two as concurrent
    /// edits, keeping the loser as a conflict record. Either way nothing is lost.
    private mutating func keepLostValues(
        _ entity: RecordEntity, _ record: ServerRecord, held: [RecordField: FieldValue],
        pending: [(op: ChangeEntry.Operation, fields: [RecordField: ChangeEntry.FieldChange])], writtenAt: Timestamp
    ) throws -> [RecordField: FieldValue] {
        let since = restoreSince ?? 0
        guard var values = Self.rebase(record.fields, on: pending) else { return held }
        let lost = entity.mutableFields.filter { values[$0] != held[$0] }
        guard !lost.isEmpty else { return values }
        var old: [RecordField: FieldValue] = [:]
        var new: [RecordField: FieldValue] = [:]
        for field in lost {
            values[field] = held[field]
            old[field] = record.version <= since ? record.fields[field] ?? .null : .null
            new[field] = held[field] ?? .null
        }
        try recorder?.record(
            db, entity, id: record.id, .update, old: old, new: new, baseVersion: record.version, resending: true,
            writtenAt: HybridTimestamp(physical: writtenAt, logical: 0))
        return values
    }

    private func setVersion(_ record: ServerRecord) throws {
        try record.entity.setVersion(db, id: record.id, version: record.version)
    }
}
