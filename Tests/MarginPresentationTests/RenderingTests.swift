import Foundation
import MarginCore
import MarginPresentation
import MarginWire
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

    /// The parts of a W3C Web Annotation document these tests read, decoded from the
    /// exported bytes as another tool would read them.
    struct W3CDocument: Decodable {
        struct Page: Decodable {
            var id: String
            var type: String
            var partOf: String
            var items: [Item]
        }
        struct Item: Decodable {
            var id: String
            var type: String
            var target: Target
            var body: [Body]?
        }
        struct Target: Decodable {
            var source: Source
            var selector: [Selector]
        }
        struct Source: Decodable {
            var id: String
            var title: String?
            var language: String?
        }
        struct Selector: Decodable {
            var type: String
            var exact: String?
            var start: Int?
            var end: Int?
        }
        struct Body: Decodable {
            var purpose: String
        }
        enum CodingKeys: String, CodingKey {
            case context = "@context", id, type, first
        }

        var context: String
        var id: String
        var type: String
        var first: Page

        init(exporting articles: [Article], annotations: [Annotation]) throws {
            let document = W3CExport.document(
                annotations: annotations, articles: Dictionary(uniqueKeysWithValues: articles.map { ($0.id, $0) }),
                id: ExportFormatTests.collectionId)
            self = try JSONDecoder().decode(Self.self, from: JSONEncoder().encode(document))
        }
    }

    @Test func w3cDocumentHasBothSelectorsInCodePoints() throws {
        let json = try W3CDocument(exporting: [article], annotations: [annotation])
        #expect(json.context == "http://www.w3.org/ns/anno.jsonld")
        #expect(json.type == "AnnotationCollection")
        // Every collection and page has an IRI (Web Annotation Data Model, 5.1 and 5.2).
        #expect(json.id == "urn:uuid:\(Self.collectionId)")
        #expect(json.first.id == "urn:uuid:\(Self.collectionId)#page-1")
        #expect(json.first.type == "AnnotationPage")
        #expect(json.first.partOf == "urn:uuid:\(Self.collectionId)")
        let item = try #require(json.first.items.first)
        #expect(item.type == "Annotation")
        #expect(item.id == "urn:uuid:\(annotation.id)")
        let selectors = item.target.selector
        try #require(selectors.count == 2)
        #expect(selectors[0].type == "TextQuoteSelector")
        #expect(selectors[0].exact == "hội")
        #expect(selectors[1].type == "TextPositionSelector")
        #expect(selectors[1].start == 3)
        #expect(selectors[1].end == 6)
        #expect(item.body?.map(\.purpose) == ["commenting", "tagging", "tagging"])
    }

    @Test func aWebArticleIsTargetedByItsAddress() throws {
        var web = article
        web.url = "https://vnexpress.net/hoi-nghi-4812345.html"
        web.language = "vi"
        let source = try #require(try W3CDocument(exporting: [web], annotations: [annotation]).first.items.first).target.source
        #expect(source.id == "https://vnexpress.net/hoi-nghi-4812345.html")
        #expect(source.title == "Tiêu đề")
        #expect(source.language == "vi")

        let plain = try #require(try W3CDocument(exporting: [article], annotations: [annotation]).first.items.first)
        #expect(plain.target.source.id == "urn:uuid:\(article.id)")
    }

    func markdown(_ entries: [(Article, [Annotation])]) throws -> String {
        MarkdownExport.document(
            entries.map { MarkdownExport.Entry(article: $0.0, annotations: $0.1, states: [:]) },
            template: try MarkdownExport.template(MarkdownExport.defaultTemplate))
    }

    @Test func aWebArticleInMarkdownLinksToItsAddressAndNamesItsAuthor() throws {
        var web = article
        web.url = "https://vnexpress.net/hoi-nghi-4812345.html"
        web.author = "Như Quỳnh"
        web.siteName = "VnExpress"
        let markdown = try markdown([(web, [annotation])])
        #expect(markdown.contains("## [Tiêu đề](<https://vnexpress.net/hoi-nghi-4812345.html>)"))
        #expect(markdown.contains("by Như Quỳnh · VnExpress · Published 2025-10-23"))
    }

    /// The default template gives each article a section: its title, a line of facts, then
    /// each highlight's quote (every line quoted), note, tags, color and id.
    @Test func markdownHasOneSectionPerArticleWithQuotesAndNotes() throws {
        var bare = annotation
        bare.selectors.exact = "hội\nnghị"
        bare.note = ""
        bare.tags = []
        var other = article
        other.id = "019a1005-f6cb-7000-8000-000000000003"
        other.url = "https://example.org/a"

        let markdown = try markdown([(article, [annotation, bare]), (other, [])])

        #expect(markdown == """
            # Marginalia

            ## Tiêu đề

            Published 2025-10-23 · source: 000.txt · tags: #nga · id: `019a1005-f6cb-7000-8000-000000000001`

            > hội

            ghi chú

            <sub>#a #b · green · `019a1005-f6cb-7000-8000-000000000002`</sub>

            > hội
            > nghị

            <sub>green · `019a1005-f6cb-7000-8000-000000000002`</sub>

            ## [Tiêu đề](<https://example.org/a>)

            Published 2025-10-23 · source: 000.txt · tags: #nga · id: `019a1005-f6cb-7000-8000-000000000003`

            _No highlights._

            """)
    }

    /// A file per article: front matter with the export's keys (YAML-quoted), the section in
    /// a marked block; a re-export rewrites the block and those keys, and keeps the user's.
    @Test func aReExportRewritesTheBlockAndKeepsWhatTheUserWrote() throws {
        let template = try MarkdownExport.template("{{title}}: {{#highlights}}[{{quote}} {{state}}]{{/highlights}}")
        var quoted = article
        quoted.title = "Say \"hi\"\\ there"
        let entry = MarkdownExport.Entry(article: quoted, annotations: [annotation], states: [annotation.id: .changed])

        let first = MarkdownExport.file(entry, template: template)

        #expect(first == """
            ---
            title: "Say \\"hi\\"\\\\ there"
            published: 2025-10-23
            tags:
              - "nga"
            id: 019a1005-f6cb-7000-8000-000000000001
            ---

            \(MarkdownExport.blockStart)
            Say "hi"\\ there: [hội changed]
            \(MarkdownExport.blockEnd)

            """)
        #expect(MarkdownExport.articleId(inFile: first) == article.id)

        let edited = first
            .replacingOccurrences(of: "id: 019a", with: "status: reading\naliases:\n  - first\nid: 019a")
            .replacingOccurrences(of: "tags:\n  - \"nga\"\n", with: "tags:\n  - \"mine\"\n")
            + "\n## My thoughts\n\nStill thinking.\n"
        quoted.title = "Renamed"
        quoted.tags = []
        let again = MarkdownExport.Entry(article: quoted, annotations: [], states: [:])

        let second = try #require(MarkdownExport.updated(edited, with: again, template: template))

        #expect(second == """
            ---
            title: "Renamed"
            published: 2025-10-23
            tags: []
            id: 019a1005-f6cb-7000-8000-000000000001
            status: reading
            aliases:
              - first
            ---

            \(MarkdownExport.blockStart)
            Renamed:\(" ")
            \(MarkdownExport.blockEnd)

            ## My thoughts

            Still thinking.

            """)
        #expect(MarkdownExport.updated(second, with: again, template: template) == second)
        let withoutEnd = second.replacingOccurrences(of: MarkdownExport.blockEnd, with: "")
        #expect(MarkdownExport.updated(withoutEnd, with: again, template: template) == nil)
        let twice = second + MarkdownExport.blockStart + "\n" + MarkdownExport.blockEnd + "\n"
        #expect(MarkdownExport.updated(twice, with: again, template: template) == nil)
    }

    @Test func fileNamesAreFoldedTitlesWithTheHandle() {
        var named = article
        named.title = "Hội nghị thượng đỉnh: Đà Nẵng 2025!"
        #expect(MarkdownExport.fileName(named) == "hoi-nghi-thuong-dinh-da-nang-2025-\(Handle.of(article.id).prefix(8)).md")
        named.title = "!!!"
        #expect(MarkdownExport.fileName(named) == "article-\(Handle.of(article.id).prefix(8)).md")
        named.title = String(repeating: "word ", count: 40)
        #expect(MarkdownExport.fileName(named).count <= 60 + 1 + 8 + 3)
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

@Suite struct MarkdownTemplateTests {
    let variables: Set<String> = ["title", "items", "word", "note"]

    @Test func sectionsRepeatListsShowTextAndInvertedSectionsShowAbsence() throws {
        let template = try MarkdownTemplate(
            "{{title}}\n{{#items}}\n- {{word}} of {{title}}{{#note}} ({{note}}){{/note}}\n{{/items}}\n{{^items}}\nnone\n{{/items}}\n",
            variables: variables)
        let items: [[String: TemplateValue]] = [["word": .text("a"), "note": .text("n")], ["word": .text("b"), "note": .text("")]]

        #expect(template.render(["title": .text("T"), "items": .list(items)]) == "T\n- a of T (n)\n- b of T\n")
        #expect(template.render(["title": .text("T"), "items": .list([])]) == "T\nnone\n")
        #expect(template.render([:]) == "\nnone\n")
    }

    @Test func commentsAndLinesHoldingOnlyATagLeaveNothing() throws {
        let template = try MarkdownTemplate("a\n  {{! a comment }}  \n{{#note}}\n{{note}}\n  {{/note}}\nb", variables: variables)
        #expect(template.render(["note": .text("n")]) == "a\nn\nb")
        #expect(template.render([:]) == "a\nb")
    }

    @Test func mistakesAreRefusedWithTheirLine() {
        let cases: [(String, String)] = [
            ("ok\n{{nope}}", "template line 2: unknown variable 'nope'"),
            ("{{#items}}\n\n{{word}}", "template line 1: the section {{#items}} is not closed with {{/items}}"),
            ("{{#items}}{{/word}}", "template line 1: the section {{#items}} is not closed with {{/items}}"),
            ("a\n{{/items}}", "template line 2: {{/items}} closes no section"),
            ("a\nb {{title", "template line 2: a tag opened with {{ is not closed with }}"),
            ("{{}}", "template line 1: a tag names no variable"),
        ]
        for (source, message) in cases {
            #expect {
                try MarkdownTemplate(source, variables: variables)
            } throws: { error in
                (error as? MarginError)?.message.hasPrefix(message) == true
            }
        }
    }
}
