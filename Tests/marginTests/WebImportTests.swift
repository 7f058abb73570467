import Foundation
import MarginTestSupport
import Testing

/// `margin import URL…` against a real web server on 127.0.0.1 (`WebServer`): the pages of
/// `Tests/WebPages` over HTTP, redirects, compression, character sets, proxies, TLS, and
/// every way a fetch fails — each failure one line naming the address and the cause,
/// exit 1, nothing stored.
@Suite struct WebImportTests {
    /// A plain article page, without a canonical address unless `canonical` names one.
    static func articlePage(title: String, paragraphs: [String], canonical: String? = nil) -> String {
        let link = canonical.map { "<link rel=\"canonical\" href=\"\($0)\">" } ?? ""
        return """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>\(title) | Test Gazette</title>\(link)</head>
            <body><nav><a href="/">Home</a> <a href="/news">News</a></nav>
            <article><h1>\(title)</h1>\(paragraphs.map { "<p>\($0)</p>" }.joined())</article>
            <footer>© Test Gazette</footer></body></html>
            """
    }

    static let paragraphs = [
        "The county library opened its new reading room on Monday, after two years of work and a long argument about the roof.",
        "Readers found long tables, good lamps and, for the first time, a room where talking is allowed until noon every day.",
        "The librarian said the building would stay open late on Thursdays, when the evening classes and the chess club meet.",
    ]

    private func margin(_ margin: MarginProcess, _ arguments: [String], environment: [String: String] = [:], input: [UInt8]? = nil)
        async throws -> MarginProcess.Result
    {
        try await margin.runDetached(arguments, environment: environment, input: input)
    }

    private func articles(_ margin: MarginProcess) async throws -> [[String: Any]] {
        try await self.margin(margin, ["list", "--json"]).json([[String: Any]].self)
    }

    private func body(_ margin: MarginProcess, _ id: String) async throws -> String {
        try #require(try await self.margin(margin, ["show", id, "--json"]).json([String: Any].self)["body"] as? String)
    }

    @Test func theCorpusImportsOverHTTPAsItDoesFromSavedFiles() async throws {
        let server = try await WebServer.start()
        defer { server.stop() }
        let corpus = try WebPageCorpus()
        let fetched = try MarginProcess()
        let saved = try MarginProcess()

        let result = try await margin(fetched, ["import", "--json"] + corpus.pages.map { server.url + "/pages/\($0.name).html" })
        let fromFiles = try await margin(
            saved, ["import"] + corpus.pages.map { WebPageCorpus.folder.appendingPathComponent($0.name + ".html").path })

        // The page of links has no article: reported, the others imported.
        #expect(result.status == 1)
        #expect(result.stderr == "margin: \(server.url)/pages/link-page.html: no article text found\n")
        let json = try result.json([String: Any].self)
        #expect((json["imported"] as? [Any])?.count == corpus.pages.count - 1)
        #expect(fromFiles.stderr == "margin: \(WebPageCorpus.folder.path)/link-page.html: no article text found\n")
        let web = try await articles(fetched)
        let files = try await articles(saved)
        #expect(web.count == corpus.pages.count - 1)
        for page in corpus.pages where page.expected != nil {
            let address = server.url + "/pages/\(page.name).html"
            let article = try #require(web.first { $0["url"] as? String == (page.metadata["url"].flatMap(\.text) ?? address) })
            let file = try #require(files.first { $0["source"] as? String == page.name + ".html" })
            // The same text, title and facts as the saved page; the address is the page's
            // canonical one, else where it was fetched from.
            #expect(article["contentHash"] as? String == file["contentHash"] as? String, "\(page.name)")
            for key in ["title", "published", "author", "siteName", "language", "captions"] {
                #expect((article[key] as? NSObject) == (file[key] as? NSObject), "\(page.name): \(key)")
            }
            #expect(article["source"] as? String == address, "\(page.name)")
            #expect(file["url"] as? String == page.metadata["url"].flatMap(\.text), "\(page.name)")
        }
        #expect(server.header("User-Agent", ofLastRequestFor: "/pages/blog-post.html")?.hasPrefix("Mozilla/5.0 (compatible; margin/") == true)
    }

