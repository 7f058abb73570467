import MarginCore
import Testing

@Suite struct TextSelectorsTests {
    // "👨‍👩‍👧" is 5 scalars in 1 grapheme, "🇻🇳" 2 scalars, "ệ" 1 scalar (NFC), "q̣̇" 3 scalars.
    let text = ArticleText("A 👨‍👩‍👧 family, 🇻🇳 flag, tiệc q\u{307}\u{323} end.")

    @Test func positionsCountUnicodeScalarsNotGraphemesOrUTF16() {
        let needle = Array("family".unicodeScalars)
        let start = text.occurrences(of: needle)
        #expect(start == [8])  // "A " (2) + family emoji (5) + " " (1)
        let flag = text.occurrences(of: Array("flag".unicodeScalars))
        #expect(flag == [19])  // + "family, " (8) + flag (2) + " " (1)
        #expect(text.string.utf16.count != text.count)
        #expect(text.string.count != text.count)
    }

    @Test func selectorsCarryQuoteAndContext() {
        let start = text.occurrences(of: Array("tiệc".unicodeScalars))[0]
        let selectors = text.selectors(for: start..<start + 4)
        #expect(selectors.exact == "tiệc")
        #expect(selectors.start == start)
        #expect(selectors.end == start + 4)
        #expect(selectors.prefix == text.text(in: 0..<start))
        #expect(selectors.suffix == " q\u{307}\u{323} end.")
    }

    @Test func contextIsCappedAt32Scalars() {
        let long = ArticleText(String(repeating: "x", count: 100) + "MID" + String(repeating: "y", count: 100))
        let selectors = long.selectors(for: 100..<103)
        #expect(selectors.prefix == String(repeating: "x", count: 32))
        #expect(selectors.suffix == String(repeating: "y", count: 32))
    }

    @Test func rangeCanSplitAGraphemeClusterByScalars() {
        // Offsets 2..<4 are the first two scalars of the family emoji.
        #expect(text.text(in: 2..<4).unicodeScalars.map(\.value) == [0x1F468, 0x200D])
    }
}
