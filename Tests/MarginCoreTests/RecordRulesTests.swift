import Foundation
@testable import MarginCore
import MarginWire
import Testing

@Suite struct RecordRulesTests {
    static let id = "01900000-0000-7000-8000-000000000001"

    /// Text of `count` scalars, all NFC (Vietnamese letters precomposed).
    static func text(_ count: Int) -> String {
        String(String.UnicodeScalarView(Array(repeating: "ấ" as Unicode.Scalar, count: count)))
    }

    /// Distinct tags, sorted as records hold them.
    static func tags(_ count: Int) -> FieldValue {
        .list((0..<count).map { String(format: "t%05d", $0) }.sorted())
    }

    /// The value of `size` units a limit governs, checked where it applies.
    static func check(_ limit: RecordLimit, size: Int) throws(MarginError) {
        switch limit {
        case RecordRules.title: try RecordRules.check(.text(text(size)), .title, of: .article)
        case RecordRules.source: try RecordRules.check(.text(text(size)), .source, of: .article)
        case RecordRules.url: try RecordRules.check(.text("https://example.org/" + text(size - 20)), .url, of: .article)
        case RecordRules.author: try RecordRules.check(.text(text(size)), .author, of: .article)
        case RecordRules.siteName: try RecordRules.check(.text(text(size)), .siteName, of: .article)
        case RecordRules.caption: try RecordRules.check(.list([text(size)]), .captions, of: .article)
        case RecordRules.captions:
            let whole = RecordRules.caption.maximum
            let captions = Array(repeating: text(whole), count: size / whole) + (size % whole > 0 ? [text(size % whole)] : [])
            try RecordRules.check(.list(captions), .captions, of: .article)
        case RecordRules.tag: try RecordRules.check(.list([text(size)]), .tags, of: .annotation)
        case RecordRules.tags: try RecordRules.check(tags(size), .tags, of: .article)
        case RecordRules.note: try RecordRules.check(.text(text(size)), .note, of: .annotation)
        case RecordRules.exact: try RecordRules.check(.text(text(size)), .exact, of: .annotation)
        case RecordRules.context:
            try RecordRules.check(.text(text(size)), .prefix, of: .annotation)
            try RecordRules.check(.text(text(size)), .suffix, of: .annotation)
        case RecordRules.body: try RecordRules.check(body: String(repeating: "a", count: size))
        default: Issue.record("no check for the limit '\(limit.name)'")
        }
    }

    @Test(arguments: RecordRules.limits)
    func everyLimitAcceptsItsMaximumAndRefusesOneMoreNamingBoth(_ limit: RecordLimit) {
        #expect(throws: Never.self) { try Self.check(limit, size: limit.maximum) }
        let error = #expect(throws: MarginError.self) { try Self.check(limit, size: limit.maximum + 1) }
        #expect(error?.code == .invalidInput)
        #expect(error?.message.contains("\(limit.maximum + 1)") == true, "the size: \(error?.message ?? "")")
        #expect(error?.message.contains("at most \(limit.maximum)") == true, "the limit: \(error?.message ?? "")")
    }

