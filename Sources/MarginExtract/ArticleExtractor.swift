import Foundation
import MarginCore

/// Finds the article in a page and lays its text out as paragraphs, leaving out the site
/// around it. The method is Readability's (Mozilla), adapted:
///
/// 1. **Prune** what is never article text: scripts, styles, forms and media; navigation,
///    asides, footers; hidden elements; elements whose class or id says they are comments,
///    share buttons, cookie notices, related links, ads, sidebars (unless it also says
///    article or content).
/// 2. **Score**: every block of text of 25 characters or more scores 1, plus its commas,
///    plus one per 100 characters (at most 3), for its parent, half for its grandparent and
///    less further up; containers start from their tag and class, and end multiplied by
///    the share of their text that is not links.
/// 3. **Select** the best container, moving up to an ancestor that scores better or that
///    holds several close runners-up, and add its siblings that score well or read as
///    paragraphs.
/// 4. **Render** paragraphs — a blank line between them; headings, list items and quotes
///    as paragraphs of their own — dropping link lists and blocks whose class says
///    boilerplate, and setting image captions apart.
///
/// When that finds too little and the page's JSON-LD carries an `articleBody`, that text
/// is used instead.
struct ArticleExtractor {
    /// Blocks shorter than this add nothing to their container's score.
    static let minimumScoredLength = 25

    private let tree: HTMLTree
    /// Nodes left out: pruned, or under a pruned node.
    private var pruned: [Bool]
    private var score: [Double]
    private var scored: [Bool]
    /// Text length (characters) under each node, and how much of it is link text.
    private var textLength: [Int]
    private var linkLength: [Int]
    /// The length and the commas of a node's own lines: its inline content, not that of
    /// the blocks inside it.
    private var ownLength: [Int]
    private var ownCommas: [Int]
    /// The characters of paragraph text under each node: blocks of 80 characters or more
    /// of their own, mostly not links.
    private var paragraphText: [Int]
    /// The article's title as the page names it, which finds the article on a page that
    /// holds several.
    private let title: String?

    init(_ tree: HTMLTree, title: String?) {
        self.tree = tree
        self.title = title.map { $0.lowercased() }
        pruned = Array(repeating: false, count: tree.count)
        score = Array(repeating: 0, count: tree.count)
        scored = Array(repeating: false, count: tree.count)
        textLength = Array(repeating: 0, count: tree.count)
        linkLength = Array(repeating: 0, count: tree.count)
        ownLength = Array(repeating: 0, count: tree.count)
        ownCommas = Array(repeating: 0, count: tree.count)
        paragraphText = Array(repeating: 0, count: tree.count)
    }

    /// The article's paragraphs and the captions of its images; empty when the page holds
    /// no article text.
    mutating func extract() -> (paragraphs: [String], captions: [String]) {
        let body = tree.first(.body, in: tree.root) ?? tree.root
        for strict in [true, false] {
            pruned = Array(repeating: false, count: tree.count)
            prune(body, strict: strict)
            measure(body)
            let result = render(select(body))
            if !strict || result.paragraphs.joined().count >= 250 { return result }
        }
        return ([], [])
    }

    // MARK: - 1. Prune

    private mutating func prune(_ node: Int, strict: Bool) {
        var next = node + 1
        let end = tree.descendants(of: node).upperBound
        while next < end {
            if tree.tag(next) != .text, isBoilerplate(next, strict: strict) {
                let subtree = tree.descendants(of: next)
                for removed in subtree { pruned[removed] = true }
                next = subtree.upperBound
            } else {
                next += 1
            }
        }
    }

    private func isBoilerplate(_ node: Int, strict: Bool) -> Bool {
        let tag = tree.tag(node)
        if tag.isNeverContent { return true }
        switch tag {
        case .nav, .menu: return true
        case .aside, .footer: if !holdsArticle(node) { return true }
        case .form: if !hasParagraphs(node) { return true }
        case .header: if !isInside(node, [.article, .main]), !holdsArticle(node) { return true }
        case .a: if isTeaserLink(node) { return true }
        default: break
        }
        if tree.attribute(node, .hidden) != nil || tree.attribute(node, .ariaHidden)?.lowercased() == "true" { return true }
        if let style = tree.attribute(node, .style)?.lowercased().filter({ $0 != " " }),
           style.contains("display:none") || style.contains("visibility:hidden") {
            return true
        }
        if let role = tree.attribute(node, .role)?.lowercased(), Self.boilerplateRoles.contains(role) { return true }
        guard strict, tag != .article, tag != .main, tag != .body, tree.attribute(node, .itemprop) != "articleBody" else { return false }
        if matches(node, Self.endMatter) || isAdvertisement(node) { return !holdsArticle(node) }
        return matches(node, Self.unlikely) && !matches(node, Self.maybe) && !holdsArticle(node)
    }

