/// Where an annotation stands in an article's text.
public enum AnchorState: String, Sendable, Hashable, CaseIterable, Codable {
    /// On its quote, where its passage is (offsets may have shifted with text put before it).
    case anchored
    /// Its passage was moved within the article, and found there by its quote.
    case moved
    /// Its passage was edited: an approximate match whose context agrees, shown with the old quote.
    case changed
    /// Its passage is gone, or could be in more than one place: kept and listed, never placed.
    case orphaned
}

/// What anchoring decided: the state and, unless orphaned, the range in the text.
public struct Anchor: Sendable, Hashable {
    public var state: AnchorState
    /// Scalar positions in the text; `nil` exactly when orphaned.
    public var range: Range<Int>?

    public static let orphan = Anchor(state: .orphaned, range: nil)

    public init(state: AnchorState, range: Range<Int>?) {
        self.state = state
        self.range = range
    }
}

/// How many annotations stand in each state: what an article update reports.
public struct AnchorCounts: Sendable, Hashable, Codable {
    public var anchored = 0
    public var moved = 0
    public var changed = 0
    public var orphaned = 0

    public init() {}

    /// Counts one more annotation in `state`.
    public mutating func add(_ state: AnchorState) {
        switch state {
        case .anchored: anchored += 1
        case .moved: moved += 1
        case .changed: changed += 1
        case .orphaned: orphaned += 1
        }
    }

    public var total: Int { anchored + moved + changed + orphaned }
}

/// Finds where an annotation belongs in an article's text, and never guesses.
///
/// Comparisons fold what does not change the words: a run of white space is one space,
/// curly quotes are straight ones. A quote is "short" below `shortQuote` scalars; short
/// quotes are only ever matched exactly.
///
/// With the text the annotation was made on (`previous`), its passage is carried through a
/// diff of the two texts, and each occurrence of the quote in the new text is traced to the
/// occurrence in the old text it came from (the diff keeps some in place; the others share
/// their surroundings with one more than with any other). The annotation is `anchored` on
/// the occurrence traced to its passage where the diff puts the passage; `changed` when
/// there is none there but most of the passage, and of its prefix and suffix, survived (not
/// for short quotes); `moved` to the one occurrence traced to its passage elsewhere. An
/// occurrence kept in place of another passage is that passage's, never this one's; a short
/// quote must share `sharedForShortQuote` scalars of surroundings on each side.
///
/// Without it (a record whose text is unknown, or a highlight from another tool) the
/// position is trusted when it holds the quote and its context; otherwise the quote is
/// searched, and an occurrence fits when at least half of the stored prefix and of the
/// suffix agree around it. One fitting occurrence is taken; of several, only one whose
/// context agrees in full while the others' agrees less. A quote that is no longer there
/// exactly is `changed` when its whole prefix and suffix are found once, a fifth of the
/// quote's length apart at most from where it would end, and most of the quote survives
/// between them. Anything else is an orphan. The result depends on the selectors and the
/// texts alone, so every machine anchors an annotation the same way.
public enum Anchoring {
    /// Quotes shorter than this (in folded scalars) are only matched exactly.
    public static let shortQuote = 20
    /// Scalars of surroundings a short quote must share with its passage on each side.
    static let sharedForShortQuote = 8
    /// How far on each side surroundings are compared.
    static let surroundings = 64

    /// Where the annotation with `selectors` belongs in `text`; `previous` is the text its
    /// selectors were made on, when known and different.
    public static func anchor(_ selectors: TextSelectors, in text: ArticleText, previous: ArticleText? = nil) -> Anchor {
        let exact = Array(ArticleText.normalize(selectors.exact).unicodeScalars)
        guard !exact.isEmpty else { return .orphan }
        let stored = selectors.start..<selectors.end
        if previous == nil || previous == text, holds(exact, at: stored, in: text.scalars, selectors) {
            return Anchor(state: .anchored, range: stored)
        }
        let quote = Selectors(selectors)
        guard !quote.exact.isEmpty else { return .orphan }
        let new = FoldedText(text.scalars)
        if let previous, previous != text {
            let old = FoldedText(previous.scalars)
            let found = holds(exact, at: stored, in: previous.scalars, selectors)
                ? stored
                : anchor(selectors, in: previous).range
            if let found {
                return carry(quote, from: old, passage: old.folded(found), to: new)
            }
        }
        return search(quote, in: new, stored: stored)
    }