    @Test func theREADMEStatesEveryLimit() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        for limit in RecordRules.limits {
            let row = "| \(limit.name) | \(limit.maximum) \(limit.unit.rawValue) |"
            #expect(readme.contains(row), "README.md lacks the row \(row)")
        }
    }

    @Test func aLimitNamesTheFieldThatBreaksIt() {
        let title = #expect(throws: MarginError.self) { try Self.check(RecordRules.title, size: 5_000) }
        #expect(title?.message == "field 'title' has 5000 characters; at most 4096 are allowed")
        let body = #expect(throws: MarginError.self) { try Self.check(RecordRules.body, size: 22_020_096) }
        #expect(body?.message == "the article body has 22020096 bytes; at most 2097152 (2 MiB) are allowed")
    }

    @Test func storedRecordsAreReadWithoutTheLimits() throws {
        // A record an earlier release stored under looser limits stays readable…
        try RecordRules.check(.text(Self.text(5_000)), .title, of: .article, limits: false)
        try RecordRules.check(Self.tags(300), .tags, of: .annotation, limits: false)
        // …but what a store cannot hold is refused all the same.
        #expect(throws: MarginError.self) { try RecordRules.check(.text("a\u{0}b"), .title, of: .article, limits: false) }
        #expect(throws: MarginError.self) { try RecordRules.check(.text(""), .title, of: .article, limits: false) }
    }

    @Test func textsMustBeNFCByteForByte() throws {
        let composed = "Hội nghị"
        let decomposed = String(String.UnicodeScalarView(composed.decomposedScalars))
        #expect(decomposed == composed)  // Swift compares canonically…
        #expect(!decomposed.utf8.elementsEqual(composed.utf8))  // …but the bytes differ.

        #expect(throws: Never.self) { try RecordRules.check(.text(composed), .note, of: .annotation) }
        #expect(throws: MarginError.self) { try RecordRules.check(.text(decomposed), .note, of: .annotation) }
        #expect(throws: MarginError.self) { try RecordRules.check(.text(decomposed), .title, of: .article) }
        #expect(throws: MarginError.self) { try RecordRules.check(.list([decomposed]), .tags, of: .article) }
    }

    @Test func fieldsBelongToTheirKindOfRecord() {
        let error = #expect(throws: MarginError.self) { try RecordRules.check(.text("x"), .note, of: .article) }
        #expect(error?.message == "'note' is not a field of article records")
    }

    @Test func tagsAreASortedSetOfTrimmedOneLineTags() {
        #expect(throws: Never.self) { try RecordRules.check(.list(["a", "b"]), .tags, of: .article) }
        for bad: [String] in [["b", "a"], ["a", "a"], [" a"], ["a\nb"], [""]] {
            #expect(throws: MarginError.self, "\(bad)") { try RecordRules.check(.list(bad), .tags, of: .article) }
        }
    }

    @Test func createsNeedEveryFieldAndUpdatesOnlyMutableOnes() {
        let create: [RecordField: ChangeEntry.FieldChange] = [.note: .init(old: .null, new: .text("x"))]
        #expect(throws: MarginError.self) { try RecordRules.check(.annotation, .create, fields: create) }
        let fixed: [RecordField: ChangeEntry.FieldChange] = [.start: .init(old: .integer(0), new: .integer(5))]
        let error = #expect(throws: MarginError.self) { try RecordRules.check(.annotation, .update, fields: fixed) }
        #expect(error?.message == "field 'start' cannot change after a annotation is created")
        let conflictUpdate: [RecordField: ChangeEntry.FieldChange] = [.value: .init(old: .null, new: .text("x"))]
        #expect(throws: MarginError.self) { try RecordRules.check(.conflict, .update, fields: conflictUpdate) }
        let delete: [RecordField: ChangeEntry.FieldChange] = [.note: .init(old: .text("x"), new: .text("y"))]
        #expect(throws: MarginError.self) { try RecordRules.check(.annotation, .delete, fields: delete) }
    }

    @Test func aConflictRecordMayBeSentAgainWhole() throws {
        let conflict = ConflictRecord(
            id: Self.id, recordEntity: .annotation, recordId: Self.id, kind: .value, field: .note, value: .text("lost"),
            device: Self.id, hlc: 7, createdAt: Timestamp(milliseconds: 1))
        try RecordRules.check(.conflict, .create, fields: conflict.fieldValues.mapValues { .init(old: .null, new: $0) })
        #expect(ConflictRecord(id: Self.id, fields: conflict.fieldValues) == conflict)
    }

    @Test func theProtocolShapeIsCheckedApartFromTheRules() {
        let change = WireChange(seq: 0, entity: .annotation, id: Self.id, op: .delete, baseVersion: 0, hlc: 0, fields: [:])
        #expect(throws: MarginError.self) { try RecordRules.checkShape(change) }
        var badId = change
        badId.seq = 1
        badId.id = "x"
        #expect(throws: MarginError.self) { try RecordRules.checkShape(badId) }
    }

    @Test func everyScalarOfTheQuickCheckRangesIsUnchangedByNFC() {
        for range in RecordRules.quickCheckRanges {
            for value in range {
                guard let scalar = Unicode.Scalar(value) else { continue }
                #expect(scalar.properties.canonicalCombiningClass == .notReordered, "U+\(String(value, radix: 16))")
                let text = String(Character(scalar))
                #expect(ArticleText.normalize(text).utf8.elementsEqual(text.utf8), "U+\(String(value, radix: 16))")
            }
        }
    }

    @Test func theLargestChangeFitsInOneRequest() {
        // An article at every limit, each character escaped as \u00XX in JSON: the worst case.
        let control = { (count: Int) in String(repeating: "\u{1}", count: count) }
        let bodyBytes = 6 * RecordRules.body.maximum
        let fieldsBytes = 6 * (RecordRules.title.maximum + RecordRules.source.maximum + RecordRules.captions.maximum)
            + RecordRules.tags.maximum * (6 * RecordRules.tag.maximum + 3)
        #expect(JSONWriter.encodedCount(of: control(10)) == 62)
        #expect(bodyBytes + fieldsBytes + 4_096 < SyncProtocol.maximumRequestBytes)
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
