import MarginCore
import MarginStore

/// What one device shows: its library and its conflict records.
struct LibraryState: Equatable {
    var articles: [String: LibraryExport.ExportedArticle]
    var annotations: [String: Annotation]
    /// Where each annotation stands in its article's current text.
    var anchors: [String: Anchor]
    var conflicts: [ConflictRecord]

    init(_ store: LibraryStore) throws {
        let export = try store.exportLibrary()
        articles = Dictionary(uniqueKeysWithValues: export.articles.map { ($0.article.id, $0) })
        annotations = Dictionary(uniqueKeysWithValues: export.annotations.map { ($0.id, $0) })
        anchors = Dictionary(uniqueKeysWithValues: try store.annotations().map { ($0.annotation.id, $0.anchor) })
        conflicts = try store.conflicts().sorted { $0.id < $1.id }
    }

    /// Live articles by the text they were imported with (`importedText`), the one with the
    /// smallest id when several share it (an article updated away from a text that was
    /// imported again).
    var articlesByBody: [String: Article] {
        Dictionary(
            articles.values.map { (Self.importedText($0.body), $0.article) }, uniquingKeysWith: { $0.id < $1.id ? $0 : $1 })
    }

    /// The hash of the text an article was imported with: its body without the paragraphs
    /// randomized runs add when they update it (`ArticlePool.update`).
    static func importedText(_ body: String) -> String {
        guard let start = body.range(of: ArticlePool.updateMark) else { return ContentHash.of(body) }
        return ContentHash.of(String(body[..<start.lowerBound]))
    }

    /// How `EditLedger` names the article imported with the text whose hash is `hash`.
    static func articleKey(_ hash: String) -> String {
        "article with body \(hash.prefix(12))"
    }

    /// The records of this state and `other` that differ, by id, for a failure message.
    func differences(from other: LibraryState) -> [String] {
        var lines: [String] = []
        for id in Set(articles.keys).union(other.articles.keys).sorted() where articles[id] != other.articles[id] {
            lines.append("article \(id): \(articles[id].map { "\($0.article)" } ?? "missing") vs \(other.articles[id].map { "\($0.article)" } ?? "missing")")
        }
        for id in Set(annotations.keys).union(other.annotations.keys).sorted() where annotations[id] != other.annotations[id] {
            lines.append("annotation \(id): \(annotations[id].map { "\($0)" } ?? "missing") vs \(other.annotations[id].map { "\($0)" } ?? "missing")")
        }
        for id in Set(anchors.keys).union(other.anchors.keys).sorted() where anchors[id] != other.anchors[id] {
            lines.append("anchor of \(id): \(anchors[id].map { "\($0)" } ?? "missing") vs \(other.anchors[id].map { "\($0)" } ?? "missing")")
        }
        if conflicts != other.conflicts {
            lines.append("conflicts: \(conflicts.map(\.id)) vs \(other.conflicts.map(\.id))")
        }
        return lines
    }
}

/// Everything the users of a randomized run typed, learnt by comparing a device's library
/// before and after each of its local edits, and the check that a final library lost none
/// of it (nothing a user typed is ever silently lost).
///
/// Notes are made of unique words ("markers") and tags are unique, so each can be traced:
/// a marker or tag someone added must be in the final record, in a conflict record, or
/// have been removed by someone who saw it. A title or color someone set must be the final
/// value, a conflict's value, or have been replaced by someone who saw it. A delete must
/// have happened or be kept as a conflict record. Articles are traced by body (a sync may
/// give an article the id another device gave the same body), their deletes by id.
struct EditLedger {
    private struct Tagged: Hashable {
        var recordId: String
        var tag: String
    }

    private struct ScalarWrite {
        var recordId: String
        var field: String
        var before: String?
        var after: String
        var device: String
    }

