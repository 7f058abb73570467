/// The name of a synchronized field, as the change log, the sync protocol and both stores
/// call it. Every module names fields through this enum, never as strings of its own.
public enum RecordField: String, Sendable, Hashable, CaseIterable, Comparable, Codable, CodingKeyRepresentable {
    // Articles.
    case title, published, source, contentHash, captions, url, author, siteName, language
    // Annotations.
    case articleId, start, end, exact, prefix, suffix, note, color, basis
    // Articles and annotations.
    case tags, createdAt
    // Conflict records.
    case recordEntity, recordId, kind, field, value, device, hlc

    /// Fields sort by name, the order they are written in JSON.
    public static func < (lhs: RecordField, rhs: RecordField) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension RecordEntity {
    /// The fields every record of this kind has.
    public var fields: Set<RecordField> { FieldSets.of(self).fields }

    /// Fields a record of this kind may lack (absent means null): those added after records
    /// were first synced, which records made before them do not carry.
    public var optionalFields: Set<RecordField> { FieldSets.of(self).optionalFields }

    /// Every field a record of this kind may have.
    public var allFields: Set<RecordField> { FieldSets.of(self).allFields }

    /// The fields an update may change; the others are fixed when the record is created.
    public var mutableFields: Set<RecordField> { FieldSets.of(self).mutableFields }
}

/// Each kind's fields, built once: they are consulted for every field of every record
/// checked (building them on each call was a sixth of a first sync's time).
private struct FieldSets: Sendable {
    let fields: Set<RecordField>
    let optionalFields: Set<RecordField>
    let allFields: Set<RecordField>
    let mutableFields: Set<RecordField>

    init(fields: Set<RecordField>, optional: Set<RecordField>, mutable: Set<RecordField>) {
        self.fields = fields
        optionalFields = optional
        allFields = fields.union(optional)
        mutableFields = mutable
    }

    static func of(_ entity: RecordEntity) -> FieldSets {
        switch entity {
        case .article: article
        case .annotation: annotation
        case .conflict: conflict
        }
    }

    // An article's text and what comes with it change when it is updated from the web; its
    // address and where it came from do not.
    private static let article = FieldSets(
        fields: [.title, .published, .source, .contentHash, .captions, .tags, .createdAt],
        optional: [.url, .author, .siteName, .language],
        mutable: [.title, .tags, .contentHash, .captions, .published, .author, .siteName, .language])
    private static let annotation = FieldSets(
        fields: [.articleId, .start, .end, .exact, .prefix, .suffix, .note, .tags, .color, .createdAt],
        optional: [.basis],
        mutable: [.note, .tags, .color])
    private static let conflict = FieldSets(
        fields: [.recordEntity, .recordId, .kind, .field, .value, .device, .hlc, .createdAt], optional: [], mutable: [])
}
