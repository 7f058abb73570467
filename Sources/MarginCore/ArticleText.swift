import Foundation

/// An article body as Unicode scalars of its NFC form: the unit every position in
/// Marginalia is counted in (never UTF-16 units or grapheme clusters).
///
/// Values are immutable and may be shared across threads.
public struct ArticleText: Sendable, Hashable {
    /// The NFC-normalized text.
    public let string: String
    /// The scalars of `string`, indexed by position.
    public let scalars: [Unicode.Scalar]

    /// Wraps `text`, normalizing it to NFC first.
    public init(_ text: String) {
        string = ArticleText.normalize(text)
        scalars = Array(string.unicodeScalars)
    }

    /// `text` in Unicode Normalization Form C.
    ///
    /// Uses the standard library's native normalizer (the one behind `String` equality),
    /// which is several times faster on Linux than Foundation's UTF-16 round trip.
    public static func normalize(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text }
        return String(decoding: text._nfcCodeUnits, as: UTF8.self)
    }

    /// The number of scalars.
    public var count: Int { scalars.count }

    /// The text of the scalars in `range`, which must lie within the text.
    public func text(in range: Range<Int>) -> String {
        var result = String.UnicodeScalarView()
        result.append(contentsOf: scalars[range])
        return String(result)
    }

    /// The start positions of every occurrence of `needle` (already NFC), in order.
    public func occurrences(of needle: [Unicode.Scalar]) -> [Int] {
        guard let first = needle.first, needle.count <= scalars.count else { return [] }
        var found: [Int] = []
        var position = 0
        let lastStart = scalars.count - needle.count
        while position <= lastStart {
            if scalars[position] == first, scalars[position..<position + needle.count].elementsEqual(needle) {
                found.append(position)
            }
            position += 1
        }
        return found
    }

    /// The selectors for the passage at `range`: its position and its quote with up to
    /// `TextSelectors.contextLength` scalars of context on each side.
    public func selectors(for range: Range<Int>) -> TextSelectors {
        let prefixStart = max(0, range.lowerBound - TextSelectors.contextLength)
        let suffixEnd = min(count, range.upperBound + TextSelectors.contextLength)
        return TextSelectors(
            start: range.lowerBound,
            end: range.upperBound,
            exact: text(in: range),
            prefix: text(in: prefixStart..<range.lowerBound),
            suffix: text(in: range.upperBound..<suffixEnd)
        )
    }
}

/// Where an annotation points, in the two W3C Web Annotation forms kept side by side:
/// a `TextPositionSelector` (`start`, `end` in scalars of the NFC body) and a
/// `TextQuoteSelector` (`exact` with its `prefix` and `suffix`).
public struct TextSelectors: Sendable, Hashable, Codable {
    /// Scalars of context kept on each side of the quote.
    public static let contextLength = 32

    public var start: Int
    public var end: Int
    public var exact: String
    public var prefix: String
    public var suffix: String

    /// Selectors from their parts; positions count Unicode scalars of the NFC body.
    public init(start: Int, end: Int, exact: String, prefix: String, suffix: String) {
        self.start = start
        self.end = end
        self.exact = exact
        self.prefix = prefix
        self.suffix = suffix
    }
}

extension String {
    /// Canonical decomposition (NFD), used to strip diacritics for search.
    var decomposedForSearch: String { decomposedStringWithCanonicalMapping }
}
