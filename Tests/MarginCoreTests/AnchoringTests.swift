@testable import MarginCore
import MarginTestSupport
import Testing

/// Re-anchoring on a corpus of revisions: each case highlights a passage of one text, changes
/// the text, and asserts the state and the range the annotation ends with. No case where a
/// look-alike stays may end anchored on it.
@Suite struct AnchoringTests {
    /// The result of highlighting occurrence `occurrence` of `quote` in `old` and anchoring it
    /// in `new`, with the old text known (`knowingOld`) or not.
    static func reanchor(
        _ quote: String, occurrence: Int = 0, from old: String, to new: String, knowingOld: Bool = true
    ) throws -> (anchor: Anchor, text: ArticleText) {
        let old = ArticleText(old), new = ArticleText(new)
        let starts = old.occurrences(of: Array(quote.unicodeScalars))
        try #require(starts.count > occurrence, "the quote is in the old text")
        let selectors = old.selectors(for: starts[occurrence]..<starts[occurrence] + quote.unicodeScalars.count)
        return (Anchoring.anchor(selectors, in: new, previous: knowingOld ? old : nil), new)
    }

    /// The range of occurrence `occurrence` of `quote` in `text`.
    static func range(of quote: String, occurrence: Int = 0, in text: ArticleText) -> Range<Int>? {
        let starts = text.occurrences(of: Array(quote.unicodeScalars))
        guard starts.count > occurrence else { return nil }
        return starts[occurrence]..<starts[occurrence] + quote.unicodeScalars.count
    }

    static let article = """
        The council met on Monday to discuss the new library on Hill Street.

        Team Alpha won the match on Sunday after a late goal. Team Beta won the match on Sunday as well, in the other group.

        Robin spoke first. Later, Robin answered questions from the press about the budget.

        The mayor said the budget "would be balanced" by next year, and the library would open in spring.
        """

    @Test func anUnchangedTextKeepsEveryHighlightWhereItIs() throws {
        for quote in ["won the match on Sunday", "Robin", "would be balanced"] {
            let (anchor, text) = try Self.reanchor(quote, from: Self.article, to: Self.article)
            #expect(anchor == Anchor(state: .anchored, range: Self.range(of: quote, in: text)), "\(quote)")
        }
    }

    @Test func anInsertedParagraphShiftsTheHighlightAndKeepsItAnchored() throws {
        let new = "A correction was added on Tuesday.\n\n" + Self.article
        let (anchor, text) = try Self.reanchor("Robin", occurrence: 1, from: Self.article, to: new)
        #expect(anchor == Anchor(state: .anchored, range: Self.range(of: "Robin", occurrence: 1, in: text)))
    }

    @Test func aDeletedParagraphBeforeShiftsTheHighlightBack() throws {
        let new = Self.article.replacingOccurrences(of: "The council met on Monday to discuss the new library on Hill Street.\n\n", with: "")
        let (anchor, text) = try Self.reanchor("answered questions from the press", from: Self.article, to: new)
        #expect(anchor == Anchor(state: .anchored, range: Self.range(of: "answered questions from the press", in: text)))
    }

    @Test func aSentenceEditedAroundTheHighlightLeavesItAnchored() throws {
        let new = Self.article.replacingOccurrences(of: "Later, Robin answered questions from the press about the budget.",
                                                    with: "On Tuesday afternoon, Robin answered questions from the press about taxes and the budget.")
        let (anchor, text) = try Self.reanchor("answered questions from the press", from: Self.article, to: new)
        #expect(anchor == Anchor(state: .anchored, range: Self.range(of: "answered questions from the press", in: text)))
    }

    @Test func anEditInsideTheHighlightMakesItChangedOverTheEditedPassage() throws {
        let new = Self.article.replacingOccurrences(of: "answered questions from the press", with: "answered many questions from the press")
        let (anchor, text) = try Self.reanchor("Robin answered questions from the press", from: Self.article, to: new)
        #expect(anchor == Anchor(state: .changed, range: Self.range(of: "Robin answered many questions from the press", in: text)))
    }

    @Test func anEditInsideAShortQuoteOrphansIt() throws {
        let new = Self.article.replacingOccurrences(of: "new library on", with: "old library on")
        let (anchor, _) = try Self.reanchor("new library", from: Self.article, to: new)
        #expect(anchor == .orphan)
    }

