/// One limit of the rulebook: the most a value may hold. "Characters" are Unicode scalars
/// (code points), the unit positions are counted in, so that every build counts alike.
public struct RecordLimit: Sendable, Hashable {
    public enum Unit: String, Sendable, Hashable {
        case characters, bytes, items
    }

    /// What the limit applies to, as messages and the README name it.
    public let name: String
    public let maximum: Int
    public let unit: Unit
}

/// The rulebook: what every field of every synchronized record may hold, and the limits
/// on article bodies. `margin` applies it when a change is made (every edit, import,
/// restore), before anything is written; `margin-server` applies it again to every pushed
/// change, refusing a change that breaks it alone, with the same message. Pulled records
/// are checked for what a store needs to read them (types, NFC, no NUL, allowed values),
/// without the limits, so that a limit added by a later release never stops a sync on
/// what earlier releases stored.
///
/// For example:
/// ```swift
/// try RecordRules.check(.text(title), .title, of: .article)
/// // field 'title' has 5000 characters; at most 4096 are allowed
/// ```
public enum RecordRules {
    public static let title = RecordLimit(name: "title", maximum: 4_096, unit: .characters)
    public static let source = RecordLimit(name: "source", maximum: 4_096, unit: .characters)
    /// An article's canonical address.
    public static let url = RecordLimit(name: "url", maximum: 4_096, unit: .characters)
    public static let author = RecordLimit(name: "author", maximum: 1_024, unit: .characters)
    public static let siteName = RecordLimit(name: "siteName", maximum: 1_024, unit: .characters)
    public static let caption = RecordLimit(name: "caption", maximum: 4_096, unit: .characters)
    /// All captions of an article together.
    public static let captions = RecordLimit(name: "captions", maximum: 100_000, unit: .characters)
    public static let tag = RecordLimit(name: "tag", maximum: 64, unit: .characters)
    /// Tags of one record.
    public static let tags = RecordLimit(name: "tags", maximum: 256, unit: .items)
    public static let note = RecordLimit(name: "note", maximum: 100_000, unit: .characters)
    /// The highlighted text of an annotation.
    public static let exact = RecordLimit(name: "exact", maximum: 100_000, unit: .characters)
    /// The context kept on each side of a highlight.
    public static let context = RecordLimit(name: "prefix, suffix", maximum: TextSelectors.contextLength, unit: .characters)
    /// An article's body, as UTF-8. The largest change a device pushes (an article with a
    /// body at this limit, every character escaped in JSON) still fits in one request of
    /// `SyncProtocol.maximumRequestBytes`.
    public static let body = RecordLimit(name: "body", maximum: 2 * 1024 * 1024, unit: .bytes)

    /// Every limit, in the order the README lists them.
    public static let limits = [title, source, url, author, siteName, caption, captions, tag, tags, note, exact, context, body]

    // MARK: - Fields

