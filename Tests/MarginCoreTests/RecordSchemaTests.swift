@testable import MarginCore
import Testing

@Suite struct RecordSchemaTests {
    @Test func textsMustBeNFCByteForByte() throws {
        let composed = "Hội nghị"
        let decomposed = String(String.UnicodeScalarView(composed.decomposedScalars))
        #expect(decomposed == composed)  // Swift compares canonically…
        #expect(!decomposed.utf8.elementsEqual(composed.utf8))  // …but the bytes differ.

        #expect(throws: Never.self) { try RecordSchema.validate(.text(composed), field: "note", of: .annotation) }
        #expect(throws: MarginError.self) { try RecordSchema.validate(.text(decomposed), field: "note", of: .annotation) }
        #expect(throws: MarginError.self) { try RecordSchema.validate(.text(decomposed), field: "title", of: .article) }
    }

    @Test func createsNeedEveryFieldAndUpdatesOnlyMutableOnes() {
        let id = "01900000-0000-7000-8000-000000000001"
        let create = WireChange(seq: 1, entity: .annotation, id: id, op: .create, baseVersion: 0, hlc: 0, fields: [
            "note": .init(old: .null, new: .text("x")),
        ])
        let update = WireChange(seq: 1, entity: .annotation, id: id, op: .update, baseVersion: 1, hlc: 0, fields: [
            "start": .init(old: .integer(0), new: .integer(5)),
        ])
        let conflictCreate = WireChange(seq: 1, entity: .conflict, id: id, op: .create, baseVersion: 0, hlc: 0, fields: [:])
        #expect(throws: MarginError.self) { try RecordSchema.validate(create) }
        #expect(throws: MarginError.self) { try RecordSchema.validate(update) }
        #expect(throws: MarginError.self) { try RecordSchema.validate(conflictCreate) }
    }

    @Test func everyScalarOfTheQuickCheckRangesIsUnchangedByNFC() {
        for range in RecordSchema.quickCheckRanges {
            for value in range {
                guard let scalar = Unicode.Scalar(value) else { continue }
                #expect(scalar.properties.canonicalCombiningClass == .notReordered, "U+\(String(value, radix: 16))")
                let text = String(Character(scalar))
                #expect(ArticleText.normalize(text).utf8.elementsEqual(text.utf8), "U+\(String(value, radix: 16))")
            }
        }
    }

}

private extension String {
    var decomposedScalars: [Unicode.Scalar] {
        // NFD of the Vietnamese letters used here: base letter + combining marks.
        unicodeScalars.flatMap { scalar -> [Unicode.Scalar] in
            switch scalar {
            case "ộ": ["o", "\u{323}", "\u{302}"]
            case "ị": ["i", "\u{323}"]
            default: [scalar]
            }
        }
    }
}
