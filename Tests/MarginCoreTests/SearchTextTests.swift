import MarginCore
import Testing

@Suite struct SearchTextTests {
    @Test func termsIgnoreCaseAndDiacriticsIncludingDStroke() {
        #expect(SearchText.terms(of: "Hội Nghị") == ["hoi", "nghi"])
        #expect(SearchText.terms(of: "ĐÀM phán!") == ["dam", "phan"])
        #expect(SearchText.terms(of: "ho\u{302}\u{323}i") == ["hoi"])
        #expect(SearchText.terms(of: "  --  ").isEmpty)
    }

    @Test func queryCannotInjectFTSSyntax() {
        #expect(SearchText.matchExpression(for: "a\" OR body:* NEAR(") == "\"a\" \"or\" \"body\" \"near\"")
        #expect(SearchText.matchExpression(for: "?!") == nil)
        #expect(SearchText.phraseExpression(for: "hội nghị") == "\"hoi nghi\"")
        #expect(SearchText.phraseExpression(for: "hội") == nil)
    }

    @Test func indexedTextFoldsOnlyDStroke() {
        #expect(SearchText.indexable("Đàm phán đã") == "Dàm phán dã")
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
