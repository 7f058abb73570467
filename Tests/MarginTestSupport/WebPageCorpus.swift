import Foundation

/// A folder of web pages, each `NAME.html` with the text a reader would call its article
/// (`NAME.txt`, paragraphs separated by blank lines; none for a page that holds no article)
/// and, optionally, what it says about itself (`NAME.json`). `Tests/WebPages` holds the
/// shapes web articles come in.
public struct WebPageCorpus: Sendable {
    public struct Page: Sendable {
        public var name: String
        public var html: [UInt8]
        /// The article's text, or `nil` when the page has none.
        public var expected: String?
        /// `title`, `url`, `date`, `author`, `site`, `language`, `captions`, `encoding`.
        public var metadata: [String: JSONValue]
    }

    /// A metadata value: text, a list of texts, or nothing.
    public enum JSONValue: Sendable, Equatable {
        case text(String)
        case list([String])
        case none
    }

    public static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("WebPages")

    public let pages: [Page]

    public init(folder: URL = Self.folder) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".html") }.sorted()
        pages = try names.map { file in
            let name = String(file.dropLast(".html".count))
            let base = folder.appendingPathComponent(name)
            let html = [UInt8](try Data(contentsOf: base.appendingPathExtension("html")))
            let expected = try? String(contentsOf: base.appendingPathExtension("txt"), encoding: .utf8)
            let about = try? Data(contentsOf: base.appendingPathExtension("json"))
            let json = try about.flatMap { try JSONSerialization.jsonObject(with: $0) as? [String: Any] } ?? [:]
            let metadata = json.mapValues { value -> JSONValue in
                if let text = value as? String { return .text(text) }
                if let list = value as? [String] { return .list(list) }
                return .none
            }
            return Page(name: name, html: html, expected: expected, metadata: metadata)
        }
    }

    /// Word-level precision, recall and F1 of `extracted` against `expected`: the words
    /// (runs of letters and digits, lowercased) they share, counted with multiplicity.
    public static func score(extracted: String, expected: String) -> (precision: Double, recall: Double, f1: Double) {
        let found = words(extracted)
        let wanted = words(expected)
        var counts: [Substring: Int] = [:]
        for word in wanted { counts[word, default: 0] += 1 }
        var common = 0
        for word in found where counts[word, default: 0] > 0 {
            counts[word]! -= 1
            common += 1
        }
        let precision = found.isEmpty ? 0 : Double(common) / Double(found.count)
        let recall = wanted.isEmpty ? 0 : Double(common) / Double(wanted.count)
        let f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
        return (precision, recall, f1)
    }

    private static func words(_ text: String) -> [Substring] {
        text.lowercased().split { !($0.isLetter || $0.isNumber) }
    }
}