    private var markers: [String: String] = [:]
    private var removedMarkers: Set<String> = []
    private var addedTags: Set<Tagged> = []
    /// Tags taken off a record by someone who saw them (removed, or the record deleted).
    private var removedTags: Set<Tagged> = []
    /// Tags removed by an edit (not by a delete): they must be gone.
    private var editedAwayTags: Set<Tagged> = []
    private var writes: [ScalarWrite] = []
    /// Titles and colors a device saw on a record it deleted: removed knowingly (a record
    /// that comes back after its tombstone was purged has only the fields the editing
    /// device knew).
    private var deletedValues: Set<[String]> = []
    /// Records some device deleted, named as their tags are (annotations by id, articles by
    /// body): one may come back whole as another device knew it.
    private var deletedRecords: Set<String> = []
    private var deletes: [String: String] = [:]
    private var createdAnnotations: Set<String> = []
    private var importedHashes: Set<String> = []
    private var deletedHashes: Set<String> = []
    /// Conflicts a device restored (and so dismissed): still evidence of what they held.
    private var restored: [ConflictRecord] = []
    /// How many edits were recorded.
    private(set) var edits = 0

    /// The words of a note (every word a run writes is a unique marker).
    static func markers(_ note: String) -> Set<String> {
        Set(note.split(whereSeparator: { $0.isWhitespace }).map(String.init))
    }

    /// Records what `device` did in one local edit that turned `before` into `after`.
    mutating func record(_ device: String, before: LibraryState, after: LibraryState) {
        edits += 1
        for id in Set(before.annotations.keys).union(after.annotations.keys) {
            let old = before.annotations[id]
            let new = after.annotations[id]
            if old == new { continue }
            let oldMarkers = old.map { Self.markers($0.note) } ?? []
            let newMarkers = new.map { Self.markers($0.note) } ?? []
            for marker in newMarkers.subtracting(oldMarkers) { markers[marker] = id }
            removedMarkers.formUnion(oldMarkers.subtracting(newMarkers))
            recordTags(id, old: old?.tags, new: new?.tags)
            if old == nil { createdAnnotations.insert(id) }
            if let new, new.color != old?.color {
                writes.append(ScalarWrite(recordId: id, field: "color", before: old?.color.rawValue, after: new.color.rawValue, device: device))
            }
            if let old, new == nil {
                deletes[id] = device
                deletedRecords.insert(id)
                deletedValues.insert([id, "color", old.color.rawValue])
            }
        }
        // Articles are traced by body: a sync may rename one to the id another device gave
        // the same body.
        let oldArticles = before.articlesByBody
        let newArticles = after.articlesByBody
        for hash in Set(oldArticles.keys).union(newArticles.keys) {
            let old = oldArticles[hash]
            let new = newArticles[hash]
            if old == new { continue }
            let key = LibraryState.articleKey(hash)
            recordTags(key, old: old?.tags, new: new?.tags)
            if let new, new.title != old?.title {
                writes.append(ScalarWrite(recordId: key, field: "title", before: old?.title, after: new.title, device: device))
            }
            if old == nil { importedHashes.insert(hash) }
            if let old, new == nil {
                // A delete is of that article: the same text imported again is another.
                deletes[old.id] = device
                deletedRecords.insert(key)
                deletedValues.insert([key, "title", old.title])
                deletedHashes.insert(hash)
            }
        }
        let remaining = Set(after.conflicts.map(\.id))
        restored += before.conflicts.filter { !remaining.contains($0.id) }
    }

    private mutating func recordTags(_ id: String, old: [String]?, new: [String]?) {
        let oldTags = Set(old ?? [])
        let newTags = Set(new ?? [])
        for tag in newTags.subtracting(oldTags) { addedTags.insert(Tagged(recordId: id, tag: tag)) }
        for tag in oldTags.subtracting(newTags) {
            removedTags.insert(Tagged(recordId: id, tag: tag))
            if new != nil { editedAwayTags.insert(Tagged(recordId: id, tag: tag)) }
        }
    }

