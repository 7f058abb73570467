import MarginCore
import MarginWire

/// What a push needs to know of a library, read by a repository before planning: the
/// records the changes name (through aliases), the articles of those annotations, live
/// articles by body hash, live annotations of articles being deleted, stored bodies.
struct PushSnapshot: Sendable {
    var lastSeq: Int64
    var lastAppliedSeq: Int64
    var records: [String: StoredRecord] = [:]
    var aliases: [String: String] = [:]
    var liveArticleByHash: [String: String] = [:]
    var liveAnnotationsByArticle: [String: Set<String>] = [:]
    var storedBodies: Set<String> = []

    /// What to read: every id the changes name, and the articles annotations point to.
    static func requiredIds(_ changes: [WireChange]) -> Set<String> {
        var ids = Set(changes.map(\.id))
        for change in changes where change.entity == .annotation {
            if let articleId = change.fields[.articleId]?.new.textValue { ids.insert(articleId) }
        }
        return ids
    }

    /// The articles of the annotations read that are not read yet.
    var unreadArticleIds: [String] {
        Array(Set(records.values.compactMap(\.articleId)).subtracting(records.keys))
    }

    /// The articles the changes delete (through aliases): their live annotations are read.
    func deletedArticleIds(_ changes: [WireChange]) -> [String] {
        changes.filter { $0.entity == .article && $0.op == .delete }.map { aliases[$0.id] ?? $0.id }
    }

    /// The live articles found by body hash that are not read yet.
    var unreadLiveArticleIds: [String] {
        Array(Set(liveArticleByHash.values).subtracting(records.keys))
    }

    /// The body hashes to find live articles by, once the records are read: those of the
    /// articles the changes create or give a new text, and those of deleted articles read (an edit that would
    /// bring one back goes to a live article with the same body, if there is one).
    func bodyHashes(_ changes: [WireChange]) -> [String] {
        let created = changes.compactMap(\.bodyHash)
        let deleted = records.values.filter(\.deleted).compactMap(\.contentHash)
        return Array(Set(created).union(deleted))
    }
}

/// The writes a push makes and the reply it gets, decided in memory from a snapshot, so
/// that every backend resolves changes with the same code.
struct PushPlan: Sendable {
    var results: [ChangeResult] = []
    /// The final state of every record written.
    var written: [StoredRecord] = []
    var newAliases: [(alias: String, id: String)] = []
    var newBodies: [WireBody] = []
    var lastSeq: Int64
    var lastAppliedSeq: Int64
    var reply: [ServerRecord] = []
    var conflicts = 0
    /// The sequences this push hands out, as one commit of the library's history (`nil`
    /// when it writes nothing).
    var commit: Commit?

    /// The changes applied, merged or turned into conflicts (not retries or rejections).
    var appliedCount: Int {
        results.filter { [.applied, .merged, .conflict].contains($0.outcome) }.count
    }
}

/// Resolves a batch of one device's changes against the current records, field by field,
/// with `MergeRules`: fast-forward when the server still holds the value the change
/// replaced; otherwise tags merge as sets, notes three-way, and other fields go to the
/// later clock (then the larger device id) with the losing value kept as a conflict
/// record. An edit beats a delete; the delete is kept as a conflict record. Changes the
/// rulebook refused (`CheckedPush.refusals`) are answered `rejected`, with the record as
/// the server holds it, and take their sequence number like any other.
struct PushPlanner {
    private let deviceId: String
    private let now: Int64
    private let refusals: [Int64: String]
    private var snapshot: PushSnapshot
    private var lastSeq: Int64
    /// Record ids in first-write order, and the same as a set.
    private var dirty: [String] = []
    private var dirtySet: Set<String> = []
    private var touched: [String] = []
    private var touchedSet: Set<String> = []
    /// Records the reply carries: those whose state the device cannot know from the
    /// result alone (merged, conflicting, retried, and conflict records).
    private var replied: Set<String> = []
    private var touchedByChange: [String] = []
    private var plan: PushPlan