    /// Whether the article is inside `node`, for wrappers named or tagged like what sits
    /// around an article (a page laid out in an `<aside>`, a `content-sidebar-wrap`): it
    /// holds the main content, the article body, or an `<article>` longer than a teaser.
    private func holdsArticle(_ node: Int) -> Bool {
        tree.descendants(of: node).dropFirst().contains { inner in
            switch tree.tag(inner) {
            case .main: true
            case .article: tree.visibleText(under: inner) >= 500
            case .text: false
            default: tree.attribute(inner, .itemprop) == "articleBody" || tree.attribute(inner, .role) == "main"
            }
        }
    }

    /// A link around a heading: a card that leads to another article.
    private func isTeaserLink(_ node: Int) -> Bool {
        tree.descendants(of: node).contains { tree.tag($0).isHeading }
    }

    private func hasParagraphs(_ node: Int) -> Bool {
        tree.descendants(of: node).contains { tree.tag($0) == .p }
    }

    private func isInside(_ node: Int, _ tags: Set<HTMLTag>) -> Bool {
        var current = tree.parent(node)
        while let ancestor = current {
            if tags.contains(tree.tag(ancestor)) { return true }
            current = tree.parent(ancestor)
        }
        return false
    }

    // MARK: - 2. Score

    /// Text and link lengths of every node under `body`, and the scores of containers.
    private mutating func measure(_ body: Int) {
        let nodes = tree.descendants(of: body)
        for node in nodes {
            score[node] = 0
            scored[node] = false
            textLength[node] = 0
            linkLength[node] = 0
            ownLength[node] = 0
            ownCommas[node] = 0
            paragraphText[node] = 0
        }
        // Children come after their parent in document order: sum from the end.
        for node in nodes.reversed() where !pruned[node] {
            let tag = tree.tag(node)
            if tag == .text {
                textLength[node] = tree.visibleLength(node)
                ownLength[node] = textLength[node]
                ownCommas[node] = tree.commas(node)
            } else if tag == .a {
                linkLength[node] = textLength[node]
            } else if !tag.isInline, ownLength[node] >= 80, linkLength[node] * 10 < textLength[node] * 3 {
                paragraphText[node] += ownLength[node]
            }
            guard node != body, let parent = tree.parent(node) else { continue }
            textLength[parent] += textLength[node]
            linkLength[parent] += linkLength[node]
            paragraphText[parent] += paragraphText[node]
            if tag.isInline {
                ownLength[parent] += ownLength[node]
                ownCommas[parent] += ownCommas[node]
            }
        }
        for node in nodes where !pruned[node] && isTextBlock(node) && ownLength[node] >= Self.minimumScoredLength {
            let points = 1 + Double(ownCommas[node]) + Double(min(ownLength[node] / 100, 3))
            var ancestor = tree.parent(node)
            var level = 0
            while let current = ancestor, level < 5 {
                if !scored[current] {
                    score[current] = initialScore(current)
                    scored[current] = true
                }
                score[current] += level == 0 ? points : level == 1 ? points / 2 : points / Double(level * 3)
                if current == body { break }
                ancestor = tree.parent(current)
                level += 1
            }
        }
    }

    /// A block element with text of its own (not only in child blocks).
    private func isTextBlock(_ node: Int) -> Bool {
        let tag = tree.tag(node)
        return !tag.isInline && tag != .text && ownLength[node] > 0
    }

    private func initialScore(_ node: Int) -> Double {
        let base: Double = switch tree.tag(node) {
        case .div, .article, .main: 5
        case .section, .pre, .td, .blockquote: 3
        case .address, .ol, .ul, .dl, .dd, .dt, .li, .form: -3
        case .h1, .h2, .h3, .h4, .h5, .h6, .th: -5
        default: 0
        }
        return base + classWeight(node) + (tree.attribute(node, .itemprop) == "articleBody" ? 50 : 0)
    }

    private func classWeight(_ node: Int) -> Double {
        var weight = 0.0
        if matches(node, Self.negative) { weight -= 25 }
        if matches(node, Self.positive) { weight += 25 }
        return weight
    }

