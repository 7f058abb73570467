/// The fields of each kind of synchronized record, and what values they accept. The
/// server checks every pushed change against it and the client every pulled record, so
/// neither stores what the other could not read.
public enum RecordSchema {
    /// The longest title, source or caption accepted, in characters.
    public static let maximumLineLength = 4_096

    /// Field names of a record kind.
    public static func fields(of entity: RecordEntity) -> Set<String> {
        switch entity {
        case .article: ["title", "published", "source", "contentHash", "captions", "tags", "createdAt"]
        case .annotation:
            ["articleId", "start", "end", "exact", "prefix", "suffix", "note", "tags", "color", "createdAt"]
        case .conflict: ["recordEntity", "recordId", "kind", "field", "value", "device", "hlc", "createdAt"]
        }
    }

    /// The fields an update may change; the others are fixed when the record is created.
    public static func mutableFields(of entity: RecordEntity) -> Set<String> {
        switch entity {
        case .article: ["title", "tags"]
        case .annotation: ["note", "tags", "color"]
        case .conflict: []
        }
    }

    /// Checks that `value` is valid for `field` of `entity`; the message names the
    /// field and what it must be.
    public static func validate(_ value: FieldValue, field: String, of entity: RecordEntity) throws(MarginError) {
        func fail(_ expectation: String) -> MarginError {
            MarginError(.invalidInput, "field '\(field)' must be \(expectation)")
        }
        // No store keeps U+0000 in text the same way (PostgreSQL refuses it), so no record may hold one.
        if (value.textValue.map { [$0] } ?? value.listValue ?? []).contains(where: Self.containsNUL) {
            throw fail("free of NUL (U+0000) characters")
        }
        switch (entity, field) {
        case (.article, "title"):
            guard let text = value.textValue, !text.isEmpty, text.count <= maximumLineLength, isNFC(text) else {
                throw fail("a non-empty NFC string of at most \(maximumLineLength) characters")
            }
        case (.article, "published"):
            guard value == .null || value.textValue.flatMap(CalendarDate.init) != nil else {
                throw fail("null or a date YYYY-MM-DD")
            }
        case (.article, "source"):
            guard value == .null || (value.textValue.map { $0.count <= maximumLineLength } ?? false) else {
                throw fail("null or a string of at most \(maximumLineLength) characters")
            }
        case (.article, "contentHash"):
            guard let text = value.textValue, ContentHash.isValid(text) else {
                throw fail("64 lowercase hexadecimal digits (SHA-256)")
            }
        case (.article, "captions"):
            guard let list = value.listValue, list.allSatisfy(isNFC) else { throw fail("a list of NFC strings") }
        case (_, "tags"):
            guard let list = value.listValue, let canonical = try? Tags.set(list), canonical.count == list.count,
                  zip(canonical, list).allSatisfy({ $0.utf8.elementsEqual($1.utf8) })
            else {
                throw fail("a sorted list of distinct tags (NFC, trimmed, 1 to \(Tags.maximumLength) characters, no control characters)")
            }
        case (_, "createdAt"), (.conflict, "hlc"):
            guard let number = value.integerValue, number >= 0 else { throw fail("a non-negative integer") }
        case (.annotation, "articleId"), (.conflict, "recordId"):
            guard let text = value.textValue, Identifier.isValid(text) else { throw fail("a record id") }
        case (.annotation, "start"), (.annotation, "end"):
            guard let number = value.integerValue, (0...Int64(Int32.max)).contains(number) else {
                throw fail("an integer from 0 to \(Int32.max)")
            }
        case (.annotation, "exact"):
            guard let text = value.textValue, !text.isEmpty, isNFC(text) else { throw fail("a non-empty NFC string") }
        case (.annotation, "prefix"), (.annotation, "suffix"):
            guard let text = value.textValue, isNFC(text) else { throw fail("an NFC string") }
        case (.annotation, "note"):
            guard let text = value.textValue, text.count <= Annotation.maximumNoteLength, isNFC(text) else {
                throw fail("an NFC string of at most \(Annotation.maximumNoteLength) characters")
            }
        case (.annotation, "color"):
            guard let text = value.textValue, HighlightColor(rawValue: text) != nil else {
                throw fail("one of " + HighlightColor.allCases.map(\.rawValue).joined(separator: ", "))
            }
        case (.conflict, "recordEntity"):
            guard let text = value.textValue, text == "article" || text == "annotation" else {
                throw fail("'article' or 'annotation'")
            }
        case (.conflict, "kind"):
            guard value == .text("value") || value == .text("delete") else { throw fail("'value' or 'delete'") }
        case (.conflict, "field"), (.conflict, "device"):
            guard value == .null || value.textValue != nil else { throw fail("null or a string") }
        case (.conflict, "value"):
            return
        default:
            throw MarginError(.invalidInput, "unknown field '\(field)' for \(entity.rawValue) records")
        }
    }