    /// Checks that `value` may be stored in `field` of a record of kind `entity`; the
    /// message names the field and what it must be (for a limit, the value's size too).
    /// `limits: false` checks only what a store needs to read the value.
    public static func check(
        _ value: FieldValue, _ field: RecordField, of entity: RecordEntity, limits: Bool = true
    ) throws(MarginError) {
        func fail(_ expectation: String) -> MarginError {
            MarginError(.invalidInput, "field '\(field.rawValue)' must be \(expectation)")
        }
        func within(_ limit: RecordLimit, _ text: String) throws(MarginError) {
            guard limits else { return }
            try check(text.unicodeScalars.count, within: limit, what: "field '\(field.rawValue)'")
        }
        guard entity.allFields.contains(field) else {
            throw MarginError(.invalidInput, "'\(field.rawValue)' is not a field of \(entity.rawValue) records")
        }
        // No store keeps U+0000 in text the same way (PostgreSQL refuses it), so no record may hold one.
        if (value.textValue.map { [$0] } ?? value.listValue ?? []).contains(where: containsNUL) {
            throw fail("free of NUL (U+0000) characters")
        }
        switch (entity, field) {
        case (.article, .title):
            guard let text = value.textValue, isNFC(text) else { throw fail("NFC text") }
            guard !text.isEmpty else { throw MarginError(.invalidInput, "field 'title' cannot be empty") }
            try within(title, text)
        case (.article, .published):
            guard value == .null || value.textValue.flatMap(CalendarDate.init) != nil else {
                throw fail("null or a date YYYY-MM-DD")
            }
        case (.article, .source):
            guard value == .null || value.textValue != nil else { throw fail("null or text") }
            if let text = value.textValue { try within(source, text) }
        case (.article, .url):
            guard value == .null || value.textValue.map(isWebAddress) == true else { throw fail("null or an http or https URL") }
            if let text = value.textValue { try within(url, text) }
        case (.article, .author), (.article, .siteName):
            guard value == .null || value.textValue.map({ !$0.isEmpty && isNFC($0) && !$0.contains(where: \.isNewline) }) == true
            else { throw fail("null or non-empty NFC text on one line") }
            if let text = value.textValue { try within(field == .author ? author : siteName, text) }
        case (.article, .language):
            guard value == .null || value.textValue.map(isLanguageTag) == true else {
                throw fail("null or a language tag (letters, digits and hyphens, at most 35)")
            }
        case (.article, .contentHash):
            guard let text = value.textValue, ContentHash.isValid(text) else {
                throw fail("64 lowercase hexadecimal digits (SHA-256)")
            }
        case (.article, .captions):
            guard let list = value.listValue, list.allSatisfy({ !$0.isEmpty && isNFC($0) }) else {
                throw fail("a list of non-empty NFC texts")
            }
            for text in list { try within(caption, text) }
            if limits {
                try check(list.reduce(0) { $0 + $1.unicodeScalars.count }, within: captions, what: "field 'captions'", inAll: true)
            }
        case (_, .tags):
            guard let list = value.listValue, list == list.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }),
                  Set(list).count == list.count
            else { throw fail("a sorted list of distinct tags") }
            for tag in list { try check(tag: tag, limits: limits) }
            if limits { try check(list.count, within: tags, what: "field 'tags'") }
        case (_, .createdAt), (.conflict, .hlc):
            guard let number = value.integerValue, number >= 0 else { throw fail("a non-negative integer") }
        case (.annotation, .articleId), (.conflict, .recordId):
            guard let text = value.textValue, Identifier.isValid(text) else { throw fail("a record id") }
        case (.annotation, .start), (.annotation, .end):
            guard let number = value.integerValue, (0...Int64(Int32.max)).contains(number) else {
                throw fail("an integer from 0 to \(Int32.max)")
            }
        case (.annotation, .exact):
            guard let text = value.textValue, !text.isEmpty, isNFC(text) else { throw fail("non-empty NFC text") }
            try within(exact, text)
        case (.annotation, .prefix), (.annotation, .suffix):
            guard let text = value.textValue, isNFC(text) else { throw fail("NFC text") }
            try within(context, text)
        case (.annotation, .basis):
            guard value == .null || value.textValue.map(ContentHash.isValid) == true else {
                throw fail("null or 64 lowercase hexadecimal digits (SHA-256)")
            }
        case (.annotation, .note):
            guard let text = value.textValue, isNFC(text) else { throw fail("NFC text") }
            try within(note, text)
        case (.annotation, .color):
            guard let text = value.textValue, HighlightColor(rawValue: text) != nil else {
                throw fail("one of " + HighlightColor.allCases.map(\.rawValue).joined(separator: ", "))
            }
        case (.conflict, .recordEntity):
            guard let text = value.textValue, text == RecordEntity.article.rawValue || text == RecordEntity.annotation.rawValue
            else { throw fail("'article' or 'annotation'") }
        case (.conflict, .kind):
            guard value.textValue.flatMap(ConflictRecord.Kind.init) != nil else { throw fail("'value' or 'delete'") }
        case (.conflict, .field):
            guard value == .null || value.textValue.flatMap(RecordField.init) != nil else { throw fail("null or a field name") }
        case (.conflict, .device):
            guard value == .null || value.textValue != nil else { throw fail("null or text") }
        case (.conflict, .value):
            return
        default:
            throw MarginError(.invalidInput, "'\(field.rawValue)' is not a field of \(entity.rawValue) records")
        }
    }

    /// Checks a whole record: every field present and valid (an annotation's end after
    /// its start).
    public static func check(record fields: [RecordField: FieldValue], of entity: RecordEntity, limits: Bool = true) throws(MarginError) {
        if entity.fields.contains(where: { fields[$0] == nil }), let missing = entity.fields.subtracting(fields.keys).sorted().first {
            throw MarginError(.invalidInput, "field '\(missing.rawValue)' is missing from a \(entity.rawValue) record")
        }
        for (field, value) in fields { try check(value, field, of: entity, limits: limits) }
        if entity == .annotation, let start = fields[.start]?.integerValue, let end = fields[.end]?.integerValue, end <= start {
            throw MarginError(.invalidInput, "an annotation's end must be after its start")
        }
    }

    /// Checks one tag as a record holds it: NFC, trimmed, one line, within the limit.
    public static func check(tag: String, limits: Bool = true) throws(MarginError) {
        guard !tag.isEmpty else { throw MarginError(.invalidInput, "a tag cannot be empty") }
        guard !tag.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw MarginError(.invalidInput, "a tag cannot contain control characters or line breaks")
        }
        guard isNFC(tag), tag.trimmingWhitespace() == tag else {
            throw MarginError(.invalidInput, "a tag must be NFC text without leading or trailing spaces")
        }
        if limits { try check(tag.unicodeScalars.count, within: Self.tag, what: "a tag") }
    }

    // MARK: - Changes

    /// Checks what a change's values must be: a create carries every field of a valid
    /// record with `old` null, an update only mutable fields with valid new values, a
    /// delete old values only. A change that breaks these rules is refused on its own:
    /// by `margin` before it is logged, by the server without refusing the rest of a push.
    public static func check(
        _ entity: RecordEntity, _ op: ChangeEntry.Operation, fields: [RecordField: ChangeEntry.FieldChange]
    ) throws(MarginError) {
        switch op {
        case .create:
            guard fields.values.allSatisfy({ $0.old == .null }) else {
                throw MarginError(.invalidInput, "a create's old values must be null")
            }
            try check(record: fields.mapValues(\.new), of: entity)
        case .update:
            guard entity != .conflict else { throw MarginError(.invalidInput, "conflict records can only be created or deleted") }
            if let unknown = Set(fields.keys).subtracting(entity.allFields).sorted().first {
                throw MarginError(.invalidInput, "'\(unknown.rawValue)' is not a field of \(entity.rawValue) records")
            }
            if let fixed = Set(fields.keys).subtracting(entity.mutableFields).sorted().first {
                throw MarginError(.invalidInput, "field '\(fixed.rawValue)' cannot change after a \(entity.rawValue) is created")
            }
            for (field, change) in fields { try check(change.new, field, of: entity) }
        case .delete:
            guard fields.values.allSatisfy({ $0.new == .null }) else {
                throw MarginError(.invalidInput, "a delete's new values must be null")
            }
        }
    }

    // MARK: - Bodies

    /// Checks an article body (NFC text): within the limit, without NUL.
    public static func check(body text: String) throws(MarginError) {
        try check(text.utf8.count, within: body, what: "the article body")
        guard !containsNUL(text) else { throw MarginError(.invalidInput, "the article body cannot contain NUL (U+0000) characters") }
    }

    // MARK: - Helpers

    private static func check(_ size: Int, within limit: RecordLimit, what: String, inAll: Bool = false) throws(MarginError) {
        guard size > limit.maximum else { return }
        let unit = limit.unit == .items ? limit.name : limit.unit.rawValue
        let scale = limit.unit == .bytes ? " (\(limit.maximum >> 20) MiB)" : ""
        throw MarginError(
            .invalidInput, "\(what) has \(size) \(unit)\(inAll ? " in all" : ""); at most \(limit.maximum)\(scale) are allowed")
    }

    /// Whether `text` is an absolute http(s) address, without spaces or control characters.
    public static func isWebAddress(_ text: String) -> Bool {
        let lower = text.prefix(8).lowercased()
        return (lower.hasPrefix("http://") || lower.hasPrefix("https://")) && text.count > 8
            && !text.unicodeScalars.contains { $0.properties.isWhitespace || $0.properties.generalCategory == .control }
    }

    /// Whether `text` has the form of a BCP 47 language tag (`vi`, `en-US`, `zh-Hant-TW`).
    static func isLanguageTag(_ text: String) -> Bool {
        (2...35).contains(text.utf8.count) && text.utf8.first.map { (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) } == true
            && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || $0 == 0x2D }
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