    init(snapshot: PushSnapshot, deviceId: String, now: Int64, refusals: [Int64: String] = [:]) {
        self.snapshot = snapshot
        self.deviceId = deviceId
        self.now = now
        self.refusals = refusals
        lastSeq = snapshot.lastSeq
        plan = PushPlan(lastSeq: snapshot.lastSeq, lastAppliedSeq: snapshot.lastAppliedSeq)
    }

    /// Checks the batch's numbering: increasing, and continuing the device's sequence
    /// without a gap (what was already applied may be sent again). A device resuming after
    /// a restore names the last change the server had (`after`, which must be it): its next
    /// change may then be numbered higher.
    static func checkSequence(_ changes: [WireChange], lastAppliedSeq: Int64, after: Int64? = nil) throws(ServerError) {
        if let after, after != lastAppliedSeq {
            throw ServerError(
                .sequenceGap,
                "the push resumes after change \(after), but the server has applied this device's changes up to \(lastAppliedSeq)")
        }
        var previous: Int64 = 0
        var next: Int64? = after == nil ? lastAppliedSeq + 1 : nil
        for change in changes {
            guard change.seq > previous else {
                throw ServerError(.badRequest, "changes must be in increasing seq order (seq \(change.seq) after \(previous))")
            }
            if change.seq > lastAppliedSeq {
                if let next, change.seq != next {
                    throw ServerError(
                        .sequenceGap,
                        "change seq \(change.seq) leaves a gap: the server has applied this device's changes up to \(lastAppliedSeq)")
                }
                next = change.seq + 1
            }
            previous = change.seq
        }
    }

    /// Resolves `changes` (already validated and sequence-checked) with the bodies sent.
    consuming func plan(_ changes: [WireChange], bodies: [WireBody]) -> PushPlan {
        let sentBodies = Dictionary(bodies.map { ($0.hash, $0) }, uniquingKeysWith: { first, _ in first })
        for change in changes {
            if change.seq <= snapshot.lastAppliedSeq {
                let id = resolve(change.id, change.entity)
                plan.results.append(
                    ChangeResult(
                        seq: change.seq, outcome: .alreadyApplied, version: snapshot.records[id]?.version,
                        canonicalId: id == change.id ? nil : id))
                // The lost reply may have carried the annotation's article too (the change
                // brought it back): the reply carries it again, ahead of the annotation.
                if let articleId = snapshot.records[id]?.articleId, snapshot.records[articleId] != nil {
                    touch(articleId)
                    replied.insert(articleId)
                }
                touch(id)
                replied.insert(id)
                continue
            }
            touchedByChange = []
            let result = refusals[change.seq].map { rejected(change, $0) } ?? apply(change, sentBodies: sentBodies)
            if result.outcome != .applied { replied.formUnion(touchedByChange) }
            plan.results.append(result)
            plan.lastAppliedSeq = change.seq
        }
        plan.lastSeq = lastSeq
        // An alias named twice (its article deleted and its body imported again twice in
        // this batch) is written once, with its last article.
        var aliased = Set<String>()
        plan.newAliases = plan.newAliases.reversed().filter { aliased.insert($0.alias).inserted }.reversed()
        plan.written = dirty.compactMap { snapshot.records[$0] }
        plan.reply = touched.filter(replied.contains).compactMap { snapshot.records[$0]?.wire }
        if lastSeq > snapshot.lastSeq { plan.commit = Commit(after: snapshot.lastSeq, upTo: lastSeq, now: now) }
        return plan
    }

    // MARK: - Changes

    private mutating func apply(_ change: WireChange, sentBodies: [String: WireBody]) -> ChangeResult {
        switch (change.op, change.entity) {
        case (.create, .article): createArticle(change, sentBodies: sentBodies)
        case (.create, .annotation): createAnnotation(change)
        case (.create, .conflict): createConflict(change)
        case (.update, _): update(change, sentBodies: sentBodies)
        case (.delete, _): delete(change)
        }
    }