    // MARK: - Through a diff

    private static func carry(_ quote: Selectors, from old: FoldedText, passage: Range<Int>, to new: FoldedText) -> Anchor {
        let diff = TextDiff(old: old.scalars, new: new.scalars)
        let window = diff.window(for: passage)
        // Each occurrence of the quote in the new text is traced to the old occurrence it
        // came from: the one whose surroundings it shares, on both sides, at least as much as
        // any other's and more on one side. An occurrence the diff keeps in place of another
        // is that one's. A short quote must also share `sharedForShortQuote` scalars on each side.
        let passages = old.occurrences(of: quote.exact)
        let candidates = new.occurrences(of: quote.exact).filter { candidate in
            if let start = diff.oldPosition(ofNew: candidate.lowerBound), let last = diff.oldPosition(ofNew: candidate.upperBound - 1),
               last - start + 1 == candidate.count, start != passage.lowerBound {
                return false
            }
            let mine = old.sharedSurroundings(of: passage, with: new, at: candidate)
            if quote.isShort {
                let before = min(sharedForShortQuote, passage.lowerBound, candidate.lowerBound)
                let after = min(sharedForShortQuote, old.scalars.count - passage.upperBound, new.scalars.count - candidate.upperBound)
                guard mine.before >= before, mine.after >= after else { return false }
            }
            return passages.allSatisfy { other in
                guard other != passage else { return true }
                let theirs = old.sharedSurroundings(of: other, with: new, at: candidate)
                return mine.before >= theirs.before && mine.after >= theirs.after
                    && (mine.before > theirs.before || mine.after > theirs.after)
            }
        }
        // Where the diff puts the passage, or an occurrence overlapping that place (the diff
        // may have read an edit next to it as cutting into it).
        let near = candidates.filter { $0.overlaps(window) || $0 == window }
        if near.count == 1, let range = near.first {
            return Anchor(state: .anchored, range: new.original(range))
        }
        if new.scalars[window].elementsEqual(quote.exact) { return .orphan }
        if !quote.isShort {
            let before = max(0, passage.lowerBound - quote.prefix.count)..<passage.lowerBound
            let after = passage.upperBound..<min(old.scalars.count, passage.upperBound + quote.suffix.count)
            let trimmed = new.trimmed(window)
            if isMost(diff.survivors(of: passage), of: passage.count), isNear(trimmed.count, passage.count),
               diff.survivors(of: before) * 2 >= before.count, diff.survivors(of: after) * 2 >= after.count {
                return Anchor(state: .changed, range: new.original(trimmed))
            }
        }
        guard candidates.count == 1, let range = candidates.first else { return .orphan }
        return Anchor(state: .moved, range: new.original(range))
    }

    // MARK: - By quote and context

    private static func search(_ quote: Selectors, in text: FoldedText, stored: Range<Int>) -> Anchor {
        let fits = text.occurrences(of: quote.exact)
            .map { (range: $0, context: text.context(around: $0, quote)) }
            .filter(\.context.bothSidesAgree)
        let chosen = fits.count == 1 ? fits.first?.range : clearlyBest(fits)
        if let chosen {
            let range = text.original(chosen)
            return Anchor(state: range == stored ? .anchored : .moved, range: range)
        }
        guard fits.isEmpty, !quote.isShort, let range = bracketed(quote, in: text) else { return .orphan }
        return Anchor(state: .changed, range: text.original(range))
    }

    /// The one place whose context agrees in full while every other's agrees less.
    private static func clearlyBest(_ fits: [(range: Range<Int>, context: Context)]) -> Range<Int>? {
        let ranked = fits.sorted { $0.context.agreement > $1.context.agreement }
        guard let best = ranked.first, best.context.isFull else { return nil }
        if ranked.count > 1, ranked[1].context.agreement == best.context.agreement { return nil }
        return best.range
    }

