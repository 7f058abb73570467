import MarginCore
import MarginWire
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
        let fields: [RecordField: FieldValue] = [
            .note: .text("dòng 1\ndòng \"2\"\t\u{1}"), .tags: .list(["a", "đ"]), .start: .integer(-5), .source: .null,
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

    @Test func refusesAnObjectThatNamesAMemberTwice() throws {
        for text in [#"{"a": 1, "a": 2}"#, #"{"fields": {"note": "x", "tags": [], "note": "y"}}"#, #"[{"b": 1}, {"a": 1, "a": 1}]"#] {
            #expect {
                try JSONNode.parse(text)
            } throws: { error in
                (error as? MarginError)?.message.contains("duplicate member") == true
            }
        }
        #expect(try JSONNode.parse(#"[{"a": 1}, {"a": 2}]"#) == .array([.object([("a", .integer(1))]), .object([("a", .integer(2))])]))
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