    private mutating func createArticle(_ change: WireChange, sentBodies: [String: WireBody]) -> ChangeResult {
        let hash = change.fields[.contentHash]!.new.textValue!
        if let existing = snapshot.records[change.id], existing.entity != .article || existing.contentHash != hash {
            return rejected(change, "a record with this id exists")
        }
        // The same body, imported on another device: one article, tags combined. (The
        // device may already have taken the server's id for it when it pulled.)
        let sameBody = snapshot.records[change.id].map { _ in change.id } ?? snapshot.liveArticleByHash[hash]
        if let existingId = sameBody, var existing = snapshot.records[existingId], !existing.deleted {
            if existingId != change.id {
                snapshot.aliases[change.id] = existingId
                plan.newAliases.append((change.id, existingId))
            }
            let old = existing.fields[.tags]?.listValue ?? []
            let tags = MergeRules.tags(old, old: [], new: change.fields[.tags]!.new.listValue!)
            if tags != old {
                existing.fields[.tags] = .list(tags)
                write(&existing, changed: [.tags], hlc: change.hlc)
            }
            // Another title (given here before the article was synced, or sent again after
            // it was purged) is kept as a conflict record, not dropped.
            var outcome = ChangeResult.Outcome.merged
            if let title = change.fields[.title]?.new, title != existing.fields[.title] {
                addConflict(for: existing, kind: .value, field: .title, value: title, device: deviceId, hlc: change.hlc)
                replied.insert(existingId)
                outcome = .conflict
            }
            touch(existingId)
            return ChangeResult(
                seq: change.seq, outcome: outcome, version: existing.version,
                canonicalId: existingId == change.id ? nil : existingId)
        }
        if !snapshot.storedBodies.contains(hash) {
            guard let body = sentBodies[hash], ContentHash.of(body.text) == hash else {
                return rejected(change, "the article's body is missing or does not match its contentHash; send it in bodies")
            }
            plan.newBodies.append(body)
            snapshot.storedBodies.insert(hash)
        }
        let tombstone = snapshot.records[change.id]
        var record = newRecord(change)
        write(&record, changed: Set(record.fields.keys), hlc: change.hlc)
        snapshot.liveArticleByHash[hash] = change.id
        return ChangeResult(seq: change.seq, outcome: keepDelete(change, record, over: tombstone), version: record.version)
    }

    private mutating func createAnnotation(_ change: WireChange) -> ChangeResult {
        let tombstone = snapshot.records[change.id]
        guard tombstone.map({ $0.deleted && $0.entity == .annotation }) ?? true else {
            return rejected(change, "a record with this id exists")
        }
        let sentArticleId = change.fields[.articleId]!.new.textValue!
        let articleId = resolve(sentArticleId, .article)
        guard let article = snapshot.records[articleId] else { return missing(change) }
        guard article.entity == .article else { return rejected(change, "its article \(articleId) is not an article") }
        var outcome = ChangeResult.Outcome.applied
        if articleId != sentArticleId {
            // Its article goes by another article's id now (the same text, imported on another
            // device): the reply carries that article, which the device's copy is renamed to,
            // ahead of the annotation.
            touch(articleId)
            outcome = .merged
        }
        var liveArticleId = articleId
        if article.deleted {
            liveArticleId = bringBack(articleId, hlc: change.hlc)
            outcome = liveArticleId == articleId ? .conflict : .merged
        }
        var record = newRecord(change)
        record.fields[.articleId] = .text(liveArticleId)
        write(&record, changed: Set(record.fields.keys), hlc: change.hlc)
        snapshot.liveAnnotationsByArticle[liveArticleId, default: []].insert(change.id)
        if keepDelete(change, record, over: tombstone) == .conflict { outcome = .conflict }
        return ChangeResult(seq: change.seq, outcome: outcome, version: record.version)
    }