    /// The text between the only pair of the whole prefix and the whole suffix that sits
    /// about a quote's length apart, when most of the quote survives in it.
    private static func bracketed(_ quote: Selectors, in text: FoldedText) -> Range<Int>? {
        guard quote.prefix.count >= 8, quote.suffix.count >= 8 else { return nil }
        let suffixes = text.occurrences(of: quote.suffix).map(\.lowerBound)
        var found: [Range<Int>] = []
        for prefix in text.occurrences(of: quote.prefix) {
            for suffix in suffixes where suffix >= prefix.upperBound && isNear(suffix - prefix.upperBound, quote.exact.count) {
                found.append(prefix.upperBound..<suffix)
            }
        }
        guard found.count == 1, let range = found.first else { return nil }
        let between = Array(text.scalars[range])
        let diff = TextDiff(old: quote.exact, new: between)
        guard isMost(diff.survivors(of: 0..<quote.exact.count), of: quote.exact.count) else { return nil }
        let trimmed = text.trimmed(range)
        return trimmed.isEmpty ? nil : trimmed
    }

    private static func isMost(_ part: Int, of whole: Int) -> Bool { part * 5 >= whole * 4 }

    /// Whether `length` is within a fifth of `expected` (either way).
    private static func isNear(_ length: Int, _ expected: Int) -> Bool {
        length * 5 >= expected * 4 && length * 4 <= expected * 5
    }

    /// Whether the raw `text` holds `exact` at `range` with its context around it (for
    /// short quotes; a long quote at its own position is evidence enough).
    private static func holds(_ exact: [Unicode.Scalar], at range: Range<Int>, in text: [Unicode.Scalar], _ selectors: TextSelectors) -> Bool {
        guard range.lowerBound >= 0, range.upperBound <= text.count, range.count == exact.count,
              text[range].elementsEqual(exact) else { return false }
        if exact.count >= shortQuote { return true }
        let prefix = Array(ArticleText.normalize(selectors.prefix).unicodeScalars)
        let suffix = Array(ArticleText.normalize(selectors.suffix).unicodeScalars)
        return text[max(0, range.lowerBound - prefix.count)..<range.lowerBound].elementsEqual(prefix.suffix(range.lowerBound))
            && text[range.upperBound..<min(text.count, range.upperBound + suffix.count)].elementsEqual(suffix.prefix(text.count - range.upperBound))
    }

    // MARK: - Folded text

    /// An annotation's quote and context, folded.
    struct Selectors {
        var exact: [Unicode.Scalar]
        var prefix: [Unicode.Scalar]
        var suffix: [Unicode.Scalar]

        init(_ selectors: TextSelectors) {
            exact = FoldedText.fold(ArticleText.normalize(selectors.exact).unicodeScalars)
            prefix = FoldedText.fold(ArticleText.normalize(selectors.prefix).unicodeScalars)
            suffix = FoldedText.fold(ArticleText.normalize(selectors.suffix).unicodeScalars)
        }

        var isShort: Bool { exact.count < Anchoring.shortQuote }
    }

    /// How much of the stored context agrees around a place: scalars of the prefix matched
    /// backwards from the place, of the suffix forwards.
    struct Context {
        var prefix: Int, prefixLength: Int
        var suffix: Int, suffixLength: Int

        var agreement: Int { prefix + suffix }
        var isFull: Bool { prefix == prefixLength && suffix == suffixLength }
        var bothSidesAgree: Bool { prefix * 2 >= prefixLength && suffix * 2 >= suffixLength }
    }
}

/// A text with what does not change its words folded away (each run of white space one
/// space, curly quotes straight), remembering where each folded scalar came from.
struct FoldedText {
    private(set) var scalars: [Unicode.Scalar] = []
    /// Folded scalar `i` stands for original scalars `starts[i]..<ends[i]`.
    private var starts: [Int] = []
    private var ends: [Int] = []

