import Crypto

/// An article read from a file, before it enters a library.
public struct ParsedDocument: Sendable, Hashable {
    /// Which reader understood the file.
    public enum Format: String, Sendable {
        /// The seed format: a ` date YYYY-MM-DD ` first line, captions, the `./.` end mark.
        case seed
        /// A `.txt` or `.md` file without the date line.
        case plainText = "plain text"
        /// A web page, fetched or saved (its readable text).
        case html
    }

    public var format: Format
    public var title: String
    public var published: CalendarDate?
    /// NFC, paragraphs separated by one blank line, captions removed.
    public var body: String
    public var captions: [String]
    /// A web page's canonical address, author, site and language, when it says.
    public var url: String?
    public var author: String?
    public var siteName: String?
    public var language: String?

    /// A parsed article with the given parts; `body` must already be NFC.
    public init(
        format: Format, title: String, published: CalendarDate?, body: String, captions: [String], url: String? = nil,
        author: String? = nil, siteName: String? = nil, language: String? = nil
    ) {
        self.format = format
        self.title = title
        self.published = published
        self.body = body
        self.captions = captions
        self.url = url
        self.author = author
        self.siteName = siteName
        self.language = language
    }

    /// Lowercase hex SHA-256 of the body: the article's content address.
    public var contentHash: String { ContentHash.of(body) }
}

/// Content addresses of article bodies.
public enum ContentHash {
    /// Lowercase hex SHA-256 of the UTF-8 bytes of `text`.
    public static func of(_ text: String) -> String {
        let digest = SHA256.hash(data: Array(text.utf8))
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in digest {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    /// Whether `text` has the form of a content hash: 64 lowercase hexadecimal digits.
    public static func isValid(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}
