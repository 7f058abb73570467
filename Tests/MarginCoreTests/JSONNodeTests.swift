@testable import MarginCore
import Testing

@Suite struct JSONNodeTests {
    @Test func parsesEveryKindOfValue() throws {
        let node = try JSONNode.parse(#" {"a": [1, -2, 3.5e2, true, false, null], "b": {"c": "d"}} "#)
        #expect(node == .object([
            ("a", .array([.integer(1), .integer(-2), .number(350), .bool(true), .bool(false), .null])),
            ("b", .object([("c", .string("d"))])),
        ]))
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let node = try JSONNode.parse(#""Hà\u0020Nội \"\\\/\n\t \ud83d\ude00 đ""#)
        #expect(node == .string("Hà Nội \"\\/\n\t 😀 đ"))
    }

    @Test func writerOutputReadsBackUnchanged() throws {
        let fields: [String: FieldValue] = [
            "note": .text("dòng 1\ndòng \"2\"\t\u{1}"), "tags": .list(["a", "đ"]), "start": .integer(-5), "source": .null,
        ]
        #expect(try JSONNode.parse(JSONText.object(fields)).fieldValues() == fields)
    }

    @Test func refusesMalformedText() {
        let bad = [
            "", "{", #"{"a" 1}"#, "[1,]", "01", "1.", "-", "tru", #""\x""#, #""\ud800""#, "[1] 2", "\"a\u{1}b\"",
            "99999999999999999999", String(repeating: "[", count: 65) + String(repeating: "]", count: 65),
        ]
        for text in bad {
            #expect(throws: MarginError.self, "\(text)") { try JSONNode.parse(text) }
        }
        #expect(throws: MarginError.self) { try JSONNode.parse([0x22, 0xFF, 0x22]) }
    }

    @Test func errorsNameThePathAndTheExpectation() {
        let body = Array(#"{"changes": [{"seq": 1, "entity": "annotation", "id": "x", "op": "update", "baseVersion": 0, "hlc": 0, "fields": {"note": {"old": 1.5, "new": "b"}}}]}"#.utf8)
        #expect {
            try PushRequest(jsonBytes: body)
        } throws: { error in
            (error as? MarginError)?.message == "changes[0].fields.note.old: expected null, an integer, a string or a list of strings"
        }
        #expect {
            try PullRequest(jsonBytes: Array(#"{"cursor": 0, "limitt": 5}"#.utf8))
        } throws: { error in
            (error as? MarginError)?.message == "limitt: unknown field"
        }
    }
}

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

@Suite struct NFCQuickCheckTests {
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