    @Test func aRewrittenHighlightIsOrphaned() throws {
        let new = Self.article.replacingOccurrences(of: "answered questions from the press about the budget", with: "left without a word")
        let (anchor, _) = try Self.reanchor("answered questions from the press", from: Self.article, to: new)
        #expect(anchor == .orphan)
    }

    @Test func aMovedParagraphTakesItsHighlightAlong() throws {
        let paragraphs = Self.article.components(separatedBy: "\n\n")
        let new = [paragraphs[0], paragraphs[3], paragraphs[1], paragraphs[2]].joined(separator: "\n\n")
        // Which paragraphs moved is the diff's reading (here: the last one, or the two
        // before it); either way every highlight is on its own words.
        for quote in ["Robin answered questions", "would be balanced", "Robin"] {
            let occurrence = quote == "Robin" ? 1 : 0
            let (anchor, text) = try Self.reanchor(quote, occurrence: occurrence, from: Self.article, to: new)
            #expect([.anchored, .moved].contains(anchor.state), "\(quote)")
            #expect(anchor.range == Self.range(of: quote, occurrence: occurrence, in: text), "\(quote)")
        }
    }

    @Test func aWholeParagraphHighlightedAndMovedIsFound() throws {
        let paragraphs = Self.article.components(separatedBy: "\n\n")
        let new = [paragraphs[2], paragraphs[0], paragraphs[1], paragraphs[3]].joined(separator: "\n\n")
        let (anchor, text) = try Self.reanchor(paragraphs[2], from: Self.article, to: new)
        #expect(anchor == Anchor(state: .moved, range: Self.range(of: paragraphs[2], in: text)))
    }

    @Test func aDeletedPassageNextToALookAlikeIsOrphanedNotMovedToIt() throws {
        let new = Self.article.replacingOccurrences(of: "Team Alpha won the match on Sunday after a late goal. ", with: "")
        let (anchor, _) = try Self.reanchor("won the match on Sunday", from: Self.article, to: new)
        #expect(anchor == .orphan)
        // Without the old text, the look-alike's context does not fit either.
        let (blind, _) = try Self.reanchor("won the match on Sunday", from: Self.article, to: new, knowingOld: false)
        #expect(blind == .orphan)
    }

    @Test func aDeletedNameWithTheSameNameElsewhereIsOrphaned() throws {
        let new = Self.article.replacingOccurrences(of: "Robin spoke first. ", with: "")
        let (anchor, _) = try Self.reanchor("Robin", from: Self.article, to: new)
        #expect(anchor == .orphan)
        let (blind, _) = try Self.reanchor("Robin", from: Self.article, to: new, knowingOld: false)
        #expect(blind == .orphan)
    }

    @Test func aRepeatedShortQuoteStaysOnItsOwnOccurrence() throws {
        let new = Self.article.replacingOccurrences(of: "Robin spoke first.", with: "Robin, the treasurer, spoke first and at length.")
        let (second, text) = try Self.reanchor("Robin", occurrence: 1, from: Self.article, to: new)
        #expect(second == Anchor(state: .anchored, range: Self.range(of: "Robin", occurrence: 1, in: text)))
        // A short quote needs its surroundings on both sides: the first "Robin" lost them after it.
        let (first, _) = try Self.reanchor("Robin", occurrence: 0, from: Self.article, to: new)
        #expect(first == .orphan)
        let (longer, _) = try Self.reanchor("Robin spoke first.", occurrence: 0, from: Self.article, to: new)
        #expect(longer == .orphan)
    }

    @Test func aPassageRepeatedVerbatimIsOrphanedWhenItsOwnCopyGoes() throws {
        let old = "One.\n\nThe river rose again overnight.\n\nTwo.\n\nThe river rose again overnight.\n\nThree."
        let new = "One.\n\nTwo.\n\nThe river rose again overnight.\n\nThree."
        let (anchor, _) = try Self.reanchor("The river rose again overnight.", occurrence: 0, from: old, to: new)
        #expect(anchor == .orphan)
        let (other, text) = try Self.reanchor("The river rose again overnight.", occurrence: 1, from: old, to: new)
        #expect(other == Anchor(state: .anchored, range: Self.range(of: "The river rose again overnight.", in: text)))
    }

    @Test func curlyQuotesAndWhitespaceChangesKeepTheHighlightAnchored() throws {
        let new = Self.article
            .replacingOccurrences(of: "\"would be balanced\"", with: "“would be balanced”")
            .replacingOccurrences(of: "The mayor said the budget", with: "The mayor  said\nthe budget")
        let (anchor, text) = try Self.reanchor("mayor said the budget \"would be balanced\"", from: Self.article, to: new)
        #expect(anchor.state == .anchored)
        #expect(anchor.range.map { text.text(in: $0) } == "mayor  said\nthe budget “would be balanced”")
    }

