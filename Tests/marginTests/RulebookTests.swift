import Foundation
import MarginCore
import Testing

/// Every rule of the rulebook at its limit and one over, as users reach it: through the
/// command line and through the import of an edited export. At the limit the change is
/// made; one over, it is refused with one line naming the field, the limit and the size,
/// and nothing changes (no record, no change-log entry).
@Suite struct RulebookTests {
    /// Text of `count` scalars (a precomposed Vietnamese letter: one scalar, three UTF-8 bytes).
    static func text(_ count: Int) -> String { String(repeating: "ấ", count: count) }

    /// Plain text of exactly `bytes` UTF-8 bytes (ASCII words), ending with a letter.
    static func words(_ bytes: Int) -> String {
        let unit = "word "
        let text = String(repeating: unit, count: bytes / unit.count) + String(repeating: "a", count: bytes % unit.count)
        return text.hasSuffix(" ") ? String(text.dropLast()) + "a" : text
    }

    /// The library's state, to show a refusal changed nothing: its change log and its export
    /// without the export's own time.
    static func state(_ margin: MarginProcess) throws -> String {
        let log = try margin.run(["log", "--json"]).stdout
        var export = try margin.run(["export", "--format", "json"]).json([String: Any].self)
        export["exportedAt"] = nil
        return log + String(decoding: try JSONSerialization.data(withJSONObject: export, options: .sortedKeys), as: UTF8.self)
    }

    /// A library with one article (whose body has `bodyBytes` bytes) and one annotation on it.
    static func library(bodyBytes: Int = 200) throws -> (margin: MarginProcess, article: String, annotation: String) {
        let margin = try MarginProcess()
        let file = margin.directory.appendingPathComponent("article.txt")
        try Data(words(bodyBytes).utf8).write(to: file)
        #expect(try margin.run(["import", file.path]).status == 0)
        let article = try #require((try margin.run(["list", "--json"]).json([[String: Any]].self)).first?["id"] as? String)
        let annotation = try margin.run(["annotate", article, "--range", "0:4"]).stdout.trimmingCharacters(in: .newlines)
        return (margin, article, annotation)
    }

    /// The command line that makes a value of `size` for `limit`, on a fresh library. (Its
    /// texts are ASCII: Linux passes at most 128 KiB in one argument.)
    static func commandLine(_ limit: RecordLimit, size: Int) throws -> (MarginProcess, [String]) {
        let text = { (count: Int) in String(repeating: "a", count: count) }
        switch limit {
        case RecordRules.title:
            let (margin, article, _) = try library()
            return (margin, ["edit", article, "--title", text(size)])
        case RecordRules.note:
            let (margin, _, annotation) = try library()
            return (margin, ["edit", annotation, "--note", text(size)])
        case RecordRules.tag:
            let (margin, _, annotation) = try library()
            return (margin, ["edit", annotation, "--add-tag", text(size)])
        case RecordRules.tags:
            let (margin, _, annotation) = try library()
            return (margin, ["edit", annotation] + (0..<size).flatMap { ["--add-tag", String(format: "t%04d", $0)] })
        case RecordRules.exact:
            let (margin, article, _) = try library(bodyBytes: size + 10)
            return (margin, ["annotate", article, "--range", "0:\(size)"])
        default:
            // The article body: a file of `size` bytes.
            let margin = try MarginProcess()
            let file = margin.directory.appendingPathComponent("big.txt")
            try Data(words(size).utf8).write(to: file)
            return (margin, ["import", file.path])
        }
    }

    static let commandLineLimits = [
        RecordRules.title, RecordRules.note, RecordRules.tag, RecordRules.tags, RecordRules.exact, RecordRules.body,
    ]

    @Test(arguments: commandLineLimits)
    func theCommandLineMakesAChangeAtTheLimitAndRefusesOneOverChangingNothing(_ limit: RecordLimit) throws {
        let (atLimit, made) = try Self.commandLine(limit, size: limit.maximum)
        let accepted = try atLimit.run(made)
        #expect(accepted.status == 0, "\(accepted.stderr)")

        let (overLimit, refused) = try Self.commandLine(limit, size: limit.maximum + 1)
        let before = try Self.state(overLimit)
        let result = try overLimit.run(refused)
        #expect(result.status != 0)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(result.stderr.contains("\(limit.maximum + 1)") && result.stderr.contains("at most \(limit.maximum)"), "\(result.stderr)")
        #expect(result.stderr.contains(limit == RecordRules.body ? "body" : limit == RecordRules.tag ? "a tag" : "'\(limit.name)'"))
        #expect(try Self.state(overLimit) == before)
    }