    /// A conflict record a device sends again (the server, restored from a backup, lost
    /// it). One the library has, or has dismissed since, stays as it is; the reply carries it.
    private mutating func createConflict(_ change: WireChange) -> ChangeResult {
        if let existing = snapshot.records[change.id] {
            guard existing.entity == .conflict else { return rejected(change, "a record with this id exists") }
            touch(existing.id)
            replied.insert(existing.id)
            return ChangeResult(seq: change.seq, outcome: .merged, version: existing.version)
        }
        var record = newRecord(change)
        write(&record, changed: Set(record.fields.keys), hlc: change.hlc)
        return ChangeResult(seq: change.seq, outcome: .applied, version: record.version)
    }

    /// A create that found the record deleted: sent again whole, after a `missing` answer
    /// (a base version, the tombstone purged since) or after a restore (the tombstone
    /// still there). The edits that brought it back win; the delete is kept as a conflict
    /// record.
    private mutating func keepDelete(_ change: WireChange, _ record: StoredRecord, over tombstone: StoredRecord?) -> ChangeResult.Outcome {
        guard change.baseVersion > 0 || tombstone?.deleted == true else { return .applied }
        addConflict(for: record, kind: .delete, field: nil, value: .null, device: tombstone?.device, hlc: tombstone?.hlc ?? 0)
        replied.insert(record.id)
        return .conflict
    }

    private mutating func update(_ change: WireChange, sentBodies: [String: WireBody]) -> ChangeResult {
        var id = resolve(change.id, change.entity)
        guard var record = snapshot.records[id] else { return missing(change) }
        guard record.entity == change.entity else { return rejected(change, "the record is not a \(change.entity.rawValue)") }
        if let hash = change.bodyHash, hash != record.contentHash {
            // A new text: the library holds one live article per text, and keeps every
            // text an annotation may have been made on.
            if let other = snapshot.liveArticleByHash[hash], other != id, snapshot.records[other]?.deleted == false {
                return rejected(change, "the library already holds this text as article \(other)")
            }
            if !snapshot.storedBodies.contains(hash) {
                guard let body = sentBodies[hash], ContentHash.of(body.text) == hash else {
                    return rejected(change, "the article's new body is missing or does not match its contentHash; send it in bodies")
                }
                plan.newBodies.append(body)
                snapshot.storedBodies.insert(hash)
            }
        }
        let previousHash = record.contentHash
        var outcome = ChangeResult.Outcome.applied
        var changed = Set<RecordField>()
        var resurrected = false
        if record.deleted, let sameBody = aliasToSameBody(record) {
            // The deleted article's body was imported again since: the edit goes to that
            // article, which the device's copy is renamed to.
            id = sameBody.id
            record = sameBody
            outcome = .merged
        } else if record.deleted {
            // Edit beats delete: the record comes back and the delete is kept.
            addConflict(for: record, kind: .delete, field: nil, value: .null, device: record.device, hlc: record.hlc)
            record.deleted = false
            record.deletedAt = nil
            resurrected = true
            outcome = .conflict
            if let articleId = record.articleId {
                let liveArticleId = snapshot.records[articleId]?.deleted == true ? bringBack(articleId, hlc: change.hlc) : articleId
                if liveArticleId != articleId {
                    record.fields[.articleId] = .text(liveArticleId)
                    changed.insert(.articleId)
                }
                snapshot.liveAnnotationsByArticle[liveArticleId, default: []].insert(id)
            }
            if let hash = record.contentHash { snapshot.liveArticleByHash[hash] = id }
        }
        let write = MergeRules.Write(hlc: change.hlc, device: deviceId)
        for field in change.fields.keys.sorted() {
            let fieldChange = change.fields[field]!
            let current = record.fields[field] ?? .null
            let meta = record.meta[field] ?? FieldMeta(version: 0, hlc: 0, device: "")
            switch MergeRules.resolve(field, current: current, currentWrite: meta.write, change: fieldChange, write: write) {
            case .unchanged:
                continue
            case .fastForward:
                record.fields[field] = fieldChange.new
                changed.insert(field)
            case .merged(let value):
                // Another device changed this field since this device read it.
                if outcome == .applied { outcome = .merged }
                record.fields[field] = value
                changed.insert(field)
            case .conflict(let changeWins):
                outcome = .conflict
                if changeWins {
                    addConflict(for: record, kind: .value, field: field, value: current, device: meta.device, hlc: meta.hlc)
                    record.fields[field] = fieldChange.new
                    changed.insert(field)
                } else {
                    addConflict(for: record, kind: .value, field: field, value: fieldChange.new, device: deviceId, hlc: change.hlc)
                }
            }
        }
        // Written by others since the device read it: even when every field of the change
        // fast-forwards, the device lacks their writes to other fields, and a pull leaves
        // out records whose last writer is the device itself; the reply carries it.
        if record.version != change.baseVersion { replied.insert(id) }
        if !changed.isEmpty || resurrected { self.write(&record, changed: changed, hlc: change.hlc) }
        if let hash = record.contentHash, hash != previousHash, !record.deleted {
            if let previousHash, snapshot.liveArticleByHash[previousHash] == id { snapshot.liveArticleByHash[previousHash] = nil }
            snapshot.liveArticleByHash[hash] = id
        }
        touch(id)
        return ChangeResult(
            seq: change.seq, outcome: outcome, version: record.version, canonicalId: id == change.id ? nil : id)
    }

