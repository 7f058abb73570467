import MarginCore
import MarginWire

/// Who last wrote one field of a record: the version, clock and device of that write.
/// Stored as a JSON array `[version, hlc, device]`.
struct FieldMeta: Sendable, Hashable {
    var version: Int64
    var hlc: Int64
    var device: String

    init(version: Int64, hlc: Int64, device: String) {
        self.version = version
        self.hlc = hlc
        self.device = device
    }

    /// Who made this write, as `MergeRules` orders writes.
    var write: MergeRules.Write { MergeRules.Write(hlc: hlc, device: device) }
}

/// A record as a server repository stores it: current fields, per-field write metadata,
/// and the last writer. Tombstones keep their last fields.
struct StoredRecord: Sendable, Hashable {
    var entity: RecordEntity
    var id: String
    var version: Int64
    var deleted: Bool
    var fields: [RecordField: FieldValue]
    var meta: [RecordField: FieldMeta]
    var device: String
    var hlc: Int64
    var updatedAt: Int64
    /// Server time of the delete, for a tombstone: it is purged after the retention window.
    var deletedAt: Int64?

    /// The article an annotation belongs to.
    var articleId: String? { entity == .annotation ? fields[.articleId]?.textValue : nil }

    /// The body hash of an article.
    var contentHash: String? { entity == .article ? fields[.contentHash]?.textValue : nil }

    /// The record as the protocol sends it.
    var wire: ServerRecord {
        ServerRecord(entity: entity, id: id, version: version, deleted: deleted, fields: fields, updatedAt: updatedAt)
    }
}

extension StoredRecord {
    /// The record from its stored columns (`fields` and `meta` as JSON text).
    init(
        entity: String, id: String, version: Int64, deleted: Bool, fields: String, meta: String, device: String,
        hlc: Int64, updatedAt: Int64, deletedAt: Int64?
    ) throws {
        guard let entity = RecordEntity(rawValue: entity) else {
            throw ServerError(.internalError, "a stored record has the unknown kind '\(entity)'")
        }
        var fieldMeta: [RecordField: FieldMeta] = [:]
        for (key, node) in try JSONNode.parse(meta).object().members {
            let entry = try node.array()
            guard entry.count == 3, let key = RecordField(rawValue: key) else {
                throw ServerError(.internalError, "a stored record's metadata is damaged")
            }
            fieldMeta[key] = FieldMeta(version: try entry[0].integer(), hlc: try entry[1].integer(), device: try entry[2].string())
        }
        let values = try JSONNode.parse(fields).fieldValues()
        // Fields without an entry were written by the record's last write (see `metaJSON`).
        for key in values.keys where fieldMeta[key] == nil {
            fieldMeta[key] = FieldMeta(version: version, hlc: hlc, device: device)
        }
        self.init(
            entity: entity, id: id, version: version, deleted: deleted, fields: values, meta: fieldMeta, device: device,
            hlc: hlc, updatedAt: updatedAt, deletedAt: deletedAt)
    }

    /// `fields` as stored: a JSON object with sorted keys.
    var fieldsJSON: String { JSONText.object(fields) }

    /// `meta` as stored: `{"field": [version, hlc, device]}`, leaving out the fields the
    /// record's last write wrote (its `version`, `hlc` and `device`): all of them after a
    /// create, so most records store `{}`.
    var metaJSON: String {
        let lastWrite = FieldMeta(version: version, hlc: hlc, device: device)
        var writer = JSONWriter(capacity: 64)
        writer.raw("{")
        var first = true
        for key in meta.keys.sorted() {
            let entry = meta[key]!
            if entry == lastWrite { continue }
            if !first { writer.comma() }
            first = false
            writer.key(key.rawValue)
            writer.raw("[")
            writer.integer(entry.version)
            writer.comma()
            writer.integer(entry.hlc)
            writer.comma()
            writer.string(entry.device)
            writer.raw("]")
        }
        writer.raw("}")
        return writer.text
    }
}
