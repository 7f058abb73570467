import Foundation
import MarginCore
import MarginWire

/// What a page says about its article, from the places publishers put it: Open Graph and
/// other `<meta>` tags, `<link rel="canonical">`, schema.org JSON-LD, `<time datetime>`,
/// the `lang` attribute and `<title>`.
struct PageMetadata: Sendable {
    /// The article's own title (`og:title`, `twitter:title`, JSON-LD `headline`).
    var title: String?
    /// `<title>`, which usually ends with the site's name.
    var documentTitle: String?
    var canonicalURL: String?
    var published: CalendarDate?
    var author: String?
    var siteName: String?
    var language: String?
    /// A JSON-LD `articleBody`, for pages that carry their text only there.
    var articleBody: String?

    /// The article types of schema.org whose JSON-LD describes the page's article.
    private static let articleTypes: Set<String> = [
        "Article", "NewsArticle", "BlogPosting", "ReportageNews", "AnalysisNewsArticle", "OpinionNewsArticle",
        "BackgroundNewsArticle", "ReviewNewsArticle", "Report", "ScholarlyArticle", "TechArticle", "LiveBlogPosting",
        "SocialMediaPosting", "DiscussionForumPosting", "HowTo", "Recipe",
    ]

    init(_ tree: HTMLTree, url: URL?) {
        var meta: [String: String] = [:]
        var jsonLD: [JSONNode] = []
        var times: [(node: Int, value: String)] = []
        for node in tree.descendants(of: tree.root) {
            switch tree.tag(node) {
            case .meta:
                guard let content = tree.attribute(node, .content)?.trimmingWhitespace(), !content.isEmpty else { continue }
                for key in [tree.attribute(node, .property), tree.attribute(node, .name), tree.attribute(node, .itemprop)]
                    .compactMap({ $0?.lowercased() }) where meta[key] == nil {
                    meta[key] = content
                }
                if tree.attribute(node, .httpEquiv)?.lowercased() == "content-language", meta["content-language"] == nil {
                    meta["content-language"] = content
                }
            case .link:
                let relations = (tree.attribute(node, .rel) ?? "").lowercased().split(separator: " ")
                if relations.contains("canonical"), meta["link:canonical"] == nil, let href = tree.attribute(node, .href) {
                    meta["link:canonical"] = href
                }
            case .title:
                if documentTitle == nil { documentTitle = Self.clean(tree.plainText(node)) }
            case .script:
                guard tree.attribute(node, .type)?.lowercased().hasPrefix("application/ld+json") == true else { continue }
                let text = tree.children(node).map { tree.text($0) }.joined()
                if let parsed = try? JSONNode.parse(text.trimmingWhitespace()) { jsonLD.append(parsed) }
            case .time:
                if let value = tree.attribute(node, .datetime) { times.append((node, value)) }
            default:
                break
            }
        }
        let article = jsonLD.flatMap(Self.objects).first { Self.types($0).contains(where: Self.articleTypes.contains) }
        let page = jsonLD.flatMap(Self.objects).first { Self.types($0).contains("WebPage") }

        title = [meta["og:title"], meta["twitter:title"], article.flatMap { Self.text($0, "headline") ?? Self.text($0, "name") }]
            .lazy.compactMap { $0.flatMap(Self.clean) }.first
        canonicalURL = [meta["link:canonical"], meta["og:url"], article.flatMap { Self.text($0, "url") }]
            .compactMap { $0.flatMap { Self.absolute($0, base: url) } }.first
        published = [
            meta["article:published_time"], article.flatMap { Self.text($0, "datePublished") }, meta["datepublished"],
            meta["og:published_time"], meta["pubdate"], meta["publishdate"], meta["date"], meta["dc.date"],
            meta["dc.date.issued"], meta["parsely-pub-date"], meta["sailthru.date"],
            times.first { tree.attribute($0.node, .itemprop)?.lowercased() == "datepublished" }?.value, times.first?.value,
            page.flatMap { Self.text($0, "datePublished") },
        ].lazy.compactMap { $0.flatMap(Self.date) }.first
        author = [
            article.flatMap { Self.names($0["author"]) }, meta["author"], meta["article:author"].flatMap(Self.personName),
            meta["parsely-author"], meta["sailthru.author"], meta["dc.creator"],
        ].lazy.compactMap { $0.flatMap { Self.clean($0) } }.first
        siteName = [
            meta["og:site_name"], article.flatMap { $0["publisher"].flatMap(Self.names) }, meta["application-name"],
            meta["publisher"],
        ].lazy.compactMap { $0.flatMap { Self.clean($0) } }.first
        language = [
            tree.attribute(tree.root, .lang), meta["content-language"], meta["og:locale"], article.flatMap { Self.text($0, "inLanguage") },
        ].lazy.compactMap { $0.flatMap(Self.languageTag) }.first
        if case .string(let body) = article?["articleBody"], !body.trimmingWhitespace().isEmpty { articleBody = body }
    }

    // MARK: - JSON-LD