    private mutating func delete(_ change: WireChange) -> ChangeResult {
        let id = resolve(change.id, change.entity)
        // Nothing to delete: never pushed (its create was refused), or purged since.
        guard var record = snapshot.records[id] else { return ChangeResult(seq: change.seq, outcome: .applied, version: nil) }
        guard record.entity == change.entity else { return rejected(change, "the record is not a \(change.entity.rawValue)") }
        touch(id)
        if record.deleted { return ChangeResult(seq: change.seq, outcome: .applied, version: record.version) }
        let editedSince = change.entity != .conflict && MergeRules.deleteIsStale(current: record.fields, old: change.fields)
        let hasOtherAnnotations = !(snapshot.liveAnnotationsByArticle[id] ?? []).isEmpty
        if editedSince || (change.entity == .article && hasOtherAnnotations) {
            // Edit beats delete: the record stays, and the delete is kept to re-apply.
            addConflict(for: record, kind: .delete, field: nil, value: .null, device: deviceId, hlc: change.hlc)
            return ChangeResult(seq: change.seq, outcome: .conflict, version: record.version)
        }
        record.deleted = true
        record.deletedAt = now
        write(&record, changed: [], hlc: change.hlc)
        if let articleId = record.articleId { snapshot.liveAnnotationsByArticle[articleId]?.remove(id) }
        if let hash = record.contentHash, snapshot.liveArticleByHash[hash] == id {
            snapshot.liveArticleByHash[hash] = nil
        }
        return ChangeResult(seq: change.seq, outcome: .applied, version: record.version)
    }

    // MARK: - Records

    /// The id an article goes by (another device's, for the same body). An alias of an
    /// article since purged no longer applies: the id may be created again.
    private func resolve(_ id: String, _ entity: RecordEntity) -> String {
        guard entity == .article, let canonical = snapshot.aliases[id], snapshot.records[canonical] != nil else { return id }
        return canonical
    }

    private func newRecord(_ change: WireChange) -> StoredRecord {
        StoredRecord(
            entity: change.entity, id: change.id, version: 0, deleted: false, fields: change.fields.mapValues(\.new),
            meta: [:], device: deviceId, hlc: change.hlc, updatedAt: change.hlc >> 16, deletedAt: nil)
    }

