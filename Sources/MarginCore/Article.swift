/// An article in a library. The body is stored apart, content-addressed by
/// `contentHash` (SHA-256 of the NFC body), so it is kept and sent once.
public struct Article: Sendable, Hashable, Codable {
    public var id: String
    public var title: String
    public var published: CalendarDate?
    /// Where the article came from (for imported files, the file name).
    public var source: String?
    /// Lowercase hex SHA-256 of the NFC body.
    public var contentHash: String
    /// Photo captions, kept apart from the body text, in reading order.
    public var captions: [String]
    /// Sorted, without duplicates.
    public var tags: [String]
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    /// A web article's canonical address: the article's identity on the web (one article
    /// per address in a library). `nil` for files that do not say.
    public var url: String?
    public var author: String?
    public var siteName: String?
    /// The language tag the page gives (`vi`, `en-US`).
    public var language: String?

    /// An article with the given fields; `tags` must already be a sorted set.
    public init(
        id: String, title: String, published: CalendarDate?, source: String?, contentHash: String,
        captions: [String], tags: [String], createdAt: Timestamp, updatedAt: Timestamp, url: String? = nil,
        author: String? = nil, siteName: String? = nil, language: String? = nil
    ) {
        self.id = id
        self.title = title
        self.published = published
        self.source = source
        self.contentHash = contentHash
        self.captions = captions
        self.tags = tags
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.url = url
        self.author = author
        self.siteName = siteName
        self.language = language
    }

    private enum CodingKeys: String, CodingKey {
        case id, title, published, source, url, author, siteName, language, contentHash, captions, tags, createdAt, updatedAt
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try container.decode(String.self, forKey: .id), title: try container.decode(String.self, forKey: .title),
            published: try container.decodeIfPresent(CalendarDate.self, forKey: .published),
            source: try container.decodeIfPresent(String.self, forKey: .source),
            contentHash: try container.decode(String.self, forKey: .contentHash),
            captions: try container.decode([String].self, forKey: .captions), tags: try container.decode([String].self, forKey: .tags),
            createdAt: try container.decode(Timestamp.self, forKey: .createdAt),
            updatedAt: try container.decode(Timestamp.self, forKey: .updatedAt),
            url: try container.decodeIfPresent(String.self, forKey: .url),
            author: try container.decodeIfPresent(String.self, forKey: .author),
            siteName: try container.decodeIfPresent(String.self, forKey: .siteName),
            language: try container.decodeIfPresent(String.self, forKey: .language))
    }

    /// Every key is written, `null` when absent.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(title, forKey: .title)
        try container.encode(published, forKey: .published)
        try container.encode(source, forKey: .source)
        try container.encode(url, forKey: .url)
        try container.encode(author, forKey: .author)
        try container.encode(siteName, forKey: .siteName)
        try container.encode(language, forKey: .language)
        try container.encode(contentHash, forKey: .contentHash)
        try container.encode(captions, forKey: .captions)
        try container.encode(tags, forKey: .tags)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
    }

    /// The synchronized fields, as the change log records them.
    public var fieldValues: [RecordField: FieldValue] {
        [
            .title: .text(title),
            .published: published.map { .text($0.description) } ?? .null,
            .source: source.map { .text($0) } ?? .null,
            .contentHash: .text(contentHash),
            .captions: .list(captions),
            .tags: .list(tags),
            .createdAt: .integer(createdAt.milliseconds),
            .url: url.map(FieldValue.text) ?? .null,
            .author: author.map(FieldValue.text) ?? .null,
            .siteName: siteName.map(FieldValue.text) ?? .null,
            .language: language.map(FieldValue.text) ?? .null,
        ]
    }

    /// The article a synchronized record describes; `fields` must have passed
    /// `RecordRules.check(record:of:)` (the fields added since protocol 2 may be absent).
    public init(id: String, fields: [RecordField: FieldValue], updatedAt: Timestamp) {
        self.init(
            id: id, title: fields[.title]?.textValue ?? "", published: fields[.published]?.textValue.flatMap(CalendarDate.init),
            source: fields[.source]?.textValue, contentHash: fields[.contentHash]?.textValue ?? "",
            captions: fields[.captions]?.listValue ?? [], tags: fields[.tags]?.listValue ?? [],
            createdAt: Timestamp(milliseconds: fields[.createdAt]?.integerValue ?? 0), updatedAt: updatedAt,
            url: fields[.url]?.textValue, author: fields[.author]?.textValue, siteName: fields[.siteName]?.textValue,
            language: fields[.language]?.textValue)
    }
}

/// A highlight on an article, with an optional note, tags and a color.
public struct Annotation: Sendable, Hashable, Codable {
    public var id: String
    public var articleId: String
    public var selectors: TextSelectors
    public var note: String
    /// Sorted, without duplicates.
    public var tags: [String]
    public var color: HighlightColor
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    /// The content hash of the article text the selectors were made on: every machine
    /// anchors the annotation from that text into the article's current one, so all agree
    /// on where it stands. `nil` means the article's current text (records made before
    /// articles could change carry none; stores fill it in when they upgrade).
    public var basis: String?

    /// An annotation with the given fields; `tags` must already be a sorted set.
    public init(
        id: String, articleId: String, selectors: TextSelectors, note: String, tags: [String],
        color: HighlightColor, createdAt: Timestamp, updatedAt: Timestamp, basis: String? = nil
    ) {
        self.id = id
        self.articleId = articleId
        self.selectors = selectors
        self.note = note
        self.tags = tags
        self.color = color
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.basis = basis
    }

