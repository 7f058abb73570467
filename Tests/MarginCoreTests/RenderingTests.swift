import Foundation
import MarginCore
import Testing

@Suite struct HighlightRendererTests {
    @Test func marksWrapHighlightsWithTheirLabels() {
        let text = ArticleText("one two three")
        let marks = [HighlightRenderer.Mark(range: 4..<7, color: .yellow, label: "1")]
        #expect(HighlightRenderer.render(text, marks: marks, style: .markers) == "one [[two]][1] three")
    }

    @Test func overlappingHighlightsNest() {
        let text = ArticleText("abcdef")
        let marks = [
            HighlightRenderer.Mark(range: 0..<4, color: .yellow, label: "1"),
            HighlightRenderer.Mark(range: 2..<6, color: .green, label: "2"),
        ]
        #expect(HighlightRenderer.render(text, marks: marks, style: .markers) == "[[ab[[cd]][1]ef]][2]")
    }

    @Test func ansiStyleColorsAndResets() {
        let text = ArticleText("x hội y")
        let output = HighlightRenderer.render(
            text, marks: [HighlightRenderer.Mark(range: 2..<5, color: .green, label: "1")], style: .ansi)
        #expect(output.hasPrefix("x \u{1B}[42;30mhội\u{1B}[0m"))
        #expect(output.hasSuffix(" y"))
    }
}

@Suite struct ExportFormatTests {
    static let collectionId = "019a1005-f6cb-7000-8000-00000000c011"
    let article = Article(
        id: "019a1005-f6cb-7000-8000-000000000001", title: "Tiêu đề", published: CalendarDate("2025-10-23"),
        source: "000.txt", contentHash: String(repeating: "a", count: 64), captions: [], tags: ["nga"],
        createdAt: Timestamp(milliseconds: 0), updatedAt: Timestamp(milliseconds: 0))

    var annotation: Annotation {
        Annotation(
            id: "019a1005-f6cb-7000-8000-000000000002", articleId: article.id,
            selectors: TextSelectors(start: 3, end: 6, exact: "hội", prefix: "về ", suffix: " nghị"),
            note: "ghi chú", tags: ["a", "b"], color: .green, createdAt: Timestamp(milliseconds: 0),
            updatedAt: Timestamp(milliseconds: 5))
    }

    @Test func w3cDocumentHasBothSelectorsInCodePoints() throws {
        let document = W3CExport.document(annotations: [annotation], articles: [article.id: article], id: Self.collectionId)
        let json = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(document)) as! [String: Any]
        #expect(json["@context"] as? String == "http://www.w3.org/ns/anno.jsonld")
        #expect(json["type"] as? String == "AnnotationCollection")
        // Every collection and page has an IRI (Web Annotation Data Model, 5.1 and 5.2).
        #expect(json["id"] as? String == "urn:uuid:\(Self.collectionId)")
        let page = try #require(json["first"] as? [String: Any])
        #expect(page["id"] as? String == "urn:uuid:\(Self.collectionId)#page-1")
        #expect(page["type"] as? String == "AnnotationPage")
        #expect(page["partOf"] as? String == "urn:uuid:\(Self.collectionId)")
        let items = (json["first"] as! [String: Any])["items"] as! [[String: Any]]
        let item = items[0]
        #expect(item["type"] as? String == "Annotation")
        #expect(item["id"] as? String == "urn:uuid:\(annotation.id)")
        let target = item["target"] as! [String: Any]
        let selectors = target["selector"] as! [[String: Any]]
        #expect(selectors[0]["type"] as? String == "TextQuoteSelector")
        #expect(selectors[0]["exact"] as? String == "hội")
        #expect(selectors[1]["type"] as? String == "TextPositionSelector")
        #expect(selectors[1]["start"] as? Int == 3)
        #expect(selectors[1]["end"] as? Int == 6)
        let bodies = item["body"] as! [[String: Any]]
        #expect(bodies.map { $0["purpose"] as? String } == ["commenting", "tagging", "tagging"])
    }

    @Test func aWebArticleIsTargetedByItsAddress() throws {
        var web = article
        web.url = "https://vnexpress.net/hoi-nghi-4812345.html"
        web.language = "vi"
        let document = W3CExport.document(annotations: [annotation], articles: [web.id: web], id: Self.collectionId)
        let json = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(document)) as! [String: Any]
        let item = ((json["first"] as! [String: Any])["items"] as! [[String: Any]])[0]
        let source = (item["target"] as! [String: Any])["source"] as! [String: Any]
        #expect(source["id"] as? String == "https://vnexpress.net/hoi-nghi-4812345.html")
        #expect(source["title"] as? String == "Tiêu đề")
        #expect(source["language"] as? String == "vi")

        let plain = W3CExport.document(annotations: [annotation], articles: [article.id: article], id: Self.collectionId)
        let plainJSON = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(plain)) as! [String: Any]
        let plainItem = ((plainJSON["first"] as! [String: Any])["items"] as! [[String: Any]])[0]
        #expect(((plainItem["target"] as! [String: Any])["source"] as! [String: Any])["id"] as? String == "urn:uuid:\(article.id)")
    }

    @Test func aWebArticleInMarkdownLinksToItsAddressAndNamesItsAuthor() {
        var web = article
        web.url = "https://vnexpress.net/hoi-nghi-4812345.html"
        web.author = "Như Quỳnh"
        web.siteName = "VnExpress"
        let markdown = MarkdownExport.document(articles: [web], annotations: [web.id: [annotation]])
        #expect(markdown.contains("## [Tiêu đề](<https://vnexpress.net/hoi-nghi-4812345.html>)"))
        #expect(markdown.contains("by Như Quỳnh · VnExpress · Published 2025-10-23"))
    }

    @Test func markdownHasOneSectionPerArticleWithQuotesAndNotes() {
        let markdown = MarkdownExport.document(articles: [article], annotations: [article.id: [annotation]])
        #expect(markdown.contains("## Tiêu đề"))
        #expect(markdown.contains("> hội"))
        #expect(markdown.contains("ghi chú"))
        #expect(markdown.contains("#a #b"))
    }

    @Test func annotationJSONRoundTrips() throws {
        let data = try JSONEncoder().encode(annotation)
        #expect(try JSONDecoder().decode(Annotation.self, from: data) == annotation)
    }

    @Test func fieldChangeJSONIsValidAndSorted() throws {
        let changes = ChangeEntry.fieldChanges(
            from: [.note: .text("a \"quoted\"\n\u{1}"), .tags: .list(["x"])], to: [.note: .text("b"), .tags: .list(["x"])])
        let text = JSONText.fieldChanges(changes)
        #expect(text == #"{"note":{"new":"b","old":"a \"quoted\"\n\u0001"}}"#)
        let decoded = try JSONDecoder().decode([RecordField: ChangeEntry.FieldChange].self, from: Data(text.utf8))
        #expect(decoded == changes)
    }
}