    @Test func redirectsAreFollowedAndTheAddressTheyEndAtIsKept() async throws {
        let server = try await WebServer.start()
        defer { server.stop() }
        server.serve("/moved/story.html", Array(Self.articlePage(title: "Reading room opens", paragraphs: Self.paragraphs).utf8), contentType: "text/html")
        let library = try MarginProcess()

        let result = try await margin(library, ["import", server.url + "/redirect/3/moved/story.html"])

        #expect(result.status == 0, "\(result.stderr)")
        let article = try #require(try await articles(library).first)
        #expect(article["url"] as? String == server.url + "/moved/story.html")
        #expect(article["title"] as? String == "Reading room opens")
        #expect(server.requests(of: "/redirect/1/moved/story.html") == 1)
    }

    @Test func aRedirectLoopAndTooManyRedirectsFailWithoutStoringAnything() async throws {
        let server = try await WebServer.start()
        defer { server.stop() }
        server.serve("/far.html", Array(Self.articlePage(title: "Far away", paragraphs: Self.paragraphs).utf8), contentType: "text/html")
        let library = try MarginProcess()

        let loop = try await margin(library, ["import", server.url + "/loop"])
        let eleven = try await margin(library, ["import", server.url + "/redirect/11/far.html"])
        let ten = try await margin(library, ["import", server.url + "/redirect/10/far.html"])

        #expect(loop.status == 1)
        #expect(loop.stderr == "margin: \(server.url)/loop: too many redirects (a redirect loop?)\n")
        #expect(eleven.status == 1)
        #expect(eleven.stderr == "margin: \(server.url)/redirect/11/far.html: too many redirects (a redirect loop?)\n")
        #expect(ten.status == 0, "\(ten.stderr)")
        #expect(try await articles(library).count == 1)
    }

    @Test func compressedPagesAreRead() async throws {
        let server = try await WebServer.start()
        defer { server.stop() }
        let plain = try MarginProcess()
        let compressed = try MarginProcess()

        _ = try await margin(plain, ["import", server.url + "/pages/news-sidebar.html"])
        let result = try await margin(compressed, ["import", server.url + "/gzip/pages/news-sidebar.html"])

        #expect(result.status == 0, "\(result.stderr)")
        #expect(server.header("Accept-Encoding", ofLastRequestFor: "/gzip/pages/news-sidebar.html")?.contains("gzip") == true)
        let expected = try #require(try await articles(plain).first)
        let article = try #require(try await articles(compressed).first)
        #expect(article["contentHash"] as? String == expected["contentHash"] as? String)
    }

    /// Each bad address gets one line naming it and the cause; the good ones in the same
    /// list import; the import exits 1.
    @Test func everyFailureIsOneLineAndTheGoodPagesStillImport() async throws {
        let server = try await WebServer.start()
        defer { server.stop() }
        let tls = try await WebServer.start(tls: true)
        defer { tls.stop() }
        server.serve("/report.pdf", Array("%PDF-1.7\n%âãÏÓ\n".utf8), contentType: "application/pdf")
        server.serve("/photo.png", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], contentType: "image/png")
        let closed = try Self.closedPort()
        let library = try MarginProcess()
        let bad: [(path: String, cause: String)] = [
            (server.url + "/status/404", "the server answered HTTP 404 (not found)"),
            (server.url + "/status/500", "the server answered HTTP 500 (server error)"),
            (server.url + "/status/403", "the server answered HTTP 403 (access denied)"),
            (server.url + "/report.pdf", "not an HTML page (application/pdf)"),
            (server.url + "/photo.png", "not an HTML page (image/png)"),
            (server.url + "/endless", "the page is larger than 10 MiB"),
            (server.url + "/slow/4000/pages/blog-post.html", "no complete answer in time (timed out)"),
            (server.url + "/pages/link-page.html", "no article text found"),
            ("http://no-such-host.invalid/story.html", "cannot resolve the host name; check the address"),
            ("http://127.0.0.1:\(closed)/story.html", "cannot connect to the server"),
        ]
        let good = [server.url + "/pages/blog-post.html", server.url + "/slow/500/pages/how-to.html"]