    @Test func withoutTheOldTextAShiftedPassageIsFoundByItsContext() throws {
        let new = "A correction was added on Tuesday.\n\n" + Self.article
        let (anchor, text) = try Self.reanchor("Robin", occurrence: 1, from: Self.article, to: new, knowingOld: false)
        #expect(anchor == Anchor(state: .moved, range: Self.range(of: "Robin", occurrence: 1, in: text)))
    }

    @Test func withoutTheOldTextAnEditedPassageBetweenItsContextIsChanged() throws {
        let new = Self.article.replacingOccurrences(of: "answered questions from the press", with: "answered many questions from the press")
        let (anchor, text) = try Self.reanchor("answered questions from the press", from: Self.article, to: new, knowingOld: false)
        #expect(anchor == Anchor(state: .changed, range: Self.range(of: "answered many questions from the press", in: text)))
    }

    @Test func aQuoteWithoutContextIsTakenOnlyWhereItIsAlone() {
        let text = ArticleText(Self.article)
        let unique = TextSelectors(start: 0, end: 0, exact: "answered questions", prefix: "", suffix: "")
        #expect(Anchoring.anchor(unique, in: text) == Anchor(state: .moved, range: Self.range(of: "answered questions", in: text)))
        let twice = TextSelectors(start: 0, end: 0, exact: "won the match on Sunday", prefix: "", suffix: "")
        #expect(Anchoring.anchor(twice, in: text) == .orphan)
    }

    // MARK: - Randomized

    /// Random revisions of random texts, whose generator knows where each highlighted
    /// passage went: every annotation ends exactly there, or orphaned when the passage was
    /// deleted — never anywhere else. Words come from a small vocabulary, so look-alike
    /// passages abound; added text uses words of its own.
    @Test func randomRevisionsLeaveEveryHighlightWhereItsPassageWentOrOrphaned() throws {
        // Passages still there but orphaned, and all passages still there, by short or long quote.
        var orphaned = [false: 0, true: 0], intact = [false: 0, true: 0]
        for seed in Fuzz.seeds(count: Fuzz.rounds(ci: 400)) {
            var random = SeededGenerator(seed: seed)
            var revision = Revision(random: &random)
            let old = revision.text
            let highlights = revision.highlight(using: &random)
            revision.edit(using: &random)
            let new = revision.text
            let replay = Fuzz.replay(seed, suite: "AnchoringTests")
            for highlight in highlights {
                let anchor = Anchoring.anchor(old.text.selectors(for: highlight.range), in: new.text, previous: old.text)
                // Edits never split a highlight: its words are all there, in a row, or gone.
                let went = new.ranges[highlight.words.first!].flatMap { first in
                    new.ranges[highlight.words.last!].map { first.lowerBound..<$0.upperBound }
                }
                guard let went else {
                    #expect(anchor == .orphan, "a deleted passage ended \(anchor); \(replay)")
                    continue
                }
                let short = highlight.range.count < Anchoring.shortQuote
                intact[short, default: 0] += 1
                if anchor.state == .orphaned {
                    orphaned[short, default: 0] += 1
                } else {
                    #expect([.anchored, .moved].contains(anchor.state) && anchor.range == went, "\(anchor), not \(went); \(replay)")
                }
            }
        }
        // Orphaning a passage that is still there is safe but unhelpful: it stays rare for
        // long quotes. Short ones need their surroundings on both sides, which the many
        // one-word edits here often change.
        #expect(orphaned[false]! * 50 <= intact[false]!, "\(orphaned[false]!) of \(intact[false]!) long quotes still there orphaned")
        #expect(orphaned[true]! * 4 <= intact[true]!, "\(orphaned[true]!) of \(intact[true]!) short quotes still there orphaned")
    }

    /// A text of paragraphs of words, each word with an identity, so that a highlighted
    /// passage can be followed through edits.
    struct Revision {
        static let vocabulary = ["the", "river", "council", "said", "new", "bridge", "will", "open", "in", "spring",
                                 "and", "city", "plans", "a", "vote", "on", "it", "later", "this", "year"]
        var paragraphs: [[(id: Int, word: String)]] = []
        private var nextId = 0

