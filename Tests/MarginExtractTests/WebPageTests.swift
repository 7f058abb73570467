import Foundation
import MarginCore
import MarginTestSupport
import Testing

@testable import MarginExtract

/// A page with `body` inside an ordinary site: navigation, a sidebar, a footer.
private func page(_ body: String, head: String = "", lang: String = "en") -> [UInt8] {
    Array("""
        <!doctype html><html lang="\(lang)"><head><meta charset="utf-8"><title>Test page | Test Gazette</title>\(head)</head>
        <body><header class="site-header"><a href="/">Test Gazette</a><nav><a href="/news">News</a> <a href="/sport">Sport</a></nav></header>
        <div class="layout"><main>\(body)</main>
        <aside class="sidebar"><h3>Most read</h3><ul><li><a href="/1">A story everyone read today and yesterday</a></li>
        <li><a href="/2">Another story people read a great deal this week</a></li></ul></aside></div>
        <footer><p>© Test Gazette. All rights reserved. Contact us, advertise with us, work with us.</p></footer></body></html>
        """.utf8)
}

private let text = [
    "The county library opened its new reading room on Monday, after two years of work and a long argument about the roof.",
    "Readers found long tables, good lamps and, for the first time, a room where talking is allowed until noon every day.",
    "The librarian said the building would stay open late on Thursdays, when the evening classes and the chess club meet.",
]

private func read(_ bytes: [UInt8], contentType: String? = "text/html", url: String? = nil) throws -> ParsedDocument {
    try WebPage.read(bytes, contentType: contentType, url: url)
}

/// The pages of `Tests/WebPages`: their text and what they say about themselves.
@Suite struct WebPageCorpusTests {
    static let pages = (try? WebPageCorpus().pages) ?? []

