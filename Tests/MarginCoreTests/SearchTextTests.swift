import Foundation
import MarginCore
import Testing

@Suite struct SearchTextTests {
    @Test func termsIgnoreCaseAndDiacriticsIncludingDStroke() {
        #expect(SearchText.terms(of: "Hội Nghị") == ["hoi", "nghi"])
        #expect(SearchText.terms(of: "ĐÀM phán!") == ["dam", "phan"])
        #expect(SearchText.terms(of: "ho\u{302}\u{323}i") == ["hoi"])
        #expect(SearchText.terms(of: "  --  ").isEmpty)
    }

    @Test func searchableTextIsFoldedWordsSeparatedBySingleSpaces() {
        #expect(SearchText.searchable("“Hội nghị” thượng-đỉnh, 16/10!") == "hoi nghi thuong dinh 16 10")
        #expect(SearchText.searchable("Ærø Ǆemal Москва café") == "ærø ǆemal москва cafe")
        #expect(SearchText.searchable("") == "")
    }

    @Test func theLatinFastPathAgreesWithDecomposition() {
        for value in UInt32(0xC0)...0x24F {
            let scalar = Unicode.Scalar(value)!
            let decomposed = String(scalar).decomposedStringWithCanonicalMapping.unicodeScalars
                .filter { $0.properties.generalCategory != .nonspacingMark }
                .map { String($0).lowercased() }.joined()
            let folded = SearchText.searchable(String(scalar))
            if scalar.properties.isAlphabetic, decomposed.unicodeScalars.count == 1, scalar != "đ", scalar != "Đ" {
                #expect(folded == decomposed, "U+\(String(value, radix: 16))")
            }
        }
    }

    @Test func queryCannotInjectFTSSyntax() {
        let injected = SearchText.terms(of: "a\" OR body:* NEAR(")
        #expect(SearchText.matchExpression(terms: injected) == "\"a\" \"or\" \"body\" \"near\"")
        #expect(SearchText.matchExpression(terms: SearchText.terms(of: "?!")) == nil)
        #expect(SearchText.phraseExpression(terms: SearchText.terms(of: "hội nghị")) == "\"hoi nghi\"")
        #expect(SearchText.phraseExpression(terms: SearchText.terms(of: "hội")) == nil)
    }

    @Test func snippetMarksAdjacentMatchesAsOneRun() {
        let text = "Ông nói về việc hủy bỏ hội nghị thượng đỉnh Nga - Mỹ."
        let snippet = SearchText.snippet(of: text, terms: SearchText.terms(of: "hoi nghi thuong dinh"))
        #expect(snippet == "Ông nói về việc hủy bỏ [hội nghị thượng đỉnh] Nga - Mỹ.")
    }

    @Test func snippetMatchesWholeWordsOnly() {
        #expect(SearchText.snippet(of: "hoinghi together", terms: ["hoi"]) == nil)
    }
}
