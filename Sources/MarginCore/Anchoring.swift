/// Finds where an annotation belongs in a (possibly changed) article body.
///
/// The position is trusted while it still holds the quote. Otherwise the quote is
/// searched: exact occurrences first, ranked by how much of the stored prefix and suffix
/// surround them and then by distance from the old position; failing that, the closest
/// approximate match within an edit budget of a fifth of the quote. When nothing is
/// close enough the annotation is an orphan (`nil`): kept and listed, never dropped.
public enum Anchoring {
    /// Quotes longer than this are only searched exactly (fuzzy search is O(body × quote)).
    public static let fuzzyQuoteLimit = 512

    /// The range the annotation covers in `text`, or `nil` for an orphan.
    public static func anchor(_ selectors: TextSelectors, in text: ArticleText) -> Range<Int>? {
        let exact = Array(ArticleText.normalize(selectors.exact).unicodeScalars)
        guard !exact.isEmpty else { return nil }
        let start = selectors.start
        if start >= 0, start + exact.count <= text.count, selectors.end == start + exact.count,
           text.scalars[start..<selectors.end].elementsEqual(exact) {
            return start..<selectors.end
        }
        let prefix = Array(ArticleText.normalize(selectors.prefix).unicodeScalars)
        let suffix = Array(ArticleText.normalize(selectors.suffix).unicodeScalars)
        let candidates = text.occurrences(of: exact).map { $0..<$0 + exact.count }
        if let best = best(of: candidates, in: text, prefix: prefix, suffix: suffix, near: start) {
            return best
        }
        guard exact.count <= fuzzyQuoteLimit else { return nil }
        return approximateMatch(of: exact, in: text.scalars, maxEdits: max(1, exact.count / 5), near: start)
    }

    private static func best(
        of candidates: [Range<Int>], in text: ArticleText, prefix: [Unicode.Scalar], suffix: [Unicode.Scalar], near: Int
    ) -> Range<Int>? {
        candidates.min { lhs, rhs in
            let lhsContext = contextScore(lhs, text, prefix, suffix)
            let rhsContext = contextScore(rhs, text, prefix, suffix)
            if lhsContext != rhsContext { return lhsContext > rhsContext }
            return abs(lhs.lowerBound - near) < abs(rhs.lowerBound - near)
        }
    }

    /// Scalars of the stored prefix (read backwards) and suffix that match around `range`.
    private static func contextScore(
        _ range: Range<Int>, _ text: ArticleText, _ prefix: [Unicode.Scalar], _ suffix: [Unicode.Scalar]
    ) -> Int {
        var score = 0
        for (offset, scalar) in prefix.reversed().enumerated() {
            let index = range.lowerBound - 1 - offset
            guard index >= 0, text.scalars[index] == scalar else { break }
            score += 1
        }
        for (offset, scalar) in suffix.enumerated() {
            let index = range.upperBound + offset
            guard index < text.count, text.scalars[index] == scalar else { break }
            score += 1
        }
        return score
    }

    /// Sellers' approximate substring search: the substring of `text` with the fewest
    /// edits from `pattern` (at most `maxEdits`), ties broken by closeness to `near`.
    static func approximateMatch(
        of pattern: [Unicode.Scalar], in text: [Unicode.Scalar], maxEdits: Int, near: Int
    ) -> Range<Int>? {
        let m = pattern.count
        guard m > 0, !text.isEmpty else { return nil }
        // cost[i]: edits to match pattern[0..<i] ending at the current text position;
        // origin[i]: where in the text that match starts.
        var cost = Array(0...m)
        var origin = [Int](repeating: 0, count: m + 1)
        var best: (edits: Int, range: Range<Int>)?
        for (position, scalar) in text.enumerated() {
            var diagonalCost = cost[0]
            var diagonalOrigin = origin[0]
            cost[0] = 0
            origin[0] = position + 1
            for i in 1...m {
                let aboveCost = cost[i]
                let aboveOrigin = origin[i]
                var nextCost = diagonalCost + (pattern[i - 1] == scalar ? 0 : 1)
                var nextOrigin = diagonalOrigin
                if aboveCost + 1 < nextCost {
                    nextCost = aboveCost + 1
                    nextOrigin = aboveOrigin
                }
                if cost[i - 1] + 1 < nextCost {
                    nextCost = cost[i - 1] + 1
                    nextOrigin = origin[i - 1]
                }
                diagonalCost = aboveCost
                diagonalOrigin = aboveOrigin
                cost[i] = nextCost
                origin[i] = nextOrigin
            }
            let edits = cost[m]
            guard edits <= maxEdits, origin[m] <= position else { continue }
            let range = origin[m]..<position + 1
            if let current = best {
                let closer = abs(range.lowerBound - near) < abs(current.range.lowerBound - near)
                if edits < current.edits || (edits == current.edits && closer) { best = (edits, range) }
            } else {
                best = (edits, range)
            }
        }
        return best?.range
    }
}