    private func linkDensity(_ node: Int) -> Double {
        textLength[node] == 0 ? 0 : Double(linkLength[node]) / Double(textLength[node])
    }

    // MARK: - 3. Select

    /// The containers that hold the article, in document order.
    private func select(_ body: Int) -> [Int] {
        let candidates = (0..<tree.count).filter { scored[$0] && !pruned[$0] }
        func final(_ node: Int) -> Double { score[node] * (1 - linkDensity(node)) }
        guard var top = candidates.max(by: { final($0) < final($1) }), final(top) > 0 else { return [] }
        // A page of several articles (an endless scroll, saved): the one under the title's
        // heading, and nothing outside it.
        var limit = body
        if let titled = titledArticle(), titled != top, !isAncestor(titled, of: top),
           let inside = candidates.filter({ $0 == titled || isAncestor(titled, of: $0) }).max(by: { final($0) < final($1) }),
           final(inside) >= final(top) / 4 {
            if inside == titled { return [titled] }
            top = inside
            limit = titled
        }
        // Close runners-up: the article is the smallest element that holds three of the
        // best five (the text of a page builder comes in many blocks of equal weight).
        let best = [top] + candidates.filter { $0 != top && final($0) >= final(top) * 0.75 && isAncestor(limit, of: $0) }
            .sorted { final($0) > final($1) }.prefix(4)
        if best.count >= 3 {
            var held: [Int: Int] = [:]
            for member in best {
                var current: Int? = member
                while let node = current, node != limit {
                    held[node, default: 0] += 1
                    current = tree.parent(node)
                }
            }
            if let holder = held.filter({ $0.value >= 3 }).keys.max(by: { depth($0) < depth($1) }) { top = holder }
        }
        // An ancestor that scores better holds more of the article.
        var lastScore = final(top)
        var parent = tree.parent(top)
        while let current = parent, current != limit {
            if scored[current] {
                if final(current) < lastScore / 3 { break }
                if final(current) > lastScore {
                    top = current
                    break
                }
                lastScore = final(current)
            }
            parent = tree.parent(current)
        }
        while let only = tree.parent(top), only != limit, tree.children(only).filter({ tree.tag($0) != .text || textLength[$0] > 0 }).count == 1 {
            top = only
        }
        let threshold = max(10, final(top) * 0.2)
        let selected = withSiblings(top, threshold: threshold)
        // Text split in many blocks of equal weight (page builders): when the choice holds
        // less than half the page's paragraphs and blocks as good as it lie outside, the
        // article is the smallest element that holds most of them.
        let outside = candidates.filter { candidate in
            final(candidate) >= final(top) * 0.75 && !selected.contains { $0 == candidate || isAncestor($0, of: candidate) }
        }
        guard outside.count >= 3, selected.reduce(0, { $0 + paragraphText[$1] }) * 2 < paragraphText[limit] else { return selected }
        var holder = limit
        while let inner = tree.children(holder).first(where: { paragraphText[$0] * 5 >= paragraphText[limit] * 4 }) {
            holder = inner
        }
        return holder == limit ? [holder] : withSiblings(holder, threshold: threshold)
    }

    /// `top` and the siblings that belong to the article with it: well scored, or
    /// paragraphs that read as text.
    private func withSiblings(_ top: Int, threshold: Double) -> [Int] {
        guard let parent = tree.parent(top) else { return [top] }
        let topClass = tree.attribute(top, .class)
        return tree.children(parent).filter { sibling in
            if sibling == top { return true }
            guard !pruned[sibling], tree.tag(sibling) != .text else { return false }
            var bonus = 0.0
            if let topClass, !topClass.isEmpty, tree.attribute(sibling, .class) == topClass { bonus = threshold }
            if bestScore(in: sibling) + bonus >= threshold { return true }
            // A block of text beside the article that reads as a paragraph: a lead, a standfirst.
            guard isTextBlock(sibling), tree.tag(sibling) != .h1 else { return false }
            let text = tree.plainText(sibling)
            let density = linkDensity(sibling)
            let sentence = text.hasSuffix(".") || Self.hasSentenceEnd(inside: text)
            return text.count > 80 ? density < 0.25 && sentence : tree.tag(sibling) == .p && density == 0 && sentence
        }
    }

