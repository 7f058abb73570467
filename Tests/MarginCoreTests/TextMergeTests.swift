import MarginCore
import Testing

@Suite struct TextMergeTests {
    @Test func editsToDifferentLinesMerge() {
        let merged = TextMerge.merge(base: "one\ntwo\nthree", ours: "ONE\ntwo\nthree", theirs: "one\ntwo\nTHREE")
        #expect(merged == "ONE\ntwo\nTHREE")
    }

    @Test func editsToDifferentWordsOfOneLineMerge() {
        #expect(TextMerge.merge(base: "a quick fox", ours: "a slow fox", theirs: "a quick dog") == "a slow dog")
    }

    @Test func additionsAtBothEndsMerge() {
        #expect(TextMerge.merge(base: "middle", ours: "start middle", theirs: "middle end") == "start middle end")
    }

    @Test func overlappingEditsDoNotMerge() {
        #expect(TextMerge.merge(base: "a quick fox", ours: "a slow fox", theirs: "a lazy fox") == nil)
        #expect(TextMerge.merge(base: "", ours: "mine", theirs: "yours") == nil)
    }

    @Test func theSameEditOnBothSidesIsTakenOnce() {
        #expect(TextMerge.merge(base: "x", ours: "y", theirs: "y") == "y")
        #expect(TextMerge.merge(base: "a b", ours: "a c b", theirs: "a c b") == "a c b")
    }

    @Test func anUnchangedSideTakesTheOther() {
        #expect(TextMerge.merge(base: "x", ours: "x", theirs: "z") == "z")
        #expect(TextMerge.merge(base: "x", ours: "z", theirs: "x") == "z")
    }

    @Test func vietnameseTextMergesByWord() {
        let base = "Hội nghị thượng đỉnh diễn ra tại Hà Nội"
        let merged = TextMerge.merge(
            base: base, ours: "Hội nghị thượng đỉnh Nga diễn ra tại Hà Nội", theirs: "Hội nghị thượng đỉnh diễn ra tại Huế")
        #expect(merged == "Hội nghị thượng đỉnh Nga diễn ra tại Huế")
    }
}
