/// Diacritic- and case-insensitive text for full-text search.
///
/// Everything indexed or searched is first *folded*: letters lose their diacritics and
/// case (`đ`/`Đ` become `d`, which Unicode does not decompose), digits stay, and every
/// other character becomes a space. The search tables index folded text with FTS5's
/// `ascii` tokenizer, so `hoi nghi` finds `hội nghị` and `dam phan` finds `đàm phán`.
/// Folding runs in Swift on the import's parsing threads, not in SQLite's single writer.
public enum SearchText {
    /// The folded form of `text`: words of folded letters and digits separated by spaces.
    public static func searchable(_ text: String) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count)
        var pendingSpace = false
        for scalar in text.unicodeScalars {
            switch fold(scalar) {
            case .mark:
                continue
            case .separator:
                pendingSpace = !output.isEmpty
            case .letter(let letter):
                if pendingSpace { output.append(UInt8(ascii: " ")) }
                pendingSpace = false
                if letter.isASCII { output.append(UInt8(letter.value)) } else { UTF8.encode(letter) { output.append($0) } }
            case .letters(let letters):
                if pendingSpace { output.append(UInt8(ascii: " ")) }
                pendingSpace = false
                for letter in letters { UTF8.encode(letter) { output.append($0) } }
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The folded words of a query.
    public static func terms(of query: String) -> [String] {
        searchable(query).split(separator: " ").map(String.init)
    }

    /// An FTS5 `MATCH` expression requiring every term (each quoted, so no query syntax
    /// can leak in), or `nil` when there are no terms.
    public static func matchExpression(terms: [String]) -> String? {
        guard !terms.isEmpty else { return nil }
        return terms.map { "\"\($0)\"" }.joined(separator: " ")
    }

    /// An FTS5 expression for the terms as one phrase (consecutive, in order), or `nil`
    /// for fewer than two terms.
    public static func phraseExpression(terms: [String]) -> String? {
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
            switch fold(scalar) {
            case .mark:
                continue
            case .separator:
                folded.append(" ")
                origin.append(index)
            case .letter(let letter):
                folded.append(letter)
                origin.append(index)
            case .letters(let letters):
                for letter in letters {
                    folded.append(letter)
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
               scalars[last.upperBound..<hit.lowerBound].allSatisfy({ fold($0) == .separator }) {
                merged[merged.count - 1] = last.lowerBound..<hit.upperBound
            } else if merged.last.map({ hit.lowerBound >= $0.upperBound }) ?? true {
                merged.append(hit)
            }
        }
        return merged
    }

    /// What one scalar folds to.
    enum Folded: Equatable {
        /// A base letter or digit, lowercase.
        case letter(Unicode.Scalar)
        /// Several (a ligature such as `ǆ`).
        case letters([Unicode.Scalar])
        /// A space, punctuation or symbol: ends a word.
        case separator
        /// A combining mark: dropped, it belongs to the letter before it.
        case mark
    }

    /// The fold of one scalar: ASCII directly, Latin letters (Vietnamese included) from
    /// a table made once per process, anything else by canonical decomposition.
    static func fold(_ scalar: Unicode.Scalar) -> Folded {
        let value = scalar.value
        if value < 0x80 {
            if (0x30...0x39).contains(value) || (0x61...0x7A).contains(value) { return .letter(scalar) }
            if (0x41...0x5A).contains(value) { return .letter(Unicode.Scalar(UInt8(value + 0x20))) }
            return .separator
        }
        if let index = latinTableIndex(value), let letter = latinTable[index] {
            return .letter(letter)
        }
        return slowFold(scalar)
    }

    /// Latin-1 Supplement, Latin Extended-A and -B (U+00C0–U+024F) and Latin Extended
    /// Additional (U+1E00–U+1EFF, most of Vietnamese): one base letter each, or `nil`
    /// where the slow path decides.
    private static let latinTable: [Unicode.Scalar?] = {
        let ranges: [ClosedRange<UInt32>] = [0xC0...0x24F, 0x1E00...0x1EFF]
        return ranges.flatMap { $0 }.map { value in
            guard let scalar = Unicode.Scalar(value), case .letter(let letter) = slowFold(scalar) else { return nil }
            return letter
        }
    }()

    private static func latinTableIndex(_ value: UInt32) -> Int? {
        if (0xC0...0x24F).contains(value) { return Int(value - 0xC0) }
        if (0x1E00...0x1EFF).contains(value) { return Int(value - 0x1E00) + (0x24F - 0xC0 + 1) }
        return nil
    }

    private static func slowFold(_ scalar: Unicode.Scalar) -> Folded {
        if scalar == "đ" || scalar == "Đ" { return .letter("d") }
        if isMark(scalar) { return .mark }
        let properties = scalar.properties
        guard properties.isAlphabetic || properties.numericType != nil else { return .separator }
        let base = String(scalar).decomposedForSearch.unicodeScalars.filter { !isMark($0) }
        let letters = base.flatMap { $0.properties.lowercaseMapping.unicodeScalars }
        switch letters.count {
        case 0: return .separator
        case 1: return .letter(letters[0])
        default: return .letters(letters)
        }
    }

    private static func isMark(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: true
        default: false
        }
    }
}
