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
    public var fields: Set<RecordField> {
        switch self {
        case .article: [.title, .published, .source, .contentHash, .captions, .tags, .createdAt]
        case .annotation: [.articleId, .start, .end, .exact, .prefix, .suffix, .note, .tags, .color, .createdAt]
        case .conflict: [.recordEntity, .recordId, .kind, .field, .value, .device, .hlc, .createdAt]
        }
    }

    /// Fields a record of this kind may lack (absent means null): those added after records
    /// were first synced, which records made before them do not carry.
    public var optionalFields: Set<RecordField> {
        switch self {
        case .article: [.url, .author, .siteName, .language]
        case .annotation: [.basis]
        case .conflict: []
        }
    }

    /// Every field a record of this kind may have.
    public var allFields: Set<RecordField> { fields.union(optionalFields) }

    /// The fields an update may change; the others are fixed when the record is created.
    public var mutableFields: Set<RecordField> {
        switch self {
        // An article's text and what comes with it change when it is updated from the web;
        // its address and where it came from do not.
        case .article: [.title, .tags, .contentHash, .captions, .published, .author, .siteName, .language]
        case .annotation: [.note, .tags, .color]
        case .conflict: []
        }
    }
}
