import Foundation
import MarginCore
import MarginPresentation
import Testing

@Suite struct CommandLineTests {
    private func importedSeeds(_ margin: MarginProcess) throws -> [[String: Any]] {
        let result = try margin.run(["import", MarginProcess.seeds])
        #expect(result.status == 0)
        return try margin.run(["list", "--json"]).json([[String: Any]].self)
    }

    private func article(_ articles: [[String: Any]], published: String) throws -> String {
        try #require(articles.first { $0["published"] as? String == published }?["id"] as? String)
    }

    @Test func importReportsCountsAndReimportSkipsAllFive() throws {
        let margin = try MarginProcess()

        let first = try margin.run(["import", MarginProcess.seeds])
        let second = try margin.run(["import", MarginProcess.seeds])

        #expect(first.status == 0)
        #expect(first.stdout == "imported 5, skipped 0 (already in the library)\n")
        #expect(second.status == 0)
        #expect(second.stdout == "imported 0, skipped 5 (already in the library)\n")
        #expect(first.stderr.isEmpty)
        let attributes = try FileManager.default.attributesOfItem(atPath: margin.store)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test func aBadFileFailsWithOneLineNamingItWhileTheRestImports() throws {
        let margin = try MarginProcess()
        let bad = margin.directory.appendingPathComponent("latin1.txt")
        try Data([0x43, 0x61, 0x66, 0xE9]).write(to: bad)

        let result = try margin.run(["import", bad.path, MarginProcess.seeds, "--json"])

        #expect(result.status == 1)
        #expect(result.stderr == "margin: \(bad.path): not valid UTF-8 text; convert it to UTF-8 and import again\n")
        let json = try result.json([String: Any].self)
        #expect((json["imported"] as? [Any])?.count == 5)
        #expect((json["failed"] as? [[String: Any]])?.map { $0["path"] as? String } == [bad.path])
    }

    @Test(arguments: [
        ["annotate", "0000"],
        ["annotate", "0000", "--quote", "a", "--range", "1:2"],
        ["annotate", "0000", "--range", "5:2"],
        ["annotate", "0000", "--quote", "a", "--color", "mauve"],
        ["list", "--frobnicate"],
        ["search"],
        ["import"],
        ["edit", "0000"],
        ["show", "ab"],
        ["export", "--format", "pdf"],
        ["list", "--tag", " "],
        ["annotations", "--tag", ""],
        ["no-such-command"],
    ])
    func usageErrorsExitWithTwoAndOneLine(_ arguments: [String]) throws {
        let margin = try MarginProcess()
        let result = try margin.run(arguments)
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("margin: "))
        #expect(result.stderr.filter { $0 == "\n" }.count == 1)
        #expect(result.stdout.isEmpty)
    }

    @Test func annotateByQuotePrintsTheIdAndShowMarksItWithoutATerminal() throws {
        let margin = try MarginProcess()
        let id = try article(try importedSeeds(margin), published: "2025-10-23")

        let created = try margin.run([
            "annotate", String(id.prefix(20)), "--quote", "hội nghị thượng đỉnh", "--occurrence", "2", "--note",
            "Hủy ở Budapest", "--tag", "summit",
        ])
        let shown = try margin.run(["show", id])

        #expect(created.status == 0)
        let annotationId = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(annotationId.count == 36)
        #expect(shown.status == 0)
        #expect(shown.stdout.contains("[[hội nghị thượng đỉnh]][1] với nhà lãnh đạo Nga"))
        #expect(shown.stdout.contains("[1] \(annotationId)  yellow\n    “hội nghị thượng đỉnh”\n    Hủy ở Budapest\n    #summit"))
        #expect(shown.stdout.contains("Photos\n  Người phát ngôn Bộ Ngoại giao Nga Maria Zakharova (Ảnh: Reuters)."))
        #expect(!shown.stdout.contains("\u{1B}["))
    }

