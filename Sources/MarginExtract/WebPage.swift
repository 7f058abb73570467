import Foundation
import MarginCore

/// Reads the article in a web page — fetched, or saved by a browser or `curl -o` — as
/// margin stores it: its readable text as paragraphs (a blank line between them), its
/// image captions apart, its title, canonical address, publication date, author, site and
/// language. Pure: the caller fetches or reads the bytes.
///
/// For example:
/// ```swift
/// let document = try WebPage.read(bytes, contentType: "text/html; charset=windows-1258",
///                                 url: "https://example.org/news/1")
/// document.title   // the article's title, without the site's name
/// ```
public enum WebPage {
    /// Fewer words than this is not an article (a page of links, a cookie wall).
    static let minimumWords = 30

    /// The file name extensions of saved pages.
    public static let fileExtensions: Set<String> = ["html", "htm", "xhtml"]

    /// What a page served with `contentType` holds, by its media type or, when the type
    /// says little (none, `application/octet-stream`, `text/plain`), by its first bytes;
    /// `nil` for anything margin does not read (PDF, images…).
    public enum Kind: Sendable, Equatable {
        case html
        case text(markdown: Bool)

        public init?(contentType: String?, body: [UInt8]) {
            let mediaType = WebPage.mediaType(contentType)
            let start = body.prefix(512).drop { [0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains($0) }
            switch mediaType {
            case "text/html", "application/xhtml+xml": self = .html
            case "text/markdown", "text/x-markdown": self = .text(markdown: true)
            case nil, "", "application/octet-stream", "text/plain":
                if start.first == UInt8(ascii: "<") {
                    self = .html
                } else if mediaType == "text/plain" {
                    self = .text(markdown: false)
                } else {
                    return nil
                }
            default: return nil
            }
        }
    }

    /// The media type of a `Content-Type` (`text/html` of `text/html; charset=utf-8`), lowercased.
    public static func mediaType(_ contentType: String?) -> String? {
        contentType?.split(separator: ";", omittingEmptySubsequences: false).first.map { $0.trimmingWhitespace().lowercased() }
    }

    /// The article of a page of `kind` (HTML, or text read as a text file is).
    public static func read(_ bytes: [UInt8], kind: Kind, contentType: String?, url: String?) throws(MarginError) -> ParsedDocument {
        switch kind {
        case .html:
            return try read(bytes, contentType: contentType, url: url)
        case .text(let markdown):
            let declared = contentType.flatMap { MetaPrescan.charset(inContent: $0) }
            let encoding = declared.flatMap { PageEncoding(label: $0) } ?? (PageEncoding.isValidUTF8(bytes[...]) ? .utf8 : .windows1252)
            let name = url ?? "the page"
            do {
                var document = try DocumentParser.parseText(encoding.decode(bytes), markdown: markdown, name: name)
                document.url = url.flatMap { PageMetadata.absolute($0, base: nil) }
                return document
            } catch {
                // The caller names the page.
                throw MarginError(error.code, String(error.message.dropFirst(error.message.hasPrefix(name + ": ") ? name.count + 2 : 0)))
            }
        }
    }

    /// The article in `bytes`. `contentType` is the HTTP `Content-Type` (its charset is the
    /// page's unless a byte-order mark says otherwise); `url` is where the page was fetched
    /// from (after redirects), against which its links are read, and the article's address
    /// when the page names no canonical one.
    public static func read(_ bytes: [UInt8], contentType: String?, url: String?) throws(MarginError) -> ParsedDocument {
        let declared = contentType.flatMap { MetaPrescan.charset(inContent: $0) }
        let html = PageEncoding.detect(bytes, declared: declared).decode(bytes)
        let tree = try HTMLTree(html: html)
        let base = url.flatMap { URL(string: $0) }
        let metadata = PageMetadata(tree, url: base)
        var extractor = ArticleExtractor(tree, title: metadata.title)
        var (paragraphs, captions) = extractor.extract()
        if let body = metadata.articleBody, words(in: paragraphs) < 2 * minimumWords {
            let structured = body.split(whereSeparator: \.isNewline).map { clean($0) }.filter { !$0.isEmpty }
            if words(in: structured) > words(in: paragraphs) { (paragraphs, captions) = (structured, captions) }
        }
        let address = metadata.canonicalURL ?? url.flatMap { PageMetadata.absolute($0, base: nil) }
        let title = self.title(metadata, address: address, tree: tree, paragraphs: paragraphs)
        // The headline, a dateline or a byline repeated at the edges of the text is not the
        // text; a dateline dates a page that says nothing of its date elsewhere, a signature
        // ("Hoàng Anh", set apart at the end) names its author.
        var datelines: [String] = []
        var author = metadata.author
        while let first = paragraphs.first, clean(first) == title || Dateline.matches(first) || first == author {
            if Dateline.matches(first) { datelines.append(first) }
            paragraphs.removeFirst()
        }
        while let last = paragraphs.last, paragraphs.count > 1 {
            if Dateline.matches(last) {
                datelines.append(last)
            } else if last == author || last == "By " + (author ?? "") {
            } else if isSignature(last) {
                author = author ?? last
            } else {
                break
            }
            paragraphs.removeLast()
        }
        guard words(in: paragraphs) >= minimumWords else { throw MarginError(.unsupportedFile, "no article text found") }
        let published = metadata.published ?? datelines.lazy.compactMap { Dateline.date(in: $0, language: metadata.language) }.first
        return ParsedDocument(
            format: .html, title: ArticleText.normalize(title),
            published: published, body: ArticleText.normalize(paragraphs.joined(separator: "\n\n")),
            captions: captions.map(ArticleText.normalize), url: address,
            author: author.map(ArticleText.normalize), siteName: metadata.siteName.map(ArticleText.normalize),
            language: metadata.language)
    }