        init(random: inout SeededGenerator) {
            for _ in 0..<Int.random(in: 3...8, using: &random) {
                paragraphs.append((0..<Int.random(in: 8...30, using: &random)).map { _ in word(Self.vocabulary.randomElement(using: &random)!) })
            }
        }

        private mutating func word(_ text: String) -> (id: Int, word: String) {
            nextId += 1
            return (nextId, text)
        }

        private mutating func fresh(_ count: Int) -> [(id: Int, word: String)] {
            (0..<count).map { _ in word("novel\(nextId)") }
        }

        /// The text, with where each word id stands.
        var text: (text: ArticleText, ranges: [Int: Range<Int>]) {
            var string = "", ranges: [Int: Range<Int>] = [:]
            for (index, paragraph) in paragraphs.enumerated() {
                if index > 0 { string += "\n\n" }
                for (position, word) in paragraph.enumerated() {
                    if position > 0 { string += " " }
                    let start = string.unicodeScalars.count
                    string += word.word
                    ranges[word.id] = start..<string.unicodeScalars.count
                }
                string += "."
            }
            return (ArticleText(string), ranges)
        }

        /// Highlights of 1–8 words, apart from each other: their word ids, and their ranges now.
        mutating func highlight(using random: inout SeededGenerator) -> [(words: [Int], range: Range<Int>)] {
            let ranges = text.ranges
            var taken = Set<Int>()
            var highlights: [(words: [Int], range: Range<Int>)] = []
            for _ in 0..<Int.random(in: 1...5, using: &random) {
                let paragraph = paragraphs.randomElement(using: &random)!
                let length = Int.random(in: 1...min(8, paragraph.count), using: &random)
                let start = Int.random(in: 0...(paragraph.count - length), using: &random)
                let words = paragraph[start..<start + length].map(\.id)
                guard taken.isDisjoint(with: words) else { continue }
                taken.formUnion(words)
                highlights.append((words, ranges[words.first!]!.lowerBound..<ranges[words.last!]!.upperBound))
            }
            self.highlighted = taken
            self.highlights = highlights.map(\.words)
            return highlights
        }

        private var highlighted = Set<Int>()
        private var highlights: [[Int]] = []

        /// 1–6 edits: paragraphs added, deleted or moved; words added or replaced outside the
        /// highlights; words deleted (a highlight they touch goes with them, whole).
        mutating func edit(using random: inout SeededGenerator) {
            for _ in 0..<Int.random(in: 1...6, using: &random) {
                let p = Int.random(in: 0..<paragraphs.count, using: &random)
                switch Int.random(in: 0..<6, using: &random) {
                case 0:
                    paragraphs.insert(fresh(Int.random(in: 5...15, using: &random)), at: Int.random(in: 0...paragraphs.count, using: &random))
                case 1 where paragraphs.count > 1:
                    paragraphs.remove(at: p)
                case 2 where paragraphs.count > 1:
                    let moved = paragraphs.remove(at: p)
                    paragraphs.insert(moved, at: Int.random(in: 0...paragraphs.count, using: &random))
                case 3:
                    let at = Int.random(in: 0...paragraphs[p].count, using: &random)
                    guard !insideHighlight(paragraph: p, at: at) else { continue }
                    paragraphs[p].insert(contentsOf: fresh(Int.random(in: 1...4, using: &random)), at: at)
                case 4:
                    let at = Int.random(in: 0..<paragraphs[p].count, using: &random)
                    guard !highlighted.contains(paragraphs[p][at].id) else { continue }
                    paragraphs[p][at] = fresh(1)[0]
                default:
                    guard paragraphs[p].count > 3 else { continue }
                    let start = Int.random(in: 0..<paragraphs[p].count - 1, using: &random)
                    var gone = Set(paragraphs[p][start..<min(paragraphs[p].count - 1, start + Int.random(in: 1...5, using: &random))].map(\.id))
                    for highlight in highlights where !gone.isDisjoint(with: highlight) { gone.formUnion(highlight) }
                    paragraphs[p].removeAll { gone.contains($0.id) }
                    if paragraphs[p].isEmpty { paragraphs.remove(at: p) }
                }
            }
        }

        /// Whether a word put at `at` in paragraph `p` would fall inside a highlight.
        private func insideHighlight(paragraph p: Int, at: Int) -> Bool {
            guard at > 0, at < paragraphs[p].count else { return false }
            let before = paragraphs[p][at - 1].id, after = paragraphs[p][at].id
            return highlights.contains { $0.contains(before) && $0.contains(after) }
        }
    }
}