    @Test func aRepeatedQuoteFailsWithTheCountAndChangesNothing() throws {
        let margin = try MarginProcess()
        let id = try article(try importedSeeds(margin), published: "2025-10-23")

        let result = try margin.run(["annotate", id, "--quote", "hội nghị thượng đỉnh"])

        #expect(result.status == 1)
        #expect(result.stderr.contains("the quote occurs 2 times"))
        #expect(result.stderr.contains("--occurrence N (1 to 2)"))
        #expect((try margin.run(["annotations", "--json"]).json([Any].self)).isEmpty)
    }

    @Test func showColorsHighlightsOnATerminalUnlessNoColorIsSet() throws {
        let margin = try MarginProcess()
        let id = try article(try importedSeeds(margin), published: "2025-10-23")
        try margin.run(["annotate", id, "--quote", "Mark Rutte", "--occurrence", "1", "--color", "green"])

        let colored = try margin.runInTerminal(["show", id])
        let plain = try margin.runInTerminal(["show", id], environment: ["NO_COLOR": "1"])

        #expect(colored.status == 0)
        #expect(colored.stdout.contains("\u{1B}[42;30mMark Rutte\u{1B}[0m"))
        #expect(plain.status == 0)
        #expect(!plain.stdout.contains("\u{1B}["))
        #expect(plain.stdout.contains("[[Mark Rutte]][1]"))
    }