    /// The article's title: `og:title` (or JSON-LD `headline`), else the page's `<h1>`,
    /// else `<title>` without the site's name, else the lead's first sentence. A title
    /// that names the site it is on loses that part; one that is only a date is passed over.
    private static func title(_ metadata: PageMetadata, address: String?, tree: HTMLTree, paragraphs: [String]) -> String {
        let heading = tree.first(.h1, in: tree.root).map { tree.plainText($0) }
        let candidates = [
            metadata.title.map { withoutSiteName($0, siteName: metadata.siteName, address: address, guessing: false) },
            heading.map { clean($0) },
            metadata.documentTitle.map { withoutSiteName($0, siteName: metadata.siteName, address: address, guessing: true) },
        ]
        if let title = candidates.lazy.compactMap({ $0 }).first(where: { !$0.isEmpty && !$0.contains("{{") && !Dateline.matches($0) }) {
            return String(title.prefix(RecordRules.title.maximum))
        }
        return DocumentParser.title(fromLead: paragraphs.first ?? "")
    }

    /// "Headline | Site" or "Site - Headline" without the site: the parts that are not the
    /// site's name (given, or the name in its address: "MODEPILOT.de", "DW" on dw.com) nor
    /// a date; `guessing` (for `<title>`, which nearly always names the site), the longer
    /// of the two ends when no part is known to be the site.
    static func withoutSiteName(_ title: String, siteName: String?, address: String?, guessing: Bool) -> String {
        let site = SiteName(siteName, address: address)
        for separator in [" | ", " – ", " — ", " - ", " :: ", " · ", " • ", " » "] where title.contains(separator) {
            let parts = title.components(separatedBy: separator).map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
            guard parts.count > 1 else { continue }
            let rest = parts.filter { !site.matches($0) && !Dateline.matches($0) }
            if !rest.isEmpty, rest.count < parts.count { return rest.joined(separator: separator) }
            guard guessing else { return title }
            // The site's name is the short part at one end.
            let first = parts[0]
            let last = parts[parts.count - 1]
            return first.count >= last.count ? parts.dropLast().joined(separator: separator) : parts.dropFirst().joined(separator: separator)
        }
        return title
    }

    /// What a site is called: its stated name, its host, and the name its host is made of.
    private struct SiteName {
        var names: Set<String> = []
        /// `theguardian` for www.theguardian.com, `bbc` for www.bbc.co.uk.
        var core: String?

        init(_ name: String?, address: String?) {
            if let name { names.insert(name.lowercased()) }
            guard let host = address.flatMap({ URL(string: $0)?.host?.lowercased() }) else { return }
            var labels = host.split(separator: ".").map(String.init)
            if labels.first == "www" { labels.removeFirst() }
            names.insert(labels.joined(separator: "."))
            guard labels.count >= 2 else { return }
            labels.removeLast()
            if labels.count >= 2, let second = labels.last, second.count <= 3 { labels.removeLast() }
            core = labels.last
        }

        func matches(_ part: String) -> Bool {
            let text = part.lowercased()
            if names.contains(text) { return true }
            guard let core else { return false }
            let squeezed = text.filter { $0.isLetter || $0.isNumber }
            return squeezed == core || text.split(separator: ".").first.map(String.init) == core
        }
    }

    /// A name on its own at the end of an article: a few capitalized words of letters
    /// (initials and hyphens allowed), not a sentence.
    static func isSignature(_ text: String) -> Bool {
        let words = text.split(whereSeparator: \.isWhitespace)
        guard (1...5).contains(words.count), text.count <= 50, let end = text.last, !".!?:;,".contains(end) else { return false }
        return words.allSatisfy { word in
            word.first?.isUppercase == true && word.allSatisfy { $0.isLetter || $0 == "-" || $0 == "." || $0 == "'" || $0 == "’" }
        }
    }

    private static func clean(_ text: some StringProtocol) -> String {
        var line = TextCollector()
        line.append(text)
        return line.finish()
    }

    private static func words(in paragraphs: [String]) -> Int {
        paragraphs.reduce(0) { $0 + $1.wordCount }
    }
}