    init(_ original: [Unicode.Scalar]) {
        scalars.reserveCapacity(original.count)
        for (index, scalar) in original.enumerated() {
            let folded = Self.fold(scalar)
            if folded == " ", scalars.last == " " {
                ends[ends.count - 1] = index + 1
                continue
            }
            scalars.append(folded)
            starts.append(index)
            ends.append(index + 1)
        }
    }

    static func fold(_ text: some Sequence<Unicode.Scalar>) -> [Unicode.Scalar] {
        var folded: [Unicode.Scalar] = []
        for scalar in text {
            let scalar = fold(scalar)
            if scalar == " ", folded.last == " " { continue }
            folded.append(scalar)
        }
        return folded
    }

    private static func fold(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        switch scalar.value {
        case 0x2018, 0x2019, 0x201A, 0x201B, 0x2032: "'"
        case 0x201C, 0x201D, 0x201E, 0x201F, 0x2033, 0x00AB, 0x00BB: "\""
        default: scalar.properties.isWhitespace ? " " : scalar
        }
    }

    /// The original range the folded `range` stands for.
    func original(_ range: Range<Int>) -> Range<Int> {
        guard !range.isEmpty else { return range.lowerBound < starts.count ? starts[range.lowerBound]..<starts[range.lowerBound] : 0..<0 }
        return starts[range.lowerBound]..<ends[range.upperBound - 1]
    }

    /// The folded range that covers the original `range`.
    func folded(_ range: Range<Int>) -> Range<Int> {
        let start = index(containing: range.lowerBound)
        let end = range.isEmpty ? start : index(containing: range.upperBound - 1) + 1
        return start..<end
    }

    private func index(containing position: Int) -> Int {
        var low = 0, high = ends.count
        while low < high {
            let middle = (low + high) / 2
            if ends[middle] <= position { low = middle + 1 } else { high = middle }
        }
        return min(low, max(0, scalars.count - 1))
    }

    /// `range` without the spaces at its ends.
    func trimmed(_ range: Range<Int>) -> Range<Int> {
        var range = range.clamped(to: 0..<scalars.count)
        while let first = range.first, scalars[first] == " " { range = range.dropFirst() }
        while let last = range.last, scalars[last] == " " { range = range.dropLast() }
        return range
    }

    /// Every range where `needle` occurs, in order.
    func occurrences(of needle: [Unicode.Scalar]) -> [Range<Int>] {
        guard let first = needle.first, needle.count <= scalars.count else { return [] }
        var found: [Range<Int>] = []
        for start in 0...(scalars.count - needle.count) where scalars[start] == first {
            if scalars[start..<start + needle.count].elementsEqual(needle) { found.append(start..<start + needle.count) }
        }
        return found
    }

    /// How many scalars before and after `range` here equal those around `other` in `text`
    /// (up to `Anchoring.surroundings` on each side).
    func sharedSurroundings(of range: Range<Int>, with text: FoldedText, at other: Range<Int>) -> (before: Int, after: Int) {
        var before = 0
        while before < Anchoring.surroundings, range.lowerBound - 1 - before >= 0, other.lowerBound - 1 - before >= 0,
              scalars[range.lowerBound - 1 - before] == text.scalars[other.lowerBound - 1 - before] { before += 1 }
        var after = 0
        while after < Anchoring.surroundings, range.upperBound + after < scalars.count, other.upperBound + after < text.scalars.count,
              scalars[range.upperBound + after] == text.scalars[other.upperBound + after] { after += 1 }
        return (before, after)
    }

    func context(around range: Range<Int>, _ quote: Anchoring.Selectors) -> Anchoring.Context {
        var prefix = 0
        while prefix < quote.prefix.count, range.lowerBound - 1 - prefix >= 0,
              scalars[range.lowerBound - 1 - prefix] == quote.prefix[quote.prefix.count - 1 - prefix] { prefix += 1 }
        var suffix = 0
        while suffix < quote.suffix.count, range.upperBound + suffix < scalars.count,
              scalars[range.upperBound + suffix] == quote.suffix[suffix] { suffix += 1 }
        return Anchoring.Context(prefix: prefix, prefixLength: quote.prefix.count, suffix: suffix, suffixLength: quote.suffix.count)
    }
}
