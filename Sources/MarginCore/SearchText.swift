/// Diacritic- and case-insensitive text for full-text search.
///
/// SQLite's `unicode61 remove_diacritics 2` tokenizer folds every Vietnamese letter but
/// `đ`/`Đ`, which has no decomposition; the index therefore stores text with `đ` folded
/// to `d`, and queries are folded completely, so `dam phan` finds `đàm phán` and
/// `hoi nghi` finds `hội nghị`.
public enum SearchText {
    /// Text for the index: the original with `đ`/`Đ` folded (the tokenizer does the rest).
    public static func indexable(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0 == "đ" || $0 == "Đ" }) else { return text }
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            result.append(scalar == "đ" ? "d" : scalar == "Đ" ? "D" : scalar)
        }
        return String(result)
    }

    /// The folded words of a query: lowercase letters and digits without diacritics.
    public static func terms(of query: String) -> [String] {
        var terms: [String] = []
        var current = String.UnicodeScalarView()
        for scalar in query.unicodeScalars {
            let folded = fold(scalar)
            if folded.isEmpty, isMark(scalar) { continue }
            if folded.isEmpty {
                if !current.isEmpty { terms.append(String(current)) }
                current = String.UnicodeScalarView()
            } else {
                current.append(contentsOf: folded)
            }
        }
        if !current.isEmpty { terms.append(String(current)) }
        return terms
    }

    /// An FTS5 `MATCH` expression requiring every term (each quoted, so no query syntax
    /// can leak in), or `nil` when the query has no words.
    public static func matchExpression(for query: String) -> String? {
        let terms = terms(of: query)
        guard !terms.isEmpty else { return nil }
        return terms.map { "\"\($0)\"" }.joined(separator: " ")
    }

    /// An FTS5 expression for the terms as one phrase (consecutive, in order), or `nil`
    /// when the query has fewer than two words.
    public static func phraseExpression(for query: String) -> String? {
        let terms = terms(of: query)
        guard terms.count > 1 else { return nil }
        return "\"" + terms.joined(separator: " ") + "\""
    }

    /// A short excerpt of `text` around the densest cluster of the query's words, with
    /// each run of matched words wrapped in `open` and `close`; `nil` when no word occurs.
    public static func snippet(
        of text: String, terms: [String], width: Int = 160, open: String = "[", close: String = "]"
    ) -> String? {
        let scalars = Array(text.unicodeScalars)
        let hits = mergedHits(of: terms, in: scalars)
        guard !hits.isEmpty else { return nil }
        // Centre on the hit followed by the most matched text within a third of the width.
        func weight(_ hit: Range<Int>) -> Int {
            hits.filter { $0.lowerBound >= hit.lowerBound && $0.lowerBound < hit.lowerBound + width / 3 }.map(\.count).reduce(0, +)
        }
        let focus = hits.max { lhs, rhs in
            weight(lhs) < weight(rhs) || (weight(lhs) == weight(rhs) && lhs.lowerBound > rhs.lowerBound)
        }!
        var start = max(0, focus.lowerBound - width / 3)
        while start > 0, !scalars[start - 1].properties.isWhitespace { start -= 1 }
        var end = min(scalars.count, start + width)
        while end < scalars.count, !scalars[end].properties.isWhitespace { end += 1 }
        var result = String.UnicodeScalarView()
        if start > 0 { result.append("…") }
        var position = start
        for hit in hits where hit.lowerBound >= position && hit.upperBound <= end {
            result.append(contentsOf: scalars[position..<hit.lowerBound])
            result.append(contentsOf: open.unicodeScalars)
            result.append(contentsOf: scalars[hit])
            result.append(contentsOf: close.unicodeScalars)
            position = hit.upperBound
        }
        result.append(contentsOf: scalars[position..<end])
        if end < scalars.count { result.append("…") }
        return String(String.UnicodeScalarView(result.map { $0 == "\n" ? " " : $0 }))
    }

    /// Where the terms occur as whole words in `scalars` (compared folded), in order, with
    /// hits separated only by spaces or punctuation merged into one range.
    static func mergedHits(of terms: [String], in scalars: [Unicode.Scalar]) -> [Range<Int>] {
        // The folded text and, for each folded scalar, the original scalar it came from.
        var folded: [Unicode.Scalar] = []
        var origin: [Int] = []
        for (index, scalar) in scalars.enumerated() {
            let foldedScalars = fold(scalar)
            if foldedScalars.isEmpty {
                if isMark(scalar) { continue }
                folded.append(" ")
                origin.append(index)
            } else {
                for foldedScalar in foldedScalars {
                    folded.append(foldedScalar)
                    origin.append(index)
                }
            }
        }
        var hits: [Range<Int>] = []
        for term in Set(terms) {
            let needle = Array(term.unicodeScalars)
            var position = 0
            while position + needle.count <= folded.count {
                let end = position + needle.count
                if position == 0 || folded[position - 1] == " ", end == folded.count || folded[end] == " ",
                   folded[position..<end].elementsEqual(needle) {
                    hits.append(origin[position]..<(end < origin.count ? origin[end] : scalars.count))
                    position = end
                } else {
                    position += 1
                }
            }
        }
        hits.sort { $0.lowerBound < $1.lowerBound }
        var merged: [Range<Int>] = []
        for hit in hits {
            if let last = merged.last, hit.lowerBound >= last.upperBound, hit.lowerBound - last.upperBound <= 3,
               scalars[last.upperBound..<hit.lowerBound].allSatisfy({ fold($0).isEmpty }) {
                merged[merged.count - 1] = last.lowerBound..<hit.upperBound
            } else if merged.last.map({ hit.lowerBound >= $0.upperBound }) ?? true {
                merged.append(hit)
            }
        }
        return merged
    }

    /// The folded form of one scalar: its base letters in lowercase, nothing for marks,
    /// punctuation and spaces.
    static func fold(_ scalar: Unicode.Scalar) -> [Unicode.Scalar] {
        if scalar.isASCII {
            let value = scalar.value
            if (0x30...0x39).contains(value) || (0x61...0x7A).contains(value) { return [scalar] }
            if (0x41...0x5A).contains(value) { return [Unicode.Scalar(value + 0x20)!] }
            return []
        }
        if scalar == "đ" || scalar == "Đ" { return ["d"] }
        let properties = scalar.properties
        guard properties.isAlphabetic || properties.numericType != nil else { return [] }
        let decomposed = String(scalar).decomposedForSearch
        return decomposed.unicodeScalars.filter { !isMark($0) }.flatMap { $0.properties.lowercaseMapping.unicodeScalars }
    }

    private static func isMark(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: true
        default: false
        }
    }
}