    /// An exported library of one article and one annotation, edited by `edit`, imported
    /// into a fresh library.
    static func importEdited(_ edit: (inout [String: Any], inout [String: Any]) -> Void) throws -> (MarginProcess, MarginProcess.Result) {
        let (source, _, _) = try library()
        var export = try source.run(["export", "--format", "json"]).json([String: Any].self)
        var article = try #require((export["articles"] as? [[String: Any]])?.first)
        var annotation = try #require((export["annotations"] as? [[String: Any]])?.first)
        edit(&article, &annotation)
        export["articles"] = [article]
        export["annotations"] = [annotation]
        let target = try MarginProcess()
        let file = target.directory.appendingPathComponent("edited.json")
        try JSONSerialization.data(withJSONObject: export).write(to: file)
        return (target, try target.run(["import", file.path]))
    }

    /// Sets the value of `size` for `limit` in an exported article or annotation.
    static func edit(_ limit: RecordLimit, size: Int, _ article: inout [String: Any], _ annotation: inout [String: Any]) {
        switch limit {
        case RecordRules.title: article["title"] = text(size)
        case RecordRules.source: article["source"] = text(size)
        case RecordRules.url: article["url"] = "https://example.org/" + text(size - 20)
        case RecordRules.author: article["author"] = text(size)
        case RecordRules.siteName: article["siteName"] = text(size)
        case RecordRules.caption: article["captions"] = [text(size)]
        case RecordRules.captions:
            let whole = RecordRules.caption.maximum
            article["captions"] = Array(repeating: text(whole), count: size / whole) + [text(size % whole)].filter { !$0.isEmpty }
        case RecordRules.tag: annotation["tags"] = [text(size)]
        case RecordRules.tags: annotation["tags"] = (0..<size).map { String(format: "t%04d", $0) }
        case RecordRules.note: annotation["note"] = text(size)
        case RecordRules.exact:
            var quote = annotation["quote"] as? [String: Any] ?? [:]
            quote["exact"] = text(size)
            annotation["quote"] = quote
        default:
            let body = words(size)
            article["body"] = body
            article["contentHash"] = ContentHash.of(body)
        }
    }

    @Test(arguments: RecordRules.limits.filter { $0 != RecordRules.context })
    func anEditedExportIsImportedAtTheLimitAndRefusedWholeOneOver(_ limit: RecordLimit) throws {
        let (accepted, made) = try Self.importEdited { Self.edit(limit, size: limit.maximum, &$0, &$1) }
        #expect(made.status == 0, "\(made.stderr)")
        #expect((try accepted.run(["annotations", "--json"]).json([Any].self)).count == 1)

        let (refused, result) = try Self.importEdited { Self.edit(limit, size: limit.maximum + 1, &$0, &$1) }
        #expect(result.status == 1)
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stderr.contains("\(limit.maximum + 1)") && result.stderr.contains("at most \(limit.maximum)"), "\(result.stderr)")
        #expect(result.stderr.contains([RecordRules.body, RecordRules.title, RecordRules.source, RecordRules.url, RecordRules.author,
            RecordRules.siteName, RecordRules.caption, RecordRules.captions].contains(limit) ? "articles[0]" : "annotations[0]"))
        #expect((try refused.run(["log", "--json"]).json([Any].self)).isEmpty)
        #expect((try refused.run(["list", "--json"]).json([Any].self)).isEmpty)
    }

    @Test func contextBeyondTheLimitIsTrimmedOnImportKeepingWhatIsNearestTheHighlight() throws {
        let prefix = "0123456789" + Self.text(32)
        let suffix = Self.text(32) + "0123456789"
        let (margin, result) = try Self.importEdited { _, annotation in
            var quote = annotation["quote"] as? [String: Any] ?? [:]
            quote["prefix"] = prefix
            quote["suffix"] = suffix
            annotation["quote"] = quote
        }
        #expect(result.status == 0, "\(result.stderr)")
        let imported = try #require((try margin.run(["annotations", "--json"]).json([[String: Any]].self)).first)
        let quote = try #require(imported["quote"] as? [String: Any])
        #expect(quote["prefix"] as? String == Self.text(32))
        #expect(quote["suffix"] as? String == Self.text(32))
    }
}