    /// Every object of a JSON-LD block: the block itself, the items of a list, the
    /// members of an `@graph`.
    private static func objects(_ node: JSONNode) -> [[String: JSONNode]] {
        switch node {
        case .array(let items): return items.flatMap(objects)
        case .object(let members):
            let object = Dictionary(members, uniquingKeysWith: { first, _ in first })
            return [object] + (object["@graph"].map(objects) ?? [])
        default: return []
        }
    }

    private static func types(_ object: [String: JSONNode]) -> [String] {
        switch object["@type"] {
        case .string(let type): [type]
        case .array(let types): types.compactMap { if case .string(let type) = $0 { type } else { nil } }
        default: []
        }
    }

    private static func text(_ object: [String: JSONNode], _ key: String) -> String? {
        switch object[key] {
        case .string(let text): clean(text)
        case .array(let items): items.lazy.compactMap { if case .string(let text) = $0 { clean(text) } else { nil } }.first
        default: nil
        }
    }

    /// The names in an author or publisher: a string, an object with a `name`, or a list.
    private static func names(_ node: JSONNode?) -> String? {
        switch node {
        case .string(let name): return clean(name)
        case .object(let members):
            return members.first { $0.key == "name" }.flatMap { if case .string(let name) = $0.value { clean(name) } else { nil } }
        case .array(let items):
            let names = items.compactMap(names)
            return names.isEmpty ? nil : names.joined(separator: ", ")
        default: return nil
        }
    }

    // MARK: - Values

    /// An author given as a profile URL is not a name.
    private static func personName(_ value: String) -> String? {
        value.hasPrefix("http://") || value.hasPrefix("https://") ? nil : value
    }

    /// The day of an ISO 8601 date or date-time (`2025-10-23`, `2025-10-23T08:15:00+07:00`).
    static func date(_ value: String) -> CalendarDate? {
        let text = value.trimmingWhitespace()
        guard text.utf8.count >= 10 else { return nil }
        return CalendarDate(String(text.prefix(10)))
    }

    /// A language tag (`vi`, `en-US`) from `lang` or a locale (`vi_VN`), in the usual case:
    /// the language in lower case, a region in upper case, a script capitalized (`zh-Hant-TW`).
    private static func languageTag(_ value: String) -> String? {
        let tag = value.trimmingWhitespace().replacingOccurrences(of: "_", with: "-").split(separator: ",").first.map(String.init) ?? ""
        guard (2...35).contains(tag.count), tag.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }),
              tag.first?.isLetter == true
        else { return nil }
        let subtags = tag.split(separator: "-", omittingEmptySubsequences: false)
        return subtags.enumerated().map { index, subtag in
            switch (index, subtag.count) {
            case (0, _): subtag.lowercased()
            case (_, 2): subtag.uppercased()
            case (_, 4): subtag.prefix(1).uppercased() + subtag.dropFirst().lowercased()
            default: subtag.lowercased()
            }
        }.joined(separator: "-")
    }

    /// `value` resolved against the page's address: an absolute http(s) URL without its fragment.
    static func absolute(_ value: String, base: URL?) -> String? {
        let trimmed = value.trimmingWhitespace()
        guard !trimmed.isEmpty, let resolved = URL(string: trimmed, relativeTo: base)?.absoluteURL,
              let scheme = resolved.scheme?.lowercased(), scheme == "http" || scheme == "https", resolved.host != nil,
              var components = URLComponents(url: resolved, resolvingAgainstBaseURL: true)
        else { return nil }
        components.fragment = nil
        return components.string
    }

    /// Text on one line, `nil` when empty or an unfilled template (`{{page.title}}`).
    /// Character references left in it by a publisher that escaped twice (`O&#039;Donnell`)
    /// are read.
    static func clean(_ value: String) -> String? {
        var text = TextCollector()
        text.append(value.contains("&") ? Self.decodingReferences(value) : value)
        let line = text.finish()
        return line.isEmpty || line.contains("{{") ? nil : line
    }

    /// `text` with its numeric character references and the five XML entities read.
    private static func decodingReferences(_ text: String) -> String {
        var result = ""
        var rest = text[...]
        while let ampersand = rest.firstIndex(of: "&") {
            result += rest[..<ampersand]
            rest = rest[ampersand...]
            guard let semicolon = rest.prefix(10).firstIndex(of: ";") else {
                result += "&"
                rest = rest.dropFirst()
                continue
            }
            let name = rest[rest.index(after: rest.startIndex)..<semicolon]
            if let character = Self.character(referencedBy: name) {
                result.unicodeScalars.append(character)
                rest = rest[rest.index(after: semicolon)...]
            } else {
                result += "&"
                rest = rest.dropFirst()
            }
        }
        return result + rest
    }

    private static func character(referencedBy name: Substring) -> Unicode.Scalar? {
        switch name {
        case "amp": return "&"
        case "lt": return "<"
        case "gt": return ">"
        case "quot": return "\""
        case "apos": return "'"
        case "nbsp": return "\u{A0}"
        default:
            guard name.hasPrefix("#") else { return nil }
            let digits = name.dropFirst()
            let value = digits.first == "x" || digits.first == "X" ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits)
            return value.flatMap(Unicode.Scalar.init).flatMap { $0.value == 0 ? nil : $0 }
        }
    }
}
