import Foundation

/// A whole library as one JSON document: what `margin export --format json` writes and
/// `margin import` reads back into an identical library (same ids, text and times).
public struct LibraryExport: Sendable, Hashable, Codable {
    /// The value of `format` that marks a file as a Marginalia export.
    public static let formatName = "marginalia-library"
    public static let currentVersion = 1

    /// An article with its body.
    public struct ExportedArticle: Sendable, Hashable, Codable {
        public var article: Article
        public var body: String

        /// An article and its body text.
        public init(article: Article, body: String) {
            self.article = article
            self.body = body
        }

        private enum CodingKeys: String, CodingKey { case body }

        public init(from decoder: any Decoder) throws {
            article = try Article(from: decoder)
            body = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .body)
        }

        public func encode(to encoder: any Encoder) throws {
            try article.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(body, forKey: .body)
        }
    }

    public var format: String
    public var version: Int
    public var exportedAt: Timestamp
    public var articles: [ExportedArticle]
    public var annotations: [Annotation]

    /// An export of the current format and version.
    public init(exportedAt: Timestamp, articles: [ExportedArticle], annotations: [Annotation]) {
        format = LibraryExport.formatName
        version = LibraryExport.currentVersion
        self.exportedAt = exportedAt
        self.articles = articles
        self.annotations = annotations
    }

    /// Whether `bytes` hold a JSON object (they are then read as an export, so that a
    /// broken export gets a precise decoding error rather than "unknown format").
    public static func isJSONObject(_ bytes: [UInt8]) -> Bool {
        bytes.drop { [0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains($0) }.first == UInt8(ascii: "{")
    }

    /// Decodes an export, explaining in one line what is wrong with a broken one.
    public static func decode(_ bytes: [UInt8], fileName: String) throws(MarginError) -> LibraryExport {
        struct Format: Decodable { var format: String? }
        struct Version: Decodable { var version: Int? }
        let data = Data(bytes)
        guard let format = try? JSONDecoder().decode(Format.self, from: data) else {
            throw MarginError(.invalidInput, "\(fileName): not valid JSON, or not a JSON object")
        }
        guard format.format == formatName else {
            throw MarginError(
                .unsupportedFile, "\(fileName): a JSON file that is not a margin export (no \"format\": \"\(formatName)\")")
        }
        guard let version = (try? JSONDecoder().decode(Version.self, from: data))?.version, version <= currentVersion else {
            throw MarginError(
                .invalidInput, "\(fileName): the export's version is missing or newer than this margin reads; upgrade margin")
        }
        do {
            return try JSONDecoder().decode(LibraryExport.self, from: data)
        } catch let error as DecodingError {
            throw MarginError(.invalidInput, "\(fileName): not a valid margin export: \(describe(error))")
        } catch {
            throw MarginError(.invalidInput, "\(fileName): not a valid margin export")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return keys.isEmpty ? "the document" : String(keys.drop { $0 == "." })
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context)): missing field '\(key.stringValue)'"
        case .typeMismatch(_, let context), .valueNotFound(_, let context): return "\(path(context)): wrong type"
        case .dataCorrupted(let context): return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "unreadable"
        }
    }

    /// The document as pretty-printed JSON with sorted keys and unescaped slashes.
    public func encoded() throws -> Data {
        try JSONEncoder.marginOutput.encode(self)
    }
}

extension JSONEncoder {
    /// The encoder for everything Marginalia prints: stable key order, readable text.
    public static var marginOutput: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