    /// The live article for an annotation of the deleted article `id` that was edited or
    /// created: another live article with the same body, imported again since the delete
    /// (the library never holds two live articles with one body, as no device can), or
    /// else `id` brought back, with the delete kept as a conflict record.
    private mutating func bringBack(_ id: String, hlc: Int64) -> String {
        guard var article = snapshot.records[id], article.deleted else { return id }
        if let sameBody = aliasToSameBody(article) { return sameBody.id }
        addConflict(for: article, kind: .delete, field: nil, value: .null, device: article.device, hlc: article.hlc)
        article.deleted = false
        article.deletedAt = nil
        write(&article, changed: [], hlc: hlc)
        if let hash = article.contentHash { snapshot.liveArticleByHash[hash] = id }
        return id
    }

    /// Another live article with the body of the deleted article `article`, if there is
    /// one, which `article` then becomes an alias of: later changes to it go there, and
    /// the reply carries the live one, so that the device's copy of `article` takes its
    /// id (ahead of any annotation in the reply).
    private mutating func aliasToSameBody(_ article: StoredRecord) -> StoredRecord? {
        guard let hash = article.contentHash, let id = snapshot.liveArticleByHash[hash], id != article.id,
              let live = snapshot.records[id], !live.deleted
        else { return nil }
        if snapshot.aliases[article.id] != id {
            snapshot.aliases[article.id] = id
            plan.newAliases.append((article.id, id))
        }
        touch(id)
        replied.insert(id)
        return live
    }

    private mutating func addConflict(
        for record: StoredRecord, kind: ConflictRecord.Kind, field: RecordField?, value: FieldValue, device: String?, hlc: Int64
    ) {
        let lost = ConflictRecord(
            id: Identifier.make(at: Timestamp(milliseconds: now)), recordEntity: record.entity, recordId: record.id, kind: kind,
            field: field, value: value, device: device, hlc: hlc, createdAt: Timestamp(milliseconds: now))
        var conflict = StoredRecord(
            entity: .conflict, id: lost.id, version: 0, deleted: false, fields: lost.fieldValues, meta: [:],
            device: deviceId, hlc: hlc, updatedAt: now, deletedAt: nil)
        write(&conflict, changed: Set(conflict.fields.keys), hlc: hlc)
        plan.conflicts += 1
    }

    /// Gives the record the next version, stamps the changed fields, and keeps it.
    private mutating func write(_ record: inout StoredRecord, changed: Set<RecordField>, hlc: Int64) {
        lastSeq += 1
        record.version = lastSeq
        for field in changed { record.meta[field] = FieldMeta(version: lastSeq, hlc: hlc, device: deviceId) }
        record.device = deviceId
        record.hlc = hlc
        record.updatedAt = max(record.updatedAt, hlc >> 16)
        if dirtySet.insert(record.id).inserted { dirty.append(record.id) }
        snapshot.records[record.id] = record
        touch(record.id)
    }

    private mutating func touch(_ id: String) {
        if touchedSet.insert(id).inserted { touched.append(id) }
        touchedByChange.append(id)
    }

    /// The record (or the annotation's article) is not in the library: never pushed, or
    /// purged after a delete while the device was away. The device sends it whole again.
    private func missing(_ change: WireChange) -> ChangeResult {
        ChangeResult(seq: change.seq, outcome: .missing, version: nil, reason: "the record is not in the library; send it whole")
    }

    /// Refuses the change; the reply carries the record as the library holds it, so that
    /// the device shows it so.
    private mutating func rejected(_ change: WireChange, _ reason: String) -> ChangeResult {
        let id = resolve(change.id, change.entity)
        if snapshot.records[id] != nil {
            touch(id)
            replied.insert(id)
        }
        return ChangeResult(seq: change.seq, outcome: .rejected, version: nil, reason: reason)
    }
}