    /// What `final` (the server's library, as a new device pulls it) lost or got wrong.
    func check(_ final: LibraryState) -> [String] {
        var failures: [String] = []
        let articles = final.articlesByBody
        // Conflicts name articles by id; the ledger by body.
        let conflicts = final.conflicts + restored
        let evidence = conflicts.map { conflict in
            var conflict = conflict
            if conflict.recordEntity == .article, let article = final.articles[conflict.recordId] {
                conflict.recordId = LibraryState.articleKey(LibraryState.importedText(article.body))
            }
            return conflict
        }
        func article(_ key: String) -> Article? {
            guard key.hasPrefix("article") else { return nil }
            return articles.first { LibraryState.articleKey($0.key) == key }?.value
        }
        func conflictHolds(_ recordId: String, _ field: String, _ test: (FieldValue) -> Bool) -> Bool {
            evidence.contains { $0.recordId == recordId && $0.kind == .value && $0.field?.rawValue == field && test($0.value) }
        }
        func tags(_ recordId: String) -> Set<String>? {
            (final.annotations[recordId]?.tags ?? article(recordId)?.tags).map(Set.init)
        }
        func value(_ recordId: String, _ field: String) -> String? {
            field == "color" ? final.annotations[recordId]?.color.rawValue : article(recordId)?.title
        }

        for (marker, id) in markers.sorted(by: { $0.key < $1.key }) where !removedMarkers.contains(marker) {
            if let note = final.annotations[id]?.note, Self.markers(note).contains(marker) { continue }
            if conflictHolds(id, "note", { Self.markers($0.textValue ?? "").contains(marker) }) { continue }
            failures.append("note word '\(marker)' of annotation \(id) is lost")
        }
        for (id, annotation) in final.annotations.sorted(by: { $0.key < $1.key }) {
            let words = annotation.note.split(whereSeparator: { $0.isWhitespace })
            if Set(words).count != words.count {
                failures.append("the note of annotation \(id) has a word twice (a change applied twice?): \(annotation.note.debugDescription)")
            }
        }
        for added in addedTags where !removedTags.contains(added) && tags(added.recordId)?.contains(added.tag) != true {
            failures.append("tag '\(added.tag)' of \(added.recordId) is lost")
        }
        // A record deleted since may come back whole as another device knew it (its edit
        // beat a delete whose tombstone was purged): tags taken off before that delete may
        // come back with it, as titles and colors do (`deletedValues`).
        for removed in editedAwayTags where !deletedRecords.contains(removed.recordId) && tags(removed.recordId)?.contains(removed.tag) == true {
            failures.append("tag '\(removed.tag)' removed from \(removed.recordId) is back")
        }
        for write in writes where value(write.recordId, write.field) != nil {
            if value(write.recordId, write.field) == write.after { continue }
            if conflictHolds(write.recordId, write.field, { $0.textValue == write.after }) { continue }
            if writes.contains(where: { $0.recordId == write.recordId && $0.field == write.field && $0.before == write.after }) { continue }
            if deletedValues.contains([write.recordId, write.field, write.after]) { continue }
            failures.append("\(write.field) '\(write.after)' set by \(write.device) on \(write.recordId) is lost")
        }
        for (id, device) in deletes.sorted(by: { $0.key < $1.key })
        where final.annotations[id] != nil || final.articles[id] != nil {
            if conflicts.contains(where: { $0.recordId == id && $0.kind == .delete }) { continue }
            failures.append("the delete of \(id) by \(device) is lost: the record is there and no conflict keeps the delete")
        }
        for id in createdAnnotations.sorted() where final.annotations[id] == nil && deletes[id] == nil {
            failures.append("annotation \(id) was never deleted but is gone")
        }
        for hash in importedHashes.subtracting(deletedHashes).subtracting(articles.keys).sorted() {
            failures.append("the article with body \(hash.prefix(12)) was never deleted but is gone")
        }
        return failures
    }
}