    /// Whether `text` holds a period followed by a space: a sentence ends inside it.
    private static func hasSentenceEnd(inside text: String) -> Bool {
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if previous == 0x2E, byte == 0x20 { return true }
            previous = byte
        }
        return false
    }

    /// The best final score of a container in the subtree of `node`: a sibling of the
    /// article that wraps more of it (one section of many) scores through what it holds.
    private func bestScore(in node: Int) -> Double {
        var best = -Double.infinity
        for inner in tree.descendants(of: node) where scored[inner] && !pruned[inner] {
            best = max(best, score[inner] * (1 - linkDensity(inner)))
        }
        return best
    }

    /// The `<article>` element around the heading that carries the page's title, if any.
    private func titledArticle() -> Int? {
        guard let title, !title.isEmpty else { return nil }
        let heading = (0..<tree.count).first { node in
            [.h1, .h2, .h3].contains(tree.tag(node)) && tree.plainText(node).lowercased() == title
        }
        var current = heading.flatMap { tree.parent($0) }
        while let ancestor = current {
            if tree.tag(ancestor) == .article { return ancestor }
            current = tree.parent(ancestor)
        }
        return nil
    }

    private func depth(_ node: Int) -> Int {
        var depth = 0
        var current = tree.parent(node)
        while let parent = current {
            depth += 1
            current = tree.parent(parent)
        }
        return depth
    }

    private func isAncestor(_ ancestor: Int, of node: Int) -> Bool {
        var current = tree.parent(node)
        while let parent = current {
            if parent == ancestor { return true }
            current = tree.parent(parent)
        }
        return false
    }

    // MARK: - 4. Render

    private struct Output {
        var paragraphs: [(text: String, isHeading: Bool)] = []
        var captions: [String] = []
        var line = TextCollector()

        mutating func endParagraph(heading: Bool = false) {
            guard !line.isEmpty else { return }
            let text = line.finish()
            line = TextCollector()
            guard !text.isEmpty else { return }
            if ArticleExtractor.isCaption(text) { captions.append(text) } else { paragraphs.append((text, heading)) }
        }
    }

    private func render(_ containers: [Int]) -> (paragraphs: [String], captions: [String]) {
        var output = Output()
        for container in containers { render(container, into: &output) }
        output.endParagraph()
        output.captions = captions(around: containers, rendered: output.captions)
        var paragraphs = output.paragraphs.filter { !Self.adLabels.contains(Self.phrase($0.text)) }
        // What follows a heading that opens the end matter ("Related posts", "Kommentare")
        // is not the article, once the article has been read.
        let words = paragraphs.map(\.text.wordCount)
        let total = words.reduce(0, +)
        var before = 0
        for (index, paragraph) in paragraphs.enumerated() {
            if before >= max(WebPage.minimumWords, total / 4), Self.opensEndMatter(paragraph.text) {
                paragraphs.removeSubrange(index...)
                break
            }
            before += words[index]
        }
        // A heading with nothing after it heads something left out.
        while paragraphs.last?.isHeading == true { paragraphs.removeLast() }
        return (paragraphs.map(\.text), output.captions)
    }

    private func render(_ node: Int, into output: inout Output) {
        let tag = tree.tag(node)
        if tag == .text || tag.isInline {
            guard !pruned[node] else { return }
            appendInline(node, to: &output.line)
            return
        }
        guard !pruned[node], !isClutter(node), !isTeaser(node) else { return }
        if tag == .figcaption || isCaptionBlock(node) {
            output.endParagraph()
            let caption = tree.plainText(node)
            if !caption.isEmpty { output.captions.append(caption) }
            return
        }
        output.endParagraph()
        for child in tree.children(node) { render(child, into: &output) }
        output.endParagraph(heading: tag.isHeading)
    }

    /// The captions of the article's images, in page order: those inside the containers
    /// and those beside them in the article (a lead photo above the text).
    private func captions(around containers: [Int], rendered: [String]) -> [String] {
        guard let first = containers.first, let parent = tree.parent(first) else { return rendered }
        var scope = parent
        var current: Int? = parent
        while let node = current {
            if tree.tag(node) == .article {
                scope = node
                break
            }
            current = tree.parent(node)
        }
        var before: [String] = []
        var after: [String] = []
        var node = scope
        let end = tree.descendants(of: scope).upperBound
        while node < end {
            if containers.contains(node) {
                node = tree.descendants(of: node).upperBound
            } else if isCaptionNode(node) {
                let caption = tree.plainText(node)
                if !caption.isEmpty {
                    if node < first { before.append(caption) } else { after.append(caption) }
                }
                node = tree.descendants(of: node).upperBound
            } else {
                node += 1
            }
        }
        return before + rendered + after
    }

    private func isCaptionNode(_ node: Int) -> Bool {
        guard tree.tag(node) != .text, !pruned[node] else { return false }
        return tree.tag(node) == .figcaption || isCaptionBlock(node)
    }

    /// Inline content: text, and `<br>` as a line break.
    private func appendInline(_ node: Int, to line: inout TextCollector) {
        switch tree.tag(node) {
        case .text: tree.appendText(node, to: &line)
        case .br: line.newline()
        case .img, .picture, .source, .wbr: return
        default:
            guard !pruned[node] else { return }
            for child in tree.children(node) {
                if tree.tag(child).isInline { appendInline(child, to: &line) } else { line.append(" " + tree.plainText(child) + " ") }
            }
        }
    }

    /// Blocks inside the article that are not part of it: lists of links (related
    /// articles, tags), and containers whose class says boilerplate.
    private func isClutter(_ node: Int) -> Bool {
        let tag = tree.tag(node)
        guard [.div, .section, .ul, .ol, .table, .aside, .dl].contains(tag) else { return false }
        let density = linkDensity(node)
        if classWeight(node) < 0, density > 0.2 || textLength[node] < 200 { return true }
        switch tag {
        case .ul, .ol: return density > 0.5
        default: return density > 0.5 && textLength[node] < 2_000
        }
    }

    /// A short block that ends with a "read more" link: the teaser of another article.
    private func isTeaser(_ node: Int) -> Bool {
        guard tree.tag(node) == .p || tree.tag(node) == .div, textLength[node] < 1_000,
              let last = tree.descendants(of: node).last(where: { tree.tag($0) == .text && textLength[$0] > 0 })
        else { return false }
        var current = tree.parent(last)
        while let ancestor = current, ancestor != node {
            if tree.tag(ancestor) == .a { return Self.readMore.contains(Self.phrase(tree.plainText(ancestor))) }
            current = tree.parent(ancestor)
        }
        return false
    }

    /// Whether a short paragraph names a section that follows the article: related
    /// articles, comments, sharing, the author's other posts.
    static func opensEndMatter(_ text: String) -> Bool {
        let phrase = Self.phrase(text)
        guard phrase.count <= 60 else { return false }
        return endMatterHeadings.contains(phrase) || endMatterPrefixes.contains { phrase.hasPrefix($0) }
    }

    /// `text` lowercased, without the punctuation, arrows and ellipses that decorate it;
    /// empty for a text too long to be any of the phrases looked for.
    private static func phrase(_ text: String) -> String {
        guard text.utf8.count <= 120 else { return "" }
        return text.lowercased().trimmingCharacters(in: decoration)
    }

    private func isCaptionBlock(_ node: Int) -> Bool {
        guard matches(node, Self.captionWords) else { return false }
        return hasName(node) { name in
            name.elementsEqual("image".utf8) || name.elementsEqual("img-desc".utf8) || Self.caption.occurs(in: name)
        }
    }

    /// A paragraph that is a photo's caption: it ends with its credit, as Vietnamese news
    /// writes them ("(Ảnh: Reuters).").
    static func isCaption(_ text: String) -> Bool {
        DocumentParser.isCaption(text)
    }

    // MARK: - Names

    /// Whether the class or id of `node` holds one of `words`.
    private func matches(_ node: Int, _ words: WordSet) -> Bool {
        let names = tree.names(node)
        return words.occurs(in: names.class) || words.occurs(in: names.id)
    }

    /// Whether one of the class names or the id of `node` is `test`-worthy.
    private func hasName(_ node: Int, _ test: (ArraySlice<UInt8>) -> Bool) -> Bool {
        let names = tree.names(node)
        return [names.class, names.id].contains { $0.split(separator: 0x20).contains(where: test) }
    }

    /// Whether a class or id of `node` names an advertisement (`ad`, `ads`, `ad-slot`,
    /// `sidebar-ad`): a word that is too short to look for inside others.
    private func isAdvertisement(_ node: Int) -> Bool {
        guard matches(node, Self.advertising) else { return false }
        return hasName(node) { name in
            let word = String(decoding: name, as: UTF8.self)
            return ["ad", "ads", "adsbygoogle", "advertisement"].contains(word)
                || ["ad-", "ads-", "ad_", "ads_"].contains { word.hasPrefix($0) } || ["-ad", "-ads", "_ad"].contains { word.hasSuffix($0) }
        }
    }

    private static let caption = WordSet(["caption"])
    private static let captionWords = WordSet(["caption", "image", "img-desc"])
    private static let advertising = WordSet(["ad"])

    /// Class and id words of what is not the article, unless the element also says it is
    /// (`maybe`).
    private static let unlikely: WordSet = WordSet([
        "agegate", "banner", "combx", "community", "cover-wrap", "extra", "header", "legends", "menu", "remark", "replies",
        "rss", "shoutbox", "sidebar", "skyscraper", "supplemental", "tags", "toolbar", "teaser",
    ])

    /// Class and id words of what follows or surrounds an article and never is one, even
    /// named with it (`comment-content`, `article-footer`); only a wrapper that holds the
    /// article is kept.
    private static let endMatter: WordSet = WordSet([
        "-ad-", "ad-break", "adbox", "advert", "author-bio", "authorbox", "author-box", "about-author", "breadcrumb",
        "byline", "comment", "consent", "cookie", "disqus", "footer", "gdpr", "login", "modal", "most-read", "newsletter",
        "outbrain", "pager", "pagination", "paywall", "popup", "promo", "read-time", "reading-time", "readtime",
        "recommend", "related", "share", "sharing", "signup", "social", "sponsor", "subscribe", "taboola",
        "trending",
    ])

    /// Class and id words that keep an element that also reads as unlikely.
    private static let maybe: WordSet = WordSet([
        "and", "article", "body", "column", "content", "main", "shadow", "story", "entry", "post-text", "layout",
    ])

    private static let positive: WordSet = WordSet([
        "article", "body", "content", "entry", "hentry", "h-entry", "main", "page", "post", "text", "blog", "story", "detail",
        "singular", "noidung", "fck",
    ])

    private static let negative: WordSet = WordSet([
        "hidden", "banner", "combx", "comment", "com-", "contact", "foot", "footer", "footnote", "gdpr", "masthead", "media",
        "meta", "outbrain", "promo", "related", "scroll", "share", "shoutbox", "sidebar", "skyscraper", "sponsor", "shopping",
        "tags", "tool", "widget", "cookie", "consent", "newsletter", "subscribe", "recommend", "byline", "author",
    ])

    private static let decoration = CharacterSet.punctuationCharacters.union(.symbols).union(.whitespacesAndNewlines)

    /// Paragraphs that only label an advertisement.
    private static let adLabels: Set<String> = [
        "advertisement", "advertising", "sponsored", "anzeige", "werbung", "publicité", "publicidad", "pubblicità",
        "quảng cáo",
    ]

    /// The link texts of teasers ("Read more ›").
    private static let readMore: Set<String> = [
        "read more", "read full story", "read the full story", "full story", "continue reading", "more", "weiterlesen",
        "mehr", "mehr lesen", "lire la suite", "lire plus", "leer más", "seguir leyendo", "continua a leggere",
        "leggi tutto", "lees meer", "xem thêm", "xem tiếp", "đọc tiếp", "đọc thêm",
    ]

    /// Headings that open what follows an article, in the languages margin meets most.
    private static let endMatterHeadings: Set<String> = [
        "related", "comments", "leave a comment", "leave a reply", "share this", "share this article", "share this post",
        "about the author", "tags", "you may also like", "you might also like", "more stories", "read next", "read more",
        "see also", "most popular", "most read", "popular posts", "latest news", "also read", "trending",
        "kommentare", "ähnliche beiträge", "ähnliche artikel", "verwandte artikel", "verwandte beiträge", "mehr zum thema",
        "weitere artikel", "weitere beiträge", "lesen sie auch", "auch interessant", "meistgelesen", "über den autor",
        "das könnte sie auch interessieren", "das könnte dich auch interessieren", "das könnte dir auch gefallen",
        "articles similaires", "à lire aussi", "lire aussi", "sur le même sujet", "commentaires", "vous aimerez aussi",
        "artículos relacionados", "noticias relacionadas", "te puede interesar", "comentarios", "lee también",
        "articoli correlati", "commenti", "leggi anche",
        "tin liên quan", "bài liên quan", "tin cùng chuyên mục", "tin khác", "bình luận", "xem thêm", "đọc thêm",
    ]

    /// Beginnings of such headings ("Related articles", "Recommended for you").
    private static let endMatterPrefixes = ["related ", "recommended", "more from ", "more on ", "dw recommends"]

    private static let boilerplateRoles: Set<String> = [
        "navigation", "banner", "complementary", "contentinfo", "dialog", "alertdialog", "menu", "menubar", "search", "toolbar",
    ]
}
