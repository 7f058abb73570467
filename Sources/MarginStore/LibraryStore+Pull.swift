import GRDB
import MarginCore
import MarginWire

/// A pulled page whose records passed `LibraryStore.check(_:)`.
public struct CheckedPullPage: Sendable {
    public let page: PullResponse

    fileprivate init(page: PullResponse) {
        self.page = page
    }
}

/// Where the next pull starts, and what it tells the server about this device.
public struct PullState: Sendable, Hashable {
    /// The server commit sequence pulled up to.
    public var cursor: Int64
    /// The history the cursor belongs to, as the server named it.
    public var history: String?
    /// Whether a pull from nothing (a reset) is under way.
    public var resetting: Bool
    /// Whether the next pass pulls a snapshot of what is live (`PullRequest.snapshot`): a
    /// reset, or a store that holds nothing the server acknowledged.
    public var snapshot: Bool
    /// The last of this device's changes it believes the server applied.
    public var pushedSeq: Int64
}

extension LibraryStore {
    /// Where the next pull starts. A store that pulled nothing yet but holds records the
    /// server acknowledged (its first sync pushed them) pulls every change from cursor 0,
    /// deletes included, without its own records (it has them); a snapshot of what is live
    /// would bring them all back and could not tell what others deleted. A reset
    /// interrupted after some pages starts over: its pass would go on as an ordinary pull,
    /// which leaves out this device's own records (they are not in `reset_seen`, and
    /// `finishReset()` would drop them) and cannot tell what was deleted since its pages.
    public func pullState() throws(MarginError) -> PullState {
        let state = try read { db in
            let state = try SyncState.current(db)
            let holdsAcknowledged = try state.cursor == 0 && !state.resetting && Bool.fetchOne(
                db,
                sql: """
                    SELECT EXISTS (SELECT 1 FROM articles WHERE version > 0) OR EXISTS (SELECT 1 FROM annotations WHERE version > 0) \
                    OR EXISTS (SELECT 1 FROM conflicts)
                    """) == true
            return PullState(
                cursor: state.cursor, history: state.history, resetting: state.resetting,
                snapshot: state.resetting || (state.cursor == 0 && !holdsAcknowledged),
                pushedSeq: state.resumeAfter ?? state.pushedSeq)
        }
        guard state.resetting, state.cursor > 0 else { return state }
        try write { db in
            try db.execute(sql: "UPDATE sync_state SET cursor = 0, history = NULL WHERE id = 1")
            try db.execute(sql: "DELETE FROM reset_seen")
        }
        return try pullState()
    }