    @Test func anAmbiguousPrefixListsTheCandidates() throws {
        let margin = try MarginProcess()
        let articles = try importedSeeds(margin)

        let result = try margin.run(["show", String(try #require(articles[0]["id"] as? String).prefix(8))])

        #expect(result.status == 1)
        #expect(result.stderr.contains("is ambiguous"))
        for article in articles { #expect(result.stderr.contains(try #require(article["id"] as? String))) }
    }

    @Test func unknownIdsAndBrokenStoresFailWithOneLine() throws {
        let margin = try MarginProcess()
        try margin.run(["import", MarginProcess.seeds])
        let missing = try margin.run(["show", "ffffffff"])
        try Data(String(repeating: "garbage ", count: 1000).utf8).write(to: URL(fileURLWithPath: margin.store))
        let broken = try margin.run(["list"])

        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("margin: no article has a handle or id starting with 'ffffffff'"))
        #expect(broken.status == 1)
        #expect(broken.stderr == "margin: \(margin.store) is not a Marginalia library (not an SQLite database)\n")
    }

    @Test func storePathComesFromTheOptionTheEnvironmentOrXDGDataHome() throws {
        let margin = try MarginProcess()
        let fromEnvironment = margin.directory.appendingPathComponent("env/lib.sqlite").path
        let dataHome = margin.directory.appendingPathComponent("data").path

        try margin.run(["import", MarginProcess.seeds], environment: ["MARGIN_STORE": fromEnvironment], useStoreOption: false)
        try margin.run(["import", MarginProcess.seeds], environment: ["XDG_DATA_HOME": dataHome], useStoreOption: false)
        let status = try margin.run(["status", "--json"], environment: ["XDG_DATA_HOME": dataHome], useStoreOption: false)

        #expect(FileManager.default.fileExists(atPath: fromEnvironment))
        let json = try status.json([String: Any].self)
        #expect(json["store"] as? String == dataHome + "/marginalia/library.sqlite")
        #expect(json["articles"] as? Int == 5)
        #expect(json["pendingChanges"] as? Int == 5)
    }

    @Test func everyListingPrintsItsDocumentedJSON() throws {
        let margin = try MarginProcess()
        let articles = try importedSeeds(margin)
        let id = try article(articles, published: "2025-10-20")
        let annotation = try margin.run(["annotate", id, "--range", "0:3", "--note", "ghi chú", "--tag", "t", "--json"])
        let annotationId = try #require(try annotation.json([String: Any].self)["id"] as? String)

        let article = articles.first { $0["id"] as? String == id }!
        #expect(Set(article.keys) == [
            "id", "title", "published", "source", "url", "author", "siteName", "language", "contentHash", "captions",
            "tags", "createdAt", "updatedAt", "annotationCount",
        ])
        let shown = try margin.run(["show", id, "--json"]).json([String: Any].self)
        #expect(Set(shown.keys) == ["article", "body", "annotations"])
        let listed = try margin.run(["annotations", id, "--json"]).json([[String: Any]].self)
        #expect(Set(listed[0].keys) == [
            "id", "articleId", "position", "quote", "note", "tags", "color", "createdAt", "updatedAt", "basis", "articleTitle",
            "anchor", "state", "orphan",
        ])
        #expect(listed[0]["basis"] as? String == shown["article"].flatMap { ($0 as? [String: Any])?["contentHash"] as? String })
        #expect(listed[0]["position"] as? [String: Int] == ["start": 0, "end": 3])
        #expect(listed[0]["anchor"] as? [String: Int] == ["start": 0, "end": 3])
        #expect(listed[0]["state"] as? String == "anchored")
        let found = try margin.run(["search", "ghi", "chu", "--json"]).json([[String: Any]].self)
        #expect(found.contains { $0["id"] as? String == annotationId && $0["kind"] as? String == "annotation" })
        #expect(Set(found[0].keys) == ["kind", "id", "articleId", "articleTitle", "snippet", "rank"])
        let log = try margin.run(["log", "--pending", "--json"]).json([[String: Any]].self)
        #expect(log.count == 6)
        #expect(Set(log[5].keys) == ["seq", "deviceId", "entity", "entityId", "op", "fields", "baseVersion", "hlc", "pushed"])
        let edited = try margin.run(["edit", String(annotationId.prefix(24)), "--color", "red", "--json"]).json([String: Any].self)
        #expect(edited["color"] as? String == "red")
        let deleted = try margin.run(["delete", id, "--json"]).json([String: Any].self)
        #expect(deleted as NSDictionary == ["kind": "article", "id": id, "annotationsDeleted": 1] as NSDictionary)
    }

    @Test func exportFormatsRoundTripAndRender() throws {
        let margin = try MarginProcess()
        let id = try article(try importedSeeds(margin), published: "2025-10-17")
        try margin.run(["annotate", id, "--quote", "Viktor Orban", "--note", "Hungary", "--tag", "eu"])
        let file = margin.directory.appendingPathComponent("export.json").path

        let json = try margin.run(["export", "--format", "json", "--output", file])
        let w3c = try margin.run(["export", "--format", "w3c"])
        let markdown = try margin.run(["export", "--format", "markdown"])
        let copy = try MarginProcess()
        let reimported = try copy.run(["import", file])

        #expect(json.status == 0)
        #expect((try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int) == 0o600)
        #expect(reimported.status == 0)
        let original = try margin.run(["export"]).json([String: Any].self)
        let copied = try copy.run(["export"]).json([String: Any].self)
        #expect(try #require(original["articles"] as? NSArray) == copied["articles"] as? NSArray)
        #expect(try #require(original["annotations"] as? NSArray) == copied["annotations"] as? NSArray)
        #expect(w3c.stdout.contains("\"TextQuoteSelector\""))
        #expect(w3c.stdout.contains("\"TextPositionSelector\""))
        #expect(markdown.stdout.contains("> Viktor Orban"))
        #expect(markdown.stdout.contains("#eu"))
    }

    /// One file per article for note apps: a second export rewrites only the marked block and
    /// the export's front matter keys, in the file the article's id names however it was
    /// renamed, and keeps everything the user wrote; a file whose markers are gone is left alone.
    @Test func perArticleMarkdownKeepsWhatTheUserWroteAcrossExports() throws {
        let margin = try MarginProcess()
        let articles = try importedSeeds(margin)
        let first = try #require(articles[0]["id"] as? String)
        let second = try #require(articles[1]["id"] as? String)
        _ = try margin.annotate(first, range: "0:12", note: "first thought", tags: ["later"])
        let folder = margin.directory.appendingPathComponent("vault/Marginalia")
        let export = ["export", "--format", "markdown", "--per-article", "--output", folder.path]

        let initial = try margin.run(export)

        #expect(initial.status == 0 && initial.stdout == "\(folder.path): 5 new, 0 updated, 0 unchanged\n", "\(initial)")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(names.count == 5 && names.allSatisfy { $0.hasSuffix(".md") })
        let firstName = try #require(names.first { $0.hasSuffix("-\(Handle.of(first).prefix(8)).md") })
        let firstFile = folder.appendingPathComponent(firstName)
        #expect((try FileManager.default.attributesOfItem(atPath: firstFile.path)[.posixPermissions] as? Int) == 0o600)
        let written = try String(contentsOf: firstFile, encoding: .utf8)
        #expect(written.hasPrefix("---\ntitle: \"\(try #require(articles[0]["title"] as? String))\"\n"))
        #expect(written.contains("\nid: \(first)\n---\n\n\(MarkdownExport.blockStart)\n## "))
        #expect(written.contains("first thought") && written.contains("#later"))

        // The user renames the file, adds a property and writes below the block.
        let renamed = folder.appendingPathComponent("My reading.md")
        try FileManager.default.moveItem(at: firstFile, to: renamed)
        let mine = written.replacingOccurrences(of: "\n---\n\n", with: "\nstatus: reading\n---\n\n") + "\n## Mine\n\nKeep this.\n"
        try mine.write(to: renamed, atomically: true, encoding: .utf8)
        // The second article's file loses its end marker.
        let secondFile = folder.appendingPathComponent(try #require(names.first { $0.hasSuffix("-\(Handle.of(second).prefix(8)).md") }))
        let broken = try String(contentsOf: secondFile, encoding: .utf8).replacingOccurrences(of: MarkdownExport.blockEnd, with: "")
        try broken.write(to: secondFile, atomically: true, encoding: .utf8)
        _ = try margin.annotate(first, range: "20:30", note: "second thought")
        _ = try margin.annotate(second, range: "0:5", note: "not exported into a broken file")
        try margin.run(["edit", first, "--title", "A better title"])

        let again = try margin.run(export)

        #expect(again.status == 1)
        #expect(again.stdout == "\(folder.path): 0 new, 1 updated, 3 unchanged, 1 left as they were\n", "\(again)")
        #expect(again.stderr.contains("\(secondFile.lastPathComponent) was left as it was: its block markers are missing"))
        #expect(try String(contentsOf: secondFile, encoding: .utf8) == broken)
        let updated = try String(contentsOf: renamed, encoding: .utf8)
        #expect(updated.hasPrefix("---\ntitle: \"A better title\"\n"))
        #expect(updated.contains("\nstatus: reading\n---\n"))
        #expect(updated.contains("first thought") && updated.contains("second thought"))
        #expect(updated.hasSuffix("\(MarkdownExport.blockEnd)\n\n## Mine\n\nKeep this.\n"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).count == 5)

        // A template of one's own; mistakes in it are usage errors that write nothing.
        let template = margin.directory.appendingPathComponent("note.mustache")
        try "# {{title}}\n{{#highlights}}\n- {{quote}} ({{state}}){{#note}}: {{note}}{{/note}}\n{{/highlights}}\n"
            .write(to: template, atomically: true, encoding: .utf8)
        let single = try margin.run(["export", "--format", "markdown", "--article", first, "--template", template.path])
        #expect(single.stdout.hasPrefix("# Marginalia\n\n# A better title\n- "), "\(single.stdout)")
        #expect(single.stdout.contains("(anchored): first thought\n"))
        try "{{#highlights}}{{nope}}{{/highlights}}".write(to: template, atomically: true, encoding: .utf8)
        let refused = try margin.run(export + ["--template", template.path])
        #expect(refused.status == 2 && refused.stderr.contains("template line 1: unknown variable 'nope'"), "\(refused)")
        #expect(try String(contentsOf: renamed, encoding: .utf8) == updated)
        #expect(try margin.run(["export", "--format", "markdown", "--per-article"]).status == 2)
        #expect(try margin.run(["export", "--format", "csv", "--template", template.path]).status == 2)
    }

    @Test func orphansAreListedAndShownUnderTheText() throws {
        let margin = try MarginProcess()
        let id = try article(try importedSeeds(margin), published: "2025-10-20")
        var export = try margin.run(["export"]).json([String: Any].self)
        export["annotations"] = [[
            "id": "019a1005-f6cb-7000-8000-0000000000aa", "articleId": id,
            "position": ["start": 3, "end": 20], "quote": ["exact": "một câu đã bị xóa khỏi bài", "prefix": "", "suffix": ""],
            "note": "ghi chú mồ côi", "tags": [], "color": "pink",
            "createdAt": "2025-10-20T08:00:00.000Z", "updatedAt": "2025-10-20T08:00:00.000Z",
        ]]
        let file = margin.directory.appendingPathComponent("orphan.json")
        try JSONSerialization.data(withJSONObject: export).write(to: file)

        #expect(try margin.run(["import", file.path]).status == 0)
        let orphans = try margin.run(["annotations", "--orphans", "--json"]).json([[String: Any]].self)
        let shown = try margin.run(["show", id]).stdout

        #expect(orphans.count == 1)
        #expect(orphans.first?["orphan"] as? Bool == true)
        #expect(orphans.first?["anchor"] is NSNull)
        #expect(orphans.first?["state"] as? String == "orphaned")
        #expect(shown.contains("[1] 019a1005-f6cb-7000-8000-0000000000aa  pink  (orphan: its passage is no longer in the text, or no longer in one place)"))
        #expect(!shown.contains("[["))
        #expect(try margin.run(["status", "--json"]).json() as? [String: Any] != nil)
    }

    /// Annotations whose selectors no longer fit their text where they stand are listed by
    /// `--changed` with their state, and `show` says what happened to each.
    @Test func movedAndChangedAnnotationsAreListedAndMarked() throws {
        let margin = try MarginProcess()
        let id = try article(try importedSeeds(margin), published: "2025-10-20")
        let body = try #require((try margin.run(["show", id, "--json"]).json([String: Any].self))["body"] as? String)
        let scalars = Array(body.unicodeScalars)
        func text(_ range: Range<Int>) -> String { String(String.UnicodeScalarView(scalars[range])) }
        // Moved: the right quote and context, at a stale position. Changed: one word of the
        // quote differs, its context is the text's.
        let quote = 200..<260
        var edited = Array(text(quote).unicodeScalars)
        edited[edited.count / 2] = "X"
        var export = try margin.run(["export"]).json([String: Any].self)
        export["annotations"] = [
            ["id": "019a1005-f6cb-7000-8000-0000000000a1", "articleId": id, "position": ["start": 0, "end": 60],
             "quote": ["exact": text(quote), "prefix": text(168..<200), "suffix": text(260..<292)]],
            ["id": "019a1005-f6cb-7000-8000-0000000000a2", "articleId": id, "position": ["start": 200, "end": 260],
             "quote": ["exact": String(String.UnicodeScalarView(edited)), "prefix": text(168..<200), "suffix": text(260..<292)]],
        ].map { fields in
            fields.merging(["note": "", "tags": [String](), "color": "yellow", "createdAt": "2025-10-20T08:00:00.000Z",
                            "updatedAt": "2025-10-20T08:00:00.000Z"]) { old, _ in old }
        }
        let file = margin.directory.appendingPathComponent("stale.json")
        try JSONSerialization.data(withJSONObject: export).write(to: file)

        #expect(try margin.run(["import", file.path]).status == 0)
        let changed = try margin.run(["annotations", "--changed", "--json"]).json([[String: Any]].self)
        let shown = try margin.run(["show", id]).stdout

        #expect(changed.map { $0["state"] as? String } == ["moved", "changed"])
        #expect(changed.map { $0["anchor"] as? [String: Int] } == [["start": 200, "end": 260], ["start": 200, "end": 260]])
        #expect(shown.contains("019a1005-f6cb-7000-8000-0000000000a1  yellow  (moved: its passage is elsewhere in the text now)"))
        #expect(shown.contains("019a1005-f6cb-7000-8000-0000000000a2  yellow  (text changed: its passage was edited;"))
        #expect(try margin.run(["annotations", "--orphans", "--json"]).json() as? [Any] != nil)
        let listed = try margin.run(["annotations", id]).stdout
        #expect(listed.contains("(moved)") && listed.contains("(text changed)"))
    }

    @Test func csvExportIsOneSafeRowPerAnnotationAndFiltersNarrowIt() throws {
        let margin = try MarginProcess()
        let articles = try importedSeeds(margin)
        let first = try article(articles, published: "2025-10-20")
        let second = try #require(articles.first { $0["id"] as? String != first }?["id"] as? String)
        let risky = try margin.run(["annotate", first, "--range", "0:12", "--note", "=HYPERLINK(\"http://evil.example\"), \"quoted\"",
                                    "--tag", "a", "--tag", "b"])
        #expect(risky.status == 0, "\(risky.stderr)")
        #expect(try margin.run(["annotate", second, "--range", "0:5", "--note=-1 plain"]).status == 0)

        let csv = try margin.run(["export", "--format", "csv"]).stdout
        let lines = csv.components(separatedBy: "\r\n")
        #expect(lines.first == "id,article_id,article_title,article_url,quote,note,tags,color,state,start,end,created_at,updated_at")
        #expect(lines.count == 4 && lines.last == "", "two rows, each ending in CRLF: \(lines)")
        #expect(csv.contains(#","'=HYPERLINK(""http://evil.example""), ""quoted""","a, b",yellow,anchored,0,12,"#), "\(csv)")
        #expect(csv.contains(",'-1 plain,"))

        let one = try margin.run(["export", "--format", "csv", "--article", first]).stdout
        #expect(one.components(separatedBy: "\r\n").count == 3)
        let future = try margin.run(["export", "--since", "2999-01-01"]).json([String: Any].self)
        #expect((future["articles"] as? [Any])?.isEmpty == true && (future["annotations"] as? [Any])?.isEmpty == true)
        let today = try margin.run(["export", "--since", String(Timestamp.now().iso8601.prefix(10))]).json([String: Any].self)
        #expect((today["annotations"] as? [Any])?.count == 2)
        #expect(try margin.run(["export", "--since", "yesterday"]).status == 2)
    }

    @Test func completionScriptsNameEveryCommand() throws {
        let margin = try MarginProcess()
        for shell in ["bash", "zsh", "fish"] {
            let result = try margin.run(["--generate-completion-script", shell], useStoreOption: false)
            #expect(result.status == 0, "\(shell)")
            for command in ["import", "list", "show", "search", "annotate", "annotations", "edit", "delete", "export", "log",
                            "discard", "status", "remote", "sync", "conflicts"] {
                #expect(result.stdout.contains(command), "\(shell): \(command)")
            }
        }
    }

    @Test func importShowsProgressOnlyOnATerminal() throws {
        let margin = try MarginProcess()
        let onTerminal = try margin.runInTerminal(["import", MarginProcess.seeds])
        let copy = try MarginProcess()
        let piped = try copy.run(["import", MarginProcess.seeds])

        #expect(onTerminal.stdout.contains("importing 5/5"))
        #expect(!piped.stderr.contains("importing"))
        #expect(!piped.stdout.contains("importing"))
    }
}