        let result = try await margin(library, ["import", "--timeout", "2", "--json"] + bad.map(\.path) + good + [tls.url + "/pages/comments.html"])

        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        for (path, cause) in bad {
            #expect(lines.contains("margin: \(path): \(cause)"), "\(path): \(lines)")
        }
        let tlsLine = try #require(lines.first { $0.hasPrefix("margin: \(tls.url)/pages/comments.html: the TLS connection failed (") })
        #expect(tlsLine.hasSuffix("; --insecure skips the checks"))
        #expect(lines.count == bad.count + 1)
        let json = try result.json([String: Any].self)
        #expect((json["failed"] as? [[String: Any]])?.count == bad.count + 1)
        #expect(Set(try await articles(library).compactMap { $0["title"] as? String }) == [
            "Why I switched my sourdough starter to rye flour", "How to replace a bicycle inner tube",
        ])
    }

    @Test func aFailedImportStoresNothing() async throws {
        let server = try await WebServer.start()
        defer { server.stop() }
        let library = try MarginProcess()

        let result = try await margin(library, ["import", server.url + "/status/404", server.url + "/endless"])

        #expect(result.status == 1)
        #expect(try await articles(library).isEmpty)
        let status = try await margin(library, ["status", "--json"]).json([String: Any].self)
        #expect(status["pendingChanges"] as? Int == 0)
    }

    @Test func insecureReadsAPageFromASelfSignedServer() async throws {
        let tls = try await WebServer.start(tls: true)
        defer { tls.stop() }
        let library = try MarginProcess()

        let refused = try await margin(library, ["import", tls.url + "/pages/comments.html"])
        let accepted = try await margin(library, ["import", "--insecure", tls.url + "/pages/comments.html"])

        #expect(refused.status == 1)
        #expect(accepted.status == 0, "\(accepted.stderr)")
        #expect(try await articles(library).count == 1)
    }

    @Test func aCharsetNamedOnlyByTheServerIsRead() async throws {
        let server = try await WebServer.start()
        defer { server.stop() }
        let legacy = try #require(try WebPageCorpus().pages.first { $0.name == "vietnamese-legacy" })
        let declaration = Array(#"<meta http-equiv="Content-Type" content="text/html; charset=windows-1258">"#.utf8)
        var undeclared = legacy.html
        let start = try #require(Self.firstRange(of: declaration, in: undeclared))
        undeclared.removeSubrange(start)
        server.serve("/vn-header.html", undeclared, contentType: "text/html; charset=windows-1258")
        let german = Self.articlePage(
            title: "Größere Brücke für Fußgänger",
            paragraphs: [
                "Die Stadt baut über den Fluss eine größere Brücke, auf der Fußgänger und Radfahrer getrennte Wege bekommen.",
                "Bis zum Frühjahr bleibt die alte Brücke offen; danach müssen alle für drei Monate über die Fähre ausweichen.",
            ]
        ).replacingOccurrences(of: "<meta charset=\"utf-8\">", with: "")
        server.serve("/de-latin1.html", [UInt8](german.data(using: .isoLatin1)!), contentType: "text/html; charset=ISO-8859-1")
        let library = try MarginProcess()
        let reference = try MarginProcess()

        let result = try await margin(library, ["import", server.url + "/vn-header.html", server.url + "/de-latin1.html"])
        _ = try await margin(reference, ["import", WebPageCorpus.folder.appendingPathComponent("vietnamese-legacy.html").path])

        #expect(result.status == 0, "\(result.stderr)")
        let imported = try await articles(library)
        let vietnamese = try #require(imported.first { $0["url"] as? String == server.url + "/vn-header.html" })
        let expected = try #require(try await articles(reference).first)
        #expect(vietnamese["contentHash"] as? String == expected["contentHash"] as? String)
        #expect(vietnamese["title"] as? String == "Ngoại trưởng Nga và Mỹ điện đàm về thượng đỉnh Putin - Trump")
        let germanArticle = try #require(imported.first { $0["url"] as? String == server.url + "/de-latin1.html" })
        #expect(germanArticle["title"] as? String == "Größere Brücke für Fußgänger")
        #expect(try await body(library, #require(germanArticle["id"] as? String)).hasPrefix("Die Stadt baut über den Fluss eine größere Brücke"))
    }

    @Test func anAddressAlreadyInTheLibraryIsSkippedOrUpdatedNeverDoubled() async throws {
        let server = try await WebServer.start()
        defer { server.stop() }
        let path = "/news/reading-room.html"
        let canonical = "https://gazette.example/news/reading-room"
        server.serve(path, Array(Self.articlePage(title: "Reading room opens", paragraphs: Self.paragraphs, canonical: canonical).utf8), contentType: "text/html")
        let library = try MarginProcess()

        let first = try await margin(library, ["import", server.url + path])
        let again = try await margin(library, ["import", server.url + path])
        let id = try #require(try await articles(library)[0]["id"] as? String)
        let note = try await margin(library, ["annotate", id, "--quote", "good lamps", "--note", "finally"])
        #expect(note.status == 0, "\(note.stderr)")
        let noEarlierText = try await margin(library, ["show", id, "--previous"])
        let update = "Update: the roof leaked on its first rainy day."
        server.serve(
            path,
            Array(Self.articlePage(title: "Reading room opens, roof leaks", paragraphs: [update] + Self.paragraphs, canonical: canonical).utf8),
            contentType: "text/html")
        let updated = try await margin(library, ["import", "--json", server.url + path])
        let unchanged = try await margin(library, ["import", server.url + path])

        #expect(first.stdout == "imported 1, skipped 0 (already in the library)\n")
        #expect(again.stdout == "imported 0, skipped 1 (already in the library)\n")
        #expect(noEarlierText.status == 1)
        #expect(noEarlierText.stderr == "margin: article \(id) has not been updated on this machine: there is no earlier text\n")
        #expect(updated.status == 0, "\(updated.stderr)")
        let json = try updated.json([String: Any].self)
        let entries = try #require(json["updated"] as? [[String: Any]])
        #expect(entries.map { $0["id"] as? String } == [id])
        #expect(entries[0]["annotations"] as? [String: Int] == ["anchored": 1, "moved": 0, "changed": 0, "orphaned": 0])
        let stored = try await articles(library)
        #expect(stored.count == 1)
        #expect(stored[0]["url"] as? String == canonical)
        #expect(stored[0]["title"] as? String == "Reading room opens, roof leaks")
        #expect(try await body(library, id) == ([update] + Self.paragraphs).joined(separator: "\n\n"))
        #expect(unchanged.stdout == "imported 0, skipped 1 (already in the library)\n")
        // The highlight follows its words into the new text.
        let shown = try await margin(library, ["show", id])
        #expect(shown.stdout.contains("good [[lamps]]") == false)
        #expect(shown.stdout.contains("[[good lamps]][1]"), "\(shown.stdout)")
        let listed = try await margin(library, ["annotations", "--json"])
        let annotation = try #require((try listed.json([[String: Any]].self)).first)
        let start = ([update] + Self.paragraphs).joined(separator: "\n\n").unicodeScalars.count - Self.paragraphs.joined(separator: "\n\n").unicodeScalars.count
            + Self.paragraphs[0].unicodeScalars.count + 2 + Array(Self.paragraphs[1].unicodeScalars).firstRange(of: Array("good lamps".unicodeScalars))!.lowerBound
        #expect(annotation["anchor"] as? [String: Int] == ["start": start, "end": start + 10])
        #expect(annotation["state"] as? String == "anchored")
        let previous = try await margin(library, ["show", id, "--previous"])
        #expect(previous.status == 0, "\(previous.stderr)")
        #expect(previous.stdout.contains("{+\(update)\n\n+}\(Self.paragraphs[0])"), "\(previous.stdout)")
    }

    @Test func refreshFetchesArticlesAgainAndHighlightsFollowTheirWordsOrBecomeOrphans() async throws {
        let server = try await WebServer.start()
        defer { server.stop() }
        let page = { (paragraphs: [String]) in
            Array(Self.articlePage(title: "Reading room opens", paragraphs: paragraphs, canonical: "https://gazette.example/room").utf8)
        }
        server.serve("/room.html", page(Self.paragraphs), contentType: "text/html")
        let library = try MarginProcess()
        let seed = try await margin(library, ["import", MarginProcess.seeds])
        #expect(seed.status == 0, "\(seed.stderr)")
        _ = try await margin(library, ["import", server.url + "/room.html"])
        let id = try #require(try await articles(library).first { $0["url"] as? String == "https://gazette.example/room" }?["id"] as? String)
        for quote in ["long argument about the roof", "talking is allowed until noon", "evening classes and the chess club"] {
            let made = try await margin(library, ["annotate", id, "--quote", quote])
            #expect(made.status == 0, "\(made.stderr)")
        }

        let same = try await margin(library, ["refresh", id])
        // The second paragraph is rewritten (its highlight loses its words), the last edited
        // around its highlight, the first moved to the end.
        server.serve("/room.html", page([
            "Readers found long tables and good lamps; silence is kept all day.",
            "The librarian said the building would stay open late on Thursdays, when the evening classes and the chess club gather.",
            Self.paragraphs[0],
        ]), contentType: "text/html")
        let refreshed = try await margin(library, ["refresh"])
        let listed = try await margin(library, ["annotations", "--json"])
        let withoutAddress = try await margin(library, ["refresh", try #require(try await articles(library).first { $0["url"] == nil || $0["url"] is NSNull }?["id"] as? String)])

        #expect(same.stdout == "refreshed 1: updated 0, unchanged 1\n")
        #expect(refreshed.status == 0, "\(refreshed.stderr)")
        #expect(refreshed.stdout == "refreshed 1: updated 1, unchanged 0\nupdated \(id) “Reading room opens”: highlights 2 anchored, 0 moved, 0 changed, 1 orphaned\n")
        let entries = try listed.decoded([MarginProcess.ListedAnnotation].self)
        let states = Dictionary(uniqueKeysWithValues: entries.map { ($0.quote.exact, $0.state) })
        // The first paragraph is what the diff keeps (it is the longest run the texts share):
        // its highlight is carried there, the others' paragraphs changed around them.
        #expect(states == ["long argument about the roof": "anchored", "talking is allowed until noon": "orphaned", "evening classes and the chess club": "anchored"])
        let text = Array(try await body(library, id).unicodeScalars)
        for entry in entries {
            guard let anchor = entry.anchor else { continue }
            #expect(String(String.UnicodeScalarView(text[anchor.start..<anchor.end])) == entry.quote.exact)
        }
        #expect(withoutAddress.status == 1)
        #expect(withoutAddress.stderr.hasPrefix("margin: article "))
        #expect(withoutAddress.stderr.contains("has no address to fetch it from"))
    }

    @Test func aPageOnStandardInputImportsWithTheAddressGiven() async throws {
        let library = try MarginProcess()
        let page = Self.articlePage(title: "Reading room opens", paragraphs: Self.paragraphs)

        let result = try await margin(library, ["import", "-", "--url", "https://gazette.example/reading-room"], input: Array(page.utf8))
        let noAddress = try await margin(library, ["import", "-"], input: Array("<html><body><p>Too short.</p></body></html>".utf8))

        #expect(result.status == 0, "\(result.stderr)")
        let article = try #require(try await articles(library).first)
        #expect(article["url"] as? String == "https://gazette.example/reading-room")
        #expect(article["source"] as? String == "https://gazette.example/reading-room")
        #expect(noAddress.status == 1)
        #expect(noAddress.stderr == "margin: standard input: no article text found\n")
    }

    @Test func addressesComeFromAListFile() async throws {
        let server = try await WebServer.start()
        defer { server.stop() }
        let library = try MarginProcess()
        let list = library.directory.appendingPathComponent("reading-list.txt")
        try """
            # weekend reading
            \(server.url)/pages/blog-post.html

              \(server.url)/pages/how-to.html
            """.write(to: list, atomically: true, encoding: .utf8)

        let result = try await margin(library, ["import", "--urls-from", list.path])

        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "imported 2, skipped 0 (already in the library)\n")
    }

    @Test func aPlainTextPageImportsAsText() async throws {
        let server = try await WebServer.start()
        defer { server.stop() }
        server.serve("/notes.txt", Array(Self.paragraphs.joined(separator: "\n\n").utf8), contentType: "text/plain; charset=utf-8")
        let library = try MarginProcess()

        let result = try await margin(library, ["import", server.url + "/notes.txt"])

        #expect(result.status == 0, "\(result.stderr)")
        let article = try #require(try await articles(library).first)
        #expect(article["url"] as? String == server.url + "/notes.txt")
        #expect(try await body(library, #require(article["id"] as? String)) == Self.paragraphs.joined(separator: "\n\n"))
    }

    /// `http_proxy` is honored: a host that only the proxy can reach imports through it.
    @Test func pagesAreFetchedThroughTheProxyTheEnvironmentNames() async throws {
        let server = try await WebServer.start()
        defer { server.stop() }
        let port = try #require(Int(server.url.split(separator: ":").last!))
        let proxy = try FaultProxy(upstreamPort: port, seed: 1, faultPercent: 0)
        defer { proxy.stop() }
        let library = try MarginProcess()

        let result = try await margin(library, ["import", "http://gazette.invalid/pages/blog-post.html"], environment: ["http_proxy": proxy.url])

        #expect(result.status == 0, "\(result.stderr)")
        #expect(server.requests(of: "/pages/blog-post.html") == 1)
    }

    @Test func manyAddressesShowProgressOnATerminal() async throws {
        let server = try await WebServer.start()
        defer { server.stop() }
        let library = try MarginProcess()
        let pages = try WebPageCorpus().pages.filter { $0.expected != nil }.map { server.url + "/pages/\($0.name).html" }

        let result = try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try library.runInTerminal(["import"] + pages) }) }
        }

        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stdout.contains("fetching \(pages.count)/\(pages.count)"))
    }

    /// What a web article knows travels with it: another device has the same address,
    /// author, site, language and captions, and exports them.
    @Test(arguments: ServerProcess.Backend.allCases)
    func aWebArticleSyncsWithEverythingItKnows(_ backend: ServerProcess.Backend) async throws {
        let server = try ServerProcess.start(backend)
        defer { server.stop() }
        let (laptop, desktop) = try server.twoDevices(of: "ana")
        let saved = WebPageCorpus.folder.appendingPathComponent("news-sidebar.html").path

        _ = try await margin(laptop, ["import", saved])
        let pushed = try await margin(laptop, ["sync", "--quiet"])
        let pulled = try await margin(desktop, ["sync", "--quiet"])

        #expect(pushed.status == 0, "\(pushed.stderr)")
        #expect(pulled.status == 0, "\(pulled.stderr)")
        let original = try #require(try await articles(laptop).first)
        let copy = try #require(try await articles(desktop).first)
        for key in ["id", "title", "published", "url", "author", "siteName", "language", "captions", "contentHash"] {
            #expect((copy[key] as? NSObject) == (original[key] as? NSObject), "\(key)")
        }
        #expect(copy["url"] as? String == "https://www.riversidecourier.example/local/2026/03/14/rail-yard-park-approved")
        #expect(copy["author"] as? String == "Maria Delgado")
        let markdown = try await margin(desktop, ["export", "--format", "markdown"])
        #expect(markdown.stdout.contains("](<https://www.riversidecourier.example/local/2026/03/14/rail-yard-park-approved>)"))
    }

    /// The seeds (text files) import exactly as before web pages came in.
    @Test func theSeedsImportExactlyAsBefore() async throws {
        let library = try MarginProcess()
        _ = try await margin(library, ["import", MarginProcess.seeds])
        let listed = try await margin(library, ["list", "--json"]).decoded([MarginProcess.ListedArticle].self)
        let hashes = Dictionary(uniqueKeysWithValues: listed.map { ($0.source ?? "-", $0.contentHash) })
        #expect(hashes == [
            "000_ce75f4c29c345759.txt": "4cd4649b86262cc0ab925bab53cd5971b0ee41e221384b427bbf663a6fccc6b4",
            "001_eede1ab4931b32b1.txt": "e40a81e8281e78b26f69d67f90bd5ba0b87c3f84a17e9f03004ae3271f7c2fc2",
            "002_86c17f319f38c786.txt": "a5ca50295bcc2060e384eb70b0a8e9dc79caa60494268b5aed43ce7c30ae0ff8",
            "003_4a61cf19eb0ae3c9.txt": "c7d1d438c5ba4bba571ec353a48105c63d162d2f9849a08b83f4f9191f377c1d",
            "004_e0e308906b95cf95.txt": "0231f62be34aabdfe266155a678ecb4e987350d12391f3f6c7df903948f68f0f",
        ])
        #expect(try await articles(library).allSatisfy { $0["url"] is NSNull && $0["author"] is NSNull })
    }

    // MARK: - Helpers

    /// A port on 127.0.0.1 that nothing listens on.
    static func closedPort() throws -> Int {
        let proxy = try FaultProxy(upstreamPort: 9, seed: 0, faultPercent: 0)
        let port = Int(proxy.url.split(separator: ":").last!)!
        proxy.stop()
        return port
    }

    static func firstRange(of needle: [UInt8], in haystack: [UInt8]) -> Range<Int>? {
        guard needle.count <= haystack.count else { return nil }
        return (0...(haystack.count - needle.count)).first { haystack[$0..<$0 + needle.count].elementsEqual(needle) }
            .map { $0..<$0 + needle.count }
    }
}

extension WebPageCorpus.JSONValue {
    var text: String? {
        if case .text(let value) = self { value } else { nil }
    }
}