    /// The bodies `records` (pulled or replied) need that this store does not hold: the
    /// texts of live articles, those live annotations were made on, and texts that lost a
    /// conflict (so that they can be restored).
    public func missingBodies(of records: [ServerRecord]) throws(MarginError) -> [String] {
        let hashes = Set(records.filter { !$0.deleted }.compactMap { record in
            switch record.entity {
            case .article: record.fields[.contentHash]?.textValue
            case .annotation: record.fields[.basis]?.textValue
            case .conflict: record.fields[.field]?.textValue == RecordField.contentHash.rawValue ? record.fields[.value]?.textValue : nil
            }
        })
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
    /// lost to a power cut is lost with its cursor (and with what it logged to send again
    /// after a restore), and pulled again. A page of a pass from nothing (`snapshot`) brings
    /// a whole library: only what it changes in records this store held goes in their history.
    public func applyPullPage(_ checked: CheckedPullPage, bodies: [WireBody], snapshot: Bool) throws(MarginError) {
        let page = checked.page
        try Self.check(bodies)
        let time = now()
        try write(durable: false) { db in
            var applier = try RecordApplier(db, now: time, snapshot: snapshot)
            for body in bodies { applier.bodies[body.hash] = body.text }
            try applier.prefetchVersions(of: page.records)
            for record in page.records { try applier.apply(record) }
            try applier.recorder?.save(db)
            try db.execute(
                sql: "UPDATE sync_state SET cursor = ?, history = ? WHERE id = 1", arguments: [page.cursor, page.history])
        }
    }

    /// Starts a pull from nothing after the server answered "reset": this store's cursor is
    /// older than the server's compacted history, or (`restore`) from history the server
    /// lost when it was restored from a backup. Pending changes are kept. After a restore,
    /// what this store holds from the lost history is sent again (`finishReset()`), and
    /// pushes continue from the last change of this device the server still has.
    public func beginReset(restore: RestorePoint? = nil) throws(MarginError) {
        try write { db in
            try db.execute(
                sql: """
                    UPDATE sync_state SET cursor = 0, history = NULL, resetting = 1, restore_since = ?, \
                    resume_after = CASE WHEN ? < pushed_seq THEN ? ELSE resume_after END WHERE id = 1
                    """,
                arguments: [restore?.since, restore?.lastApplied, restore?.lastApplied])
            try db.execute(sql: "DELETE FROM reset_seen")
        }
    }

    /// Ends a reset pull. Records the server no longer has, and that have no pending
    /// local change, were deleted there and are removed here — except after a restore,
    /// when those held from history the server lost (above the restore point) are sent
    /// again whole.
    public func finishReset() throws(MarginError) {
        let time = now()
        try mutate { db, recorder in
            let state = try SyncState.current(db)
            let pushedSeq = state.pushedSeq
            let since = state.restoreSince
            let unseen = "NOT IN (SELECT id FROM reset_seen) AND id NOT IN (SELECT entity_id FROM changes WHERE seq > \(pushedSeq))"
            if let since {
                // Articles first: their annotations need them on the server.
                for id in try String.fetchAll(db, sql: "SELECT id FROM articles WHERE id \(unseen) AND version > ?", arguments: [since]) {
                    if let article = try Article.fetchOne(db, id: id) {
                        try recorder.record(
                            db, .article, id: id, .create, old: nil, new: article.fieldValues, baseVersion: 0, resending: true,
                            writtenAt: HybridTimestamp(physical: article.updatedAt, logical: 0))
                    }
                }
                for id in try String.fetchAll(db, sql: "SELECT id FROM annotations WHERE id \(unseen) AND version > ?", arguments: [since]) {
                    if let annotation = try Annotation.fetchOne(db, id: id) {
                        try recorder.record(
                            db, .annotation, id: id, .create, old: nil, new: annotation.fieldValues, baseVersion: 0, resending: true,
                            writtenAt: HybridTimestamp(physical: annotation.updatedAt, logical: 0))
                    }
                }
                for conflict in try Self.fetchConflicts(
                    db, where: "WHERE id NOT IN (SELECT id FROM reset_seen) AND version > ?", arguments: [since]) {
                    try recorder.record(
                        db, .conflict, id: conflict.id, .create, old: nil, new: conflict.fieldValues, baseVersion: 0, resending: true,
                        writtenAt: HybridTimestamp(physical: conflict.createdAt, logical: 0))
                }
            }
            let kept = since.map { "AND version <= \($0)" } ?? ""
            // Deleted on the server by a device unknown here, at a time unknown: noted as now.
            let history = PulledHistory(origin: .pulled, receivedAt: time, recordsCreates: false)
            for id in try String.fetchAll(db, sql: "SELECT id FROM annotations WHERE id \(unseen) \(kept)") {
                guard let annotation = try Annotation.fetchOne(db, id: id) else { continue }
                try annotation.delete(db)
                try history.record(
                    db, .annotation, id: id, .delete, old: annotation.fieldValues, new: nil, device: nil, version: 0, writtenAt: time)
            }
            // An article that waited for one of these to give up its text takes it below: the
            // texts stay at hand though their articles go (a body goes with its last article).
            var texts: [String: String] = [:]
            for id in try String.fetchAll(
                db, sql: "SELECT id FROM articles WHERE id \(unseen) \(kept) AND id NOT IN (SELECT article_id FROM annotations)") {
                guard let article = try Article.fetchOne(db, id: id) else { continue }
                texts[article.contentHash] = try Article.body(db, hash: article.contentHash)
                try article.delete(db)
                try history.record(db, .article, id: id, .delete, old: article.fieldValues, new: nil, device: nil, version: 0, writtenAt: time)
            }
            try db.execute(sql: "DELETE FROM conflicts WHERE id NOT IN (SELECT id FROM reset_seen) \(kept)")
            try db.execute(sql: "DELETE FROM reset_seen")
            // Articles that waited for one of those to give up their text, with the texts.
            var applier = try RecordApplier(replying: db, now: time, origin: .pulled)
            applier.bodies = texts
            try applier.applyParked()
            try db.execute(sql: "UPDATE sync_state SET resetting = 0, restore_since = NULL WHERE id = 1")
        }
    }

    /// Whether pulled annotations are waiting for their article.
    public func hasParkedRecords() throws(MarginError) -> Bool {
        try read { db in try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM parked_records)") ?? false }
    }
}