    /// Checks a whole record: every field present and valid, and none unknown.
    public static func validate(record fields: [String: FieldValue], of entity: RecordEntity) throws(MarginError) {
        let expected = Self.fields(of: entity)
        if let missing = expected.subtracting(fields.keys).sorted().first {
            throw MarginError(.invalidInput, "field '\(missing)' is missing from a \(entity.rawValue) record")
        }
        for (field, value) in fields { try validate(value, field: field, of: entity) }
        if entity == .annotation, let start = fields["start"]?.integerValue, let end = fields["end"]?.integerValue,
           end <= start {
            throw MarginError(.invalidInput, "an annotation's end must be after its start")
        }
    }

    /// Checks one pushed change: a create carries every field with `old` null, an update
    /// changes only mutable fields, a delete carries old values only; conflict records
    /// can only be deleted.
    public static func validate(_ change: WireChange) throws(MarginError) {
        guard change.seq >= 1, change.baseVersion >= 0, change.hlc >= 0 else {
            throw MarginError(.invalidInput, "seq must be at least 1; baseVersion and hlc cannot be negative")
        }
        guard Identifier.isValid(change.id) else { throw MarginError(.invalidInput, "'\(change.id)' is not a record id") }
        let known = fields(of: change.entity)
        if let unknown = Set(change.fields.keys).subtracting(known).sorted().first {
            throw MarginError(.invalidInput, "unknown field '\(unknown)' for \(change.entity.rawValue) records")
        }
        switch change.op {
        case .create:
            guard change.entity != .conflict else { throw MarginError(.invalidInput, "conflict records are made by the server") }
            guard change.fields.values.allSatisfy({ $0.old == .null }) else {
                throw MarginError(.invalidInput, "a create's old values must be null")
            }
            try validate(record: change.fields.mapValues(\.new), of: change.entity)
        case .update:
            guard change.entity != .conflict else { throw MarginError(.invalidInput, "conflict records can only be deleted") }
            let mutable = mutableFields(of: change.entity)
            if let fixed = Set(change.fields.keys).subtracting(mutable).sorted().first {
                throw MarginError(.invalidInput, "field '\(fixed)' cannot change after a \(change.entity.rawValue) is created")
            }
            for (field, fieldChange) in change.fields {
                try validate(fieldChange.new, field: field, of: change.entity)
            }
        case .delete:
            guard change.fields.values.allSatisfy({ $0.new == .null }) else {
                throw MarginError(.invalidInput, "a delete's new values must be null")
            }
        }
    }

    /// Whether `text` holds U+0000, which no record or body may contain.
    public static func containsNUL(_ text: String) -> Bool {
        text.utf8.contains(0)
    }

    /// Whether `text` is in NFC, byte for byte (Swift's `==` compares canonical
    /// equivalents as equal, so it cannot tell). Text made only of scalars that are NFC in
    /// any context (below U+0300, Latin Extended Additional — Vietnamese — and common
    /// punctuation; `quickCheckRanges`) is NFC without normalizing it.
    static func isNFC(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { scalar in quickCheckRanges.contains { $0.contains(scalar.value) } }
            || ArticleText.normalize(text).utf8.elementsEqual(text.utf8)
    }

    /// Scalars with NFC_Quick_Check = Yes and canonical combining class 0: no string of
    /// them can change under NFC. (Tested exhaustively against normalization.)
    static let quickCheckRanges: [Range<UInt32>] = [0..<0x300, 0x1E00..<0x1F00, 0x2002..<0x2070]
}

extension Article {
    /// The article a synchronized record describes; `fields` must have passed
    /// `RecordSchema.validate(record:of:)`.
    public init(id: String, fields: [String: FieldValue], updatedAt: Timestamp) {
        self.init(
            id: id, title: fields["title"]?.textValue ?? "",
            published: fields["published"]?.textValue.flatMap(CalendarDate.init),
            source: fields["source"]?.textValue, contentHash: fields["contentHash"]?.textValue ?? "",
            captions: fields["captions"]?.listValue ?? [], tags: fields["tags"]?.listValue ?? [],
            createdAt: Timestamp(milliseconds: fields["createdAt"]?.integerValue ?? 0), updatedAt: updatedAt)
    }
}

extension Annotation {
    /// The annotation a synchronized record describes; `fields` must have passed
    /// `RecordSchema.validate(record:of:)`.
    public init(id: String, fields: [String: FieldValue], updatedAt: Timestamp) {
        self.init(
            id: id, articleId: fields["articleId"]?.textValue ?? "",
            selectors: TextSelectors(
                start: Int(fields["start"]?.integerValue ?? 0), end: Int(fields["end"]?.integerValue ?? 0),
                exact: fields["exact"]?.textValue ?? "", prefix: fields["prefix"]?.textValue ?? "",
                suffix: fields["suffix"]?.textValue ?? ""),
            note: fields["note"]?.textValue ?? "", tags: fields["tags"]?.listValue ?? [],
            color: fields["color"]?.textValue.flatMap(HighlightColor.init(rawValue:)) ?? .yellow,
            createdAt: Timestamp(milliseconds: fields["createdAt"]?.integerValue ?? 0), updatedAt: updatedAt)
    }
}