    @Test(arguments: pages.filter { $0.expected != nil }.map(\.name))
    func eachArticleReadsAsItsExpectedTextAndFacts(_ name: String) throws {
        let page = try #require(Self.pages.first { $0.name == name })
        let document = try read(page.html, contentType: nil)
        let score = WebPageCorpus.score(extracted: document.body, expected: page.expected!)
        #expect(score.f1 >= 0.99, "F1 \(score.f1)")
        // Paragraphs as the expected text has them.
        let expectedParagraphs = page.expected!.trimmingWhitespace().components(separatedBy: "\n\n").count
        #expect(document.body.components(separatedBy: "\n\n").count == expectedParagraphs)
        let facts = page.metadata
        if case .text(let title) = facts["title"] { #expect(document.title == title) }
        if case .text(let url) = facts["url"] { #expect(document.url == url) }
        if case .text(let date) = facts["date"] { #expect(document.published?.description == date) }
        if case .text(let author) = facts["author"] { #expect(document.author == author) }
        if case .text(let site) = facts["site"] { #expect(document.siteName == site) }
        if case .text(let language) = facts["language"] { #expect(document.language == language) }
        if case .list(let captions) = facts["captions"] { #expect(document.captions == captions) }
    }

    @Test func aPageOfLinksHasNoArticle() throws {
        let page = try #require(Self.pages.first { $0.name == "link-page" })
        #expect(throws: MarginError.self) { try read(page.html) }
        do {
            _ = try read(page.html)
        } catch let error as MarginError {
            #expect(error.message == "no article text found")
        }
    }
}

@Suite struct ArticleExtractionTests {
    @Test func theArticleIsItsParagraphsAndNothingOfTheSite() throws {
        let document = try read(page("<article><h1>Reading room opens</h1>" + text.map { "<p>\($0)</p>" }.joined() + "</article>"))
        #expect(document.title == "Reading room opens")
        #expect(document.body == text.joined(separator: "\n\n"))
    }

    @Test func headingsListItemsAndQuotesAreParagraphsOfTheirOwn() throws {
        let body = """
            <article><h1>Title</h1><p>\(text[0])</p><h2>What readers said</h2>
            <blockquote>It is the best room in town, and the quietest before noon.</blockquote>
            <ul><li>Long tables for work and study</li><li>Good lamps over every seat</li></ul><p>\(text[1])</p></article>
            """
        let document = try read(page(body))
        #expect(document.body.components(separatedBy: "\n\n") == [
            text[0], "What readers said", "It is the best room in town, and the quietest before noon.",
            "Long tables for work and study", "Good lamps over every seat", text[1],
        ])
    }

    @Test func hiddenElementsScriptsFormsAndShareButtonsAreDropped() throws {
        let body = """
            <article><h1>Title</h1><p>\(text[0])</p>
            <div style="display: none">A hidden paragraph that no reader of the page ever sees on the screen.</div>
            <p hidden>Another hidden paragraph, kept for robots only, and never shown to anyone.</p>
            <script>var tracking = "a script is never text";</script><style>p { color: red }</style>
            <div class="share-buttons"><a href="#">Share on Facebook</a> <a href="#">Share by email</a></div>
            <form><input type="email"><button>Subscribe to our newsletter today</button></form>
            <p>\(text[1])</p><p>\(text[2])</p></article>
            """
        let document = try read(page(body))
        #expect(document.body == text.joined(separator: "\n\n"))
    }

    @Test func captionsAreKeptApartFromTheText() throws {
        let body = """
            <article><h1>Title</h1><p>\(text[0])</p>
            <figure><img src="room.jpg"><figcaption>The new reading room on its first morning (Photo: Test Gazette)</figcaption></figure>
            <p>\(text[1])</p><p>\(text[2])</p></article>
            """
        let document = try read(page(body))
        #expect(document.captions == ["The new reading room on its first morning (Photo: Test Gazette)"])
        #expect(document.body == text.joined(separator: "\n\n"))
    }

    @Test func brokenMarkupStillReadsAsABrowserShowsIt() throws {
        let html = """
            <html><head><title>Broken</title><body><div id="content"><h1>Broken page</h1>
            <p>\(text[0])<p>\(text[1]) <b>bold <i>and italic</b> still</i> text.
            <p>\(text[2])</div></span></article>
            """
        let document = try read(Array(html.utf8))
        #expect(document.body == [text[0], text[1] + " bold and italic still text.", text[2]].joined(separator: "\n\n"))
    }

    @Test func relatedArticlesAfterTheTextAreNotTheText() throws {
        let body = """
            <article><h1>Title</h1>\(text.map { "<p>\($0)</p>" }.joined())
            <h3>Related articles</h3>
            <p>The county council met on Tuesday to discuss the new bus timetable for the winter months ahead.</p>
            <p>Heavy rain is expected this weekend across the valley, with flooding possible near the river banks.</p>
            <a href="/other"><h4>A teaser for another article, linked as a card</h4></a></article>
            """
        let document = try read(page(body))
        #expect(document.body == text.joined(separator: "\n\n"))
    }

    @Test func aWrapperNamedLikeASidebarThatHoldsTheArticleIsKept() throws {
        let html = """
            <html><body><div class="page-with-sidebar"><div class="content-sidebar-wrap"><main class="site-main">
            <article><h1>Reading room opens</h1>\(text.map { "<p>\($0)</p>" }.joined())</article>
            </main><div class="sidebar"><p>Subscribe to our weekly letter, full of news, gossip and recipes.</p></div></div></div></body></html>
            """
        let document = try read(Array(html.utf8))
        #expect(document.body == text.joined(separator: "\n\n"))
    }

    @Test func onAPageOfSeveralArticlesTheOneUnderTheTitleIsRead() throws {
        let other = (1...6).map { "Another story entirely, paragraph \($0), about the harbour, the ferries, and the fishing fleet in winter." }
        let html = """
            <html><head><meta property="og:title" content="Reading room opens"></head><body><div class="stream">
            <article><h2>Harbour news</h2>\(other.map { "<p>\($0)</p>" }.joined())</article>
            <article><h2>Reading room opens</h2>\(text.map { "<p>\($0)</p>" }.joined())</article>
            </div></body></html>
            """
        let document = try read(Array(html.utf8))
        #expect(document.body == text.joined(separator: "\n\n"))
    }

    @Test func textSplitAcrossManyBlocksIsReadWhole() throws {
        let blocks = (1...8).map {
            "<div class=\"block\"><div class=\"block-content\"><p>Section \($0) of a page built from blocks, each holding one paragraph, which together are the article.</p></div></div>"
        }
        // A site's side tray built of the same blocks comes first, and is not the article.
        let html = """
            <html><body><div class="tray"><div class="block"><div class="block-content"><p>A note in the side tray of the site, about who runs it and why, in a paragraph.</p></div></div></div>
            <div class="site"><header><a href="/">The site</a></header><main><div class="layout">\(blocks.joined())</div></main></div></body></html>
            """
        let document = try read(Array(html.utf8))
        #expect(document.body.components(separatedBy: "\n\n").count == 8)
        #expect(!document.body.contains("side tray"))
    }

    @Test func invisibleCharactersThatSplitWordsAreDropped() throws {
        let body = "<article><h1>Title</h1><p>Read\u{AD}ing rooms are qui\u{200B}et places for every\u{2060}one who wants to read in peace and warmth.</p><p>\(text[0])</p></article>"
        let document = try read(page(body))
        #expect(document.body.hasPrefix("Reading rooms are quiet places for everyone"))
    }

    @Test func aPageWhoseTextIsOnlyInJSONLDReadsFromIt() throws {
        let html = """
            <html><head><script type="application/ld+json">{"@type": "NewsArticle", "headline": "Rain returns",
            "articleBody": "\(text.joined(separator: "\\n"))", "datePublished": "2026-02-01T06:00:00Z"}</script></head>
            <body><div id="app"></div></body></html>
            """
        let document = try read(Array(html.utf8))
        #expect(document.title == "Rain returns")
        #expect(document.body == text.joined(separator: "\n\n"))
        #expect(document.published?.description == "2026-02-01")
    }

    @Test func tooLittleTextIsNoArticle() {
        #expect(throws: MarginError.self) { try read(page("<p>Only a line.</p>")) }
        #expect(throws: MarginError.self) { try read([]) }
    }
}

@Suite struct PageMetadataTests {
    @Test func factsComeFromOpenGraphJSONLDAndTheDocument() throws {
        let head = """
            <meta property="og:title" content="Reading room opens"><meta property="og:site_name" content="Test Gazette">
            <link rel="canonical" href="/news/reading-room"><meta property="article:published_time" content="2026-03-14T08:00:00+01:00">
            <script type="application/ld+json">{"@type": "NewsArticle", "author": [{"@type": "Person", "name": "Ann Lee"}, {"name": "Bo Tran"}]}</script>
            """
        let document = try read(page("<article>\(text.map { "<p>\($0)</p>" }.joined())</article>", head: head, lang: "en_gb"), url: "https://gazette.example/x?id=1")
        #expect(document.title == "Reading room opens")
        #expect(document.url == "https://gazette.example/news/reading-room")
        #expect(document.published?.description == "2026-03-14")
        #expect(document.author == "Ann Lee, Bo Tran")
        #expect(document.siteName == "Test Gazette")
        #expect(document.language == "en-GB")
    }

    @Test func withoutACanonicalAddressTheArticleIsWhereItWasFetched() throws {
        let document = try read(page("<article>\(text.map { "<p>\($0)</p>" }.joined())</article>"), url: "https://gazette.example/x#top")
        #expect(document.url == "https://gazette.example/x")
        let saved = try read(page("<article>\(text.map { "<p>\($0)</p>" }.joined())</article>"))
        #expect(saved.url == nil)
    }

    @Test func textEscapedTwiceByThePublisherIsRead() throws {
        let head = #"<meta property="og:title" content="O&amp;#039;Donnell&amp;amp;Sons &amp;quot;win&amp;quot;">"#
        let document = try read(page("<article>\(text.map { "<p>\($0)</p>" }.joined())</article>", head: head))
        #expect(document.title == "O'Donnell&Sons \"win\"")
    }

    @Test(arguments: [
        ("Reading room opens | Test Gazette", "Reading room opens"),
        ("Test Gazette - Reading room opens", "Reading room opens"),
        ("Reading room opens | DW | 19.01.2020", "Reading room opens"),
        ("Reading room opens – gazette.example", "Reading room opens"),
        ("Reading room opens", "Reading room opens"),
    ])
    func theSiteNameAndDatesLeaveATitle(_ title: String, _ expected: String) {
        #expect(WebPage.withoutSiteName(title, siteName: "Test Gazette", address: "https://www.dw.com/x", guessing: false) == expected
            || WebPage.withoutSiteName(title, siteName: nil, address: "https://gazette.example/x", guessing: false) == expected)
    }

    @Test(arguments: [
        ("Thứ Hai, 20/10/2025, 09:15 GMT+7", true), ("March 14, 2026 · 5 min read", true), ("12.10.2015, 19:16 Uhr", true),
        ("2025-10-20", true), ("Frank Witzel erhält Deutschen Buchpreis 2015", false), ("Top 10 books of 2025", false),
        ("The council met on 12/10/2025 and agreed.", false),
    ])
    func datelinesAreToldFromShortLinesWithAYear(_ line: String, _ isDateline: Bool) {
        #expect(Dateline.matches(line) == isDateline)
    }

    @Test(arguments: [
        ("Thứ Hai, 20/10/2025, 09:15 GMT+7", "vi", "2025-10-20"), ("03/04/2025", "en-US", "2025-03-04"),
        ("03/04/2025", "fr", "2025-04-03"), ("12/25/2025", nil, "2025-12-25"), ("March 14, 2026 · 5 min read", "en", "2026-03-14"),
        ("14. März 2026, 19:16 Uhr", "de", "2026-03-14"), ("Ngày 20 tháng 10 năm 2025", "vi", "2025-10-20"),
        ("2025-10-20T09:15", nil, "2025-10-20"), ("31/02/2025", nil, nil),
    ] as [(String, String?, String?)])
    func aDatelineGivesItsDate(_ line: String, _ language: String?, _ date: String?) {
        #expect(Dateline.date(in: line, language: language)?.description == date)
    }

    @Test func aDatelineDatesAPageThatSaysNothingElseOfItsDateAndASignatureNamesItsAuthor() throws {
        let body = "<article><h1>Title</h1><p>Thứ Hai, 20/10/2025, 09:15 GMT+7</p>" + text.map { "<p>\($0)</p>" }.joined()
            + "<p align=\"right\"><b>Hoàng Anh</b></p></article>"
        let document = try read(page(body, lang: "vi"))
        #expect(document.published?.description == "2025-10-20")
        #expect(document.author == "Hoàng Anh")
        #expect(document.body == text.joined(separator: "\n\n"))
    }
}

@Suite struct PageEncodingTests {
    private let vietnamese = "Ngoại trưởng Nga và Mỹ điện đàm"

    /// `text` in windows-1258, as glibc's iconv writes it (base letters and tone marks).
    private func windows1258(_ text: String) throws -> [UInt8] {
        let handle = iconv_open("CP1258", "UTF-8")
        try #require(handle != iconv_t(bitPattern: -1))
        defer { iconv_close(handle) }
        var input = Array(text.utf8).map { CChar(bitPattern: $0) }
        var output = [CChar](repeating: 0, count: input.count * 2)
        var inputLeft = input.count
        var outputLeft = output.count
        let converted = input.withUnsafeMutableBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                var inputPointer = inputBuffer.baseAddress
                var outputPointer = outputBuffer.baseAddress
                let result = iconv(handle, &inputPointer, &inputLeft, &outputPointer, &outputLeft)
                return result == -1 ? result : iconv(handle, nil, nil, &outputPointer, &outputLeft)
            }
        }
        try #require(converted != -1)
        return output[..<(output.count - outputLeft)].map { UInt8(bitPattern: $0) }
    }

    @Test func theHeaderCharsetWins() throws {
        let bytes = try windows1258(vietnamese)
        let decoded = PageEncoding.detect(bytes, declared: "windows-1258").decode(bytes)
        #expect(String(decoding: decoded, as: UTF8.self).precomposedStringWithCanonicalMapping == vietnamese)
    }

    @Test func aMetaDeclarationIsFoundWithoutAHeader() throws {
        let bytes = Array(#"<html><head><meta http-equiv="content-type" content="text/html; charset=windows-1258">"#.utf8) + (try windows1258(vietnamese))
        #expect(PageEncoding.detect(bytes, declared: nil).iconvName == "CP1258")
        let charset = Array(#"<meta charset="iso-8859-2"><p>"#.utf8)
        #expect(PageEncoding.detect(charset, declared: nil).iconvName == "ISO-8859-2")
    }

    @Test func aByteOrderMarkBeatsEverything() {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("<meta charset=windows-1252>café".utf8)
        #expect(PageEncoding.detect(bytes, declared: "iso-8859-1") == .utf8)
        #expect(PageEncoding.detect(bytes, declared: nil).decode(bytes) == Array("<meta charset=windows-1252>café".utf8))
    }

    @Test func labelsAreReadAsBrowsersReadThem() {
        #expect(PageEncoding(label: "ISO-8859-1")?.iconvName == "CP1252")
        #expect(PageEncoding(label: "latin1")?.iconvName == "CP1252")
        #expect(PageEncoding(label: " Windows-1258 ")?.iconvName == "CP1258")
        #expect(PageEncoding(label: "no-such-charset") == nil)
    }

    @Test func undeclaredBytesThatAreNotUTF8AreWindows1252() {
        let bytes: [UInt8] = Array("caf".utf8) + [0xE9]
        #expect(PageEncoding.detect(bytes, declared: nil) == .windows1252)
        #expect(String(decoding: PageEncoding.windows1252.decode(bytes), as: UTF8.self) == "café")
    }

    @Test func textIsStoredNFC() throws {
        let bytes = try windows1258(vietnamese)
        let html = Array("<html><head><title>x</title></head><body><article><p>".utf8) + bytes + Array(", ".utf8)
            + Array(text.joined(separator: " ").utf8) + Array("</p></article></body></html>".utf8)
        let document = try read(html, contentType: "text/html; charset=windows-1258")
        #expect(document.body.hasPrefix(vietnamese))
        #expect(document.body == document.body.precomposedStringWithCanonicalMapping)
    }
}

@Suite struct PageKindTests {
    @Test(arguments: [
        ("text/html; charset=utf-8", "<p>", WebPage.Kind.html), ("application/xhtml+xml", "<?xml", .html),
        ("text/plain", "Plain words.", .text(markdown: false)), ("text/plain", "<!doctype html>", .html),
        ("text/markdown", "# Title", .text(markdown: true)), (nil, "  <html>", .html),
    ] as [(String?, String, WebPage.Kind)])
    func pagesAreKnownByTheirTypeOrTheirStart(_ type: String?, _ start: String, _ kind: WebPage.Kind) {
        #expect(WebPage.Kind(contentType: type, body: Array(start.utf8)) == kind)
    }

    @Test(arguments: [("application/pdf", "%PDF-1.7"), ("image/png", "\u{89}PNG"), (nil, "%PDF-1.7")] as [(String?, String)])
    func otherContentIsNotAPage(_ type: String?, _ start: String) {
        #expect(WebPage.Kind(contentType: type, body: Array(start.utf8)) == nil)
    }
}