    /// The synchronized fields, as the change log records them.
    public var fieldValues: [RecordField: FieldValue] {
        [
            .articleId: .text(articleId),
            .start: .integer(Int64(selectors.start)),
            .end: .integer(Int64(selectors.end)),
            .exact: .text(selectors.exact),
            .prefix: .text(selectors.prefix),
            .suffix: .text(selectors.suffix),
            .note: .text(note),
            .tags: .list(tags),
            .color: .text(color.rawValue),
            .createdAt: .integer(createdAt.milliseconds),
            .basis: basis.map(FieldValue.text) ?? .null,
        ]
    }

    /// The annotation a synchronized record describes; `fields` must have passed
    /// `RecordRules.check(record:of:)`.
    public init(id: String, fields: [RecordField: FieldValue], updatedAt: Timestamp) {
        self.init(
            id: id, articleId: fields[.articleId]?.textValue ?? "",
            selectors: TextSelectors(
                start: Int(fields[.start]?.integerValue ?? 0), end: Int(fields[.end]?.integerValue ?? 0),
                exact: fields[.exact]?.textValue ?? "", prefix: fields[.prefix]?.textValue ?? "",
                suffix: fields[.suffix]?.textValue ?? ""),
            note: fields[.note]?.textValue ?? "", tags: fields[.tags]?.listValue ?? [],
            color: fields[.color]?.textValue.flatMap(HighlightColor.init(rawValue:)) ?? .yellow,
            createdAt: Timestamp(milliseconds: fields[.createdAt]?.integerValue ?? 0), updatedAt: updatedAt,
            basis: fields[.basis]?.textValue)
    }

    private enum CodingKeys: String, CodingKey {
        case id, articleId, position, quote, note, tags, color, createdAt, updatedAt, basis
    }

    private struct Position: Codable {
        var start: Int
        var end: Int
    }

    private struct Quote: Codable {
        var exact: String
        var prefix: String
        var suffix: String
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let position = try container.decode(Position.self, forKey: .position)
        let quote = try container.decode(Quote.self, forKey: .quote)
        self.init(
            id: try container.decode(String.self, forKey: .id),
            articleId: try container.decode(String.self, forKey: .articleId),
            selectors: TextSelectors(
                start: position.start, end: position.end, exact: quote.exact, prefix: quote.prefix,
                suffix: quote.suffix),
            note: try container.decode(String.self, forKey: .note),
            tags: try container.decode([String].self, forKey: .tags),
            color: try container.decode(HighlightColor.self, forKey: .color),
            createdAt: try container.decode(Timestamp.self, forKey: .createdAt),
            updatedAt: try container.decode(Timestamp.self, forKey: .updatedAt),
            basis: try container.decodeIfPresent(String.self, forKey: .basis)
        )
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(articleId, forKey: .articleId)
        try container.encode(Position(start: selectors.start, end: selectors.end), forKey: .position)
        try container.encode(
            Quote(exact: selectors.exact, prefix: selectors.prefix, suffix: selectors.suffix), forKey: .quote)
        try container.encode(note, forKey: .note)
        try container.encode(tags, forKey: .tags)
        try container.encode(color, forKey: .color)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encodeIfPresent(basis, forKey: .basis)
    }
}

/// The colors a highlight can have.
public enum HighlightColor: String, Sendable, Hashable, Codable, CaseIterable {
    case yellow, green, blue, pink, purple, orange, red, gray

    /// Parses a color name given by a user, naming the valid ones when it is not one.
    public init(parsing name: String) throws(MarginError) {
        guard let color = HighlightColor(rawValue: name.lowercased()) else {
            let names = HighlightColor.allCases.map(\.rawValue).joined(separator: ", ")
            throw MarginError(.invalidInput, "unknown color '\(name)'; use one of: \(names)")
        }
        self = color
    }
}

/// Tags as users type them, made canonical: NFC and trimmed (then checked against
/// `RecordRules.check(tag:)`); a record's tags form a sorted set.
public enum Tags {
    /// The canonical form of a tag typed by a user.
    public static func normalize(_ raw: String) throws(MarginError) -> String {
        let tag = ArticleText.normalize(raw).trimmingWhitespace()
        try RecordRules.check(tag: tag)
        return tag
    }

    /// Normalized, sorted and without duplicates.
    public static func set(_ raw: [String]) throws(MarginError) -> [String] {
        var tags = Set<String>()
        for tag in raw { tags.insert(try normalize(tag)) }
        return tags.sorted()
    }
}

extension StringProtocol {
    /// The text on one line (line breaks become spaces), cut to `length` characters with
    /// an ellipsis: for listings and messages.
    public func excerpt(_ length: Int) -> String {
        let line = split(whereSeparator: \.isNewline).joined(separator: " ")
        return line.count <= length ? line : line.prefix(length - 1) + "…"
    }

    /// The string without leading and trailing white space and line breaks.
    public func trimmingWhitespace() -> String {
        String(String(self)[...].trimmingWhitespaceScalars())
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    package func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}

extension Substring {
    /// The substring without leading and trailing white space, by Unicode scalar.
    func trimmingWhitespaceScalars() -> Substring {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return Substring(scalars[first...last])
    }
}
