import MarginCore
import MarginWire

/// Highlights exported by other tools, read into one shape: Hypothesis's JSON export (and its
/// API's search results), W3C Web Annotation JSON-LD from any producer (an annotation, a list
/// of them, an `AnnotationPage` or an `AnnotationCollection`), and Readwise's CSV export.
///
/// What each gives: Hypothesis and W3C a document address, a quote with its context and a
/// position (a hint only for Hypothesis, whose positions count UTF-16 units); Readwise a
/// quote without context and the title of the document it is from.
public struct ForeignHighlights: Sendable {
    public enum Format: String, Sendable {
        case hypothesis = "Hypothesis"
        case w3c = "W3C Web Annotation"
        case readwise = "Readwise"
    }

    /// One highlight.
    public struct Highlight: Sendable, Hashable {
        /// The producer's id of it, or a key made of what it holds when the producer has none.
        public var key: String
        /// The address of the document it is on, when known.
        public var url: String?
        /// The title of that document, when known.
        public var title: String?
        public var exact: String
        public var prefix = ""
        public var suffix = ""
        /// Where it starts and ends in the document, counted in Unicode scalars: a hint.
        public var position: Range<Int>?
        public var note = ""
        public var tags: [String] = []
        public var color: HighlightColor?
        public var created: Timestamp?
        public var modified: Timestamp?
    }

    public var format: Format
    public var highlights: [Highlight]
    /// Items that are not highlights of a passage (page notes, replies, bookmarks).
    public var unquoted = 0

    /// The highlights in `bytes`, or `nil` when they are in none of these formats. A file in
    /// one of them that is broken gets an error naming what is wrong.
    public static func read(_ bytes: [UInt8], fileName: String) throws(MarginError) -> ForeignHighlights? {
        let text = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
        if fileName.lowercased().hasSuffix(".csv") {
            guard let csv = String(validating: text, as: UTF8.self) else { throw MarginError(.invalidInput, "\(fileName): not UTF-8 text") }
            return try readwise(csv, fileName: fileName)
        }
        guard let first = text.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }), first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
        else { return nil }
        let document: JSONNode
        do {
            document = try JSONNode.parse(text)
        } catch {
            return nil
        }
        do throws(JSONShapeError) {
            if let annotations = try hypothesisAnnotations(document) {
                return try ForeignHighlights(.hypothesis, annotations, listedAs: "annotations", read: hypothesis)
            }
            if let annotations = try webAnnotations(document) {
                return try ForeignHighlights(.w3c, annotations, listedAs: "items", read: webAnnotation)
            }
        } catch {
            throw MarginError(.invalidInput, "\(fileName): \(error.marginError.message)")
        }
        return nil
    }

    public init(format: Format, highlights: [Highlight], unquoted: Int = 0) {
        self.format = format
        self.highlights = highlights
        self.unquoted = unquoted
    }

    /// The highlights `read` finds in `annotations` (listed under `list`, for errors' paths).
    private init(
        _ format: Format, _ annotations: [JSONNode], listedAs list: String, read: (JSONNode) throws(JSONShapeError) -> Highlight?
    ) throws(JSONShapeError) {
        var highlights: [Highlight] = []
        for (index, node) in annotations.enumerated() {
            if let highlight = try within("\(list)[\(index)]", { () throws(JSONShapeError) in try read(node) }) {
                highlights.append(highlight)
            }
        }
        self.init(format: format, highlights: highlights, unquoted: annotations.count - highlights.count)
    }

    // MARK: - Hypothesis

    /// The annotations of a Hypothesis export (`export_userid`, `annotations`) or search result (`rows`).
    private static func hypothesisAnnotations(_ document: JSONNode) throws(JSONShapeError) -> [JSONNode]? {
        guard case .object = document else { return nil }
        let object = try document.object()
        if try object.optional("format") != nil { return nil }
        for key in ["annotations", "rows"] {
            guard let list = try object.optional(key), case .array(let items) = list else { continue }
            let looksLikeHypothesis = try object.optional("export_userid") != nil || items.allSatisfy { item in
                guard case .object(let members) = item else { return false }
                return members.contains { $0.key == "uri" } && members.contains { $0.key == "target" }
            }
            if looksLikeHypothesis { return items }
        }
        return nil
    }

    /// A Hypothesis annotation; `nil` for a page note or a reply (no quote).
    private static func hypothesis(_ node: JSONNode) throws(JSONShapeError) -> Highlight? {
        let object = try node.object()
        guard let quote = try quoteSelector(in: object.optional("target")) else { return nil }
        var highlight = Highlight(key: "hypothesis:" + (try string(object, "id") ?? ""), exact: quote.exact)
        highlight.prefix = quote.prefix
        highlight.suffix = quote.suffix
        highlight.url = try string(object, "uri")
        if let document = try object.optional("document"), case .object = document,
           let titles = try document.object().optional("title"), case .array(let list) = titles {
            highlight.title = try within("document.title") { () throws(JSONShapeError) in try list.first?.string() }
        }
        highlight.note = try string(object, "text") ?? ""
        if let tags = try object.optional("tags") {
            highlight.tags = try within("tags") { () throws(JSONShapeError) in
                var list: [String] = []
                for tag in try tags.array() { list.append(try tag.string()) }
                return list
            }
        }
        highlight.created = try string(object, "created").flatMap(Self.time)
        highlight.modified = try string(object, "updated").flatMap(Self.time)
        if highlight.key == "hypothesis:" { highlight.key = Self.key(highlight) }
        // Positions count UTF-16 units there: no hint from them.
        return highlight
    }

    // MARK: - W3C Web Annotation

    /// The annotations of a Web Annotation document, whatever its container.
    private static func webAnnotations(_ document: JSONNode) throws(JSONShapeError) -> [JSONNode]? {
        if case .array(let items) = document {
            for item in items where !(try types(of: item).contains("Annotation")) { return nil }
            return items
        }
        let kinds = try types(of: document)
        if kinds.contains("Annotation") { return [document] }
        guard kinds.contains("AnnotationCollection") || kinds.contains("AnnotationPage") else { return nil }
        let object = try document.object()
        if let items = try object.optional("items") { return try items.array() }
        var pages: [JSONNode] = []
        var page = try object.optional("first")
        while let current = page, case .object = current {
            let pageObject = try current.object()
            pages += try pageObject.optional("items")?.array() ?? []
            page = try pageObject.optional("next")
        }
        return pages
    }

    private static func types(of node: JSONNode) throws(JSONShapeError) -> Set<String> {
        guard case .object = node, let type = try node.object().optional("type") else { return [] }
        if case .array(let list) = type { return Set(try list.map { item throws(JSONShapeError) in try item.string() }) }
        return [try type.string()]
    }

    /// A Web Annotation with a text quote; `nil` for one without (a bookmark, a comment on a whole page).
    private static func webAnnotation(_ node: JSONNode) throws(JSONShapeError) -> Highlight? {
        let object = try node.object()
        let target = try object.required("target")
        guard let quote = try quoteSelector(in: target) else { return nil }
        var highlight = Highlight(key: try string(object, "id") ?? "", exact: quote.exact)
        highlight.prefix = quote.prefix
        highlight.suffix = quote.suffix
        highlight.position = quote.position
        let targets: [JSONNode] = if case .array(let list) = target { list } else { [target] }
        for target in targets {
            switch target {
            case .string(let address):
                highlight.url = highlight.url ?? address
            case .object:
                let targetObject = try target.object()
                if let source = try targetObject.optional("source") {
                    switch source {
                    case .string(let address): highlight.url = highlight.url ?? address
                    case .object:
                        let sourceObject = try source.object()
                        if highlight.url == nil { highlight.url = try sourceObject.optional("id")?.string() }
                        if highlight.title == nil { highlight.title = try sourceObject.optional("title")?.string() }
                    default: break
                    }
                }
                if let styleClass = try targetObject.optional("styleClass")?.string() {
                    highlight.color = highlight.color ?? HighlightColor(rawValue: styleClass.lowercased())
                }
            default:
                break
            }
        }
        if let value = try string(object, "bodyValue") { highlight.note = value }
        let bodies: [JSONNode] = switch try object.optional("body") {
        case .array(let list)?: list
        case let body?: [body]
        case nil: []
        }
        var notes: [String] = highlight.note.isEmpty ? [] : [highlight.note]
        for body in bodies {
            guard case .object = body else { continue }
            let bodyObject = try body.object()
            guard let value = try bodyObject.optional("value")?.string() else { continue }
            let purposes: Set<String> = switch try bodyObject.optional("purpose") {
            case .string(let purpose)?: [purpose]
            case .array(let list)?: Set(list.compactMap { if case .string(let purpose) = $0 { purpose } else { nil } })
            default: []
            }
            if purposes.contains("tagging") { highlight.tags.append(value) } else { notes.append(value) }
        }
        highlight.note = notes.joined(separator: "\n\n")
        highlight.created = try string(object, "created").flatMap(Self.time)
        highlight.modified = try string(object, "modified").flatMap(Self.time)
        highlight.key = highlight.key.isEmpty ? Self.key(highlight) : "w3c:" + highlight.key
        return highlight
    }

    /// The `TextQuoteSelector` (and any `TextPositionSelector`) of a target or list of targets,
    /// looking inside `RangeSelector`s and `refinedBy` chains too.
    private static func quoteSelector(in target: JSONNode?) throws(JSONShapeError) -> (exact: String, prefix: String, suffix: String, position: Range<Int>?)? {
        guard let target else { return nil }
        var quote: (exact: String, prefix: String, suffix: String)?
        var position: Range<Int>?
        func visit(_ node: JSONNode) throws(JSONShapeError) {
            switch node {
            case .array(let list):
                for item in list { try visit(item) }
            case .object(let members):
                let object = try node.object()
                let type = try object.optional("type").flatMap { if case .string(let type) = $0 { type } else { nil } }
                if type == "TextQuoteSelector", quote == nil, let exact = try object.optional("exact")?.string(), !exact.isEmpty {
                    quote = (exact, try object.optional("prefix")?.string() ?? "", try object.optional("suffix")?.string() ?? "")
                } else if type == "TextPositionSelector", position == nil,
                          let start = try object.optional("start")?.integer(), let end = try object.optional("end")?.integer(),
                          start >= 0, end > start, end <= Int64(Int32.max) {
                    position = Int(start)..<Int(end)
                }
                for member in members where ["selector", "refinedBy", "startSelector", "endSelector"].contains(member.key) {
                    try visit(member.value)
                }
            default:
                break
            }
        }
        try visit(target)
        return quote.map { ($0.exact, $0.prefix, $0.suffix, position) }
    }

    // MARK: - Readwise

    /// Readwise's CSV export: `Highlight`, `Book Title`, `Book Author`, `Note`, `Color`,
    /// `Tags`, `Highlighted at`… (a `URL` column too, when there is one); `nil` when the header
    /// has no `Highlight` and `Book Title` columns.
    private static func readwise(_ text: String, fileName: String) throws(MarginError) -> ForeignHighlights? {
        let rows = try CSV.rows(text, fileName: fileName)
        guard let header = rows.first?.map({ $0.trimmingWhitespace().lowercased() }),
              let highlightColumn = header.firstIndex(of: "highlight"), let titleColumn = header.firstIndex(of: "book title")
        else { return nil }
        func column(_ name: String) -> Int? { header.firstIndex(of: name) }
        var highlights: [Highlight] = []
        for row in rows.dropFirst() where row.count > 1 || row.first?.isEmpty == false {
            func cell(_ index: Int?) -> String? {
                guard let index, index < row.count else { return nil }
                let value = row[index].trimmingWhitespace()
                return value.isEmpty ? nil : value
            }
            guard let exact = cell(highlightColumn) else { continue }
            var highlight = Highlight(key: "", exact: exact)
            highlight.title = cell(titleColumn)
            highlight.url = cell(column("url")) ?? cell(column("source url"))
            highlight.note = cell(column("note")) ?? ""
            highlight.color = cell(column("color")).flatMap { HighlightColor(rawValue: $0.lowercased()) }
            highlight.tags = (cell(column("tags")) ?? "").split(whereSeparator: { $0 == "," }).map {
                String($0.trimmingWhitespace().drop { $0 == "#" || $0 == "." })
            }.filter { !$0.isEmpty }
            highlight.created = cell(column("highlighted at")).flatMap(Self.time)
            highlight.key = Self.key(highlight)
            highlights.append(highlight)
        }
        return ForeignHighlights(format: .readwise, highlights: highlights)
    }

    // MARK: - Helpers

    /// The text member `key` of `object`, if it has one (an error names it when it is not text).
    private static func string(_ object: JSONObject, _ key: String) throws(JSONShapeError) -> String? {
        guard let node = try object.optional(key), node != .null else { return nil }
        return try within(key) { () throws(JSONShapeError) in try node.string() }
    }

    /// A key for a highlight whose producer gave it no id: what it holds.
    private static func key(_ highlight: Highlight) -> String {
        "content:" + ContentHash.of([highlight.url ?? "", highlight.title ?? "", highlight.exact, highlight.prefix, highlight.suffix,
                                     highlight.created?.iso8601 ?? ""].joined(separator: "\u{1F}"))
    }

    /// A time as these tools write it: `2024-05-01T10:00:00.123456+02:00`, `2024-05-01 10:00:00+00:00`, `…Z`.
    static func time(_ text: String) -> Timestamp? {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 19, utf8[10] == UInt8(ascii: "T") || utf8[10] == UInt8(ascii: " ") else { return nil }
        var rest = utf8[19...]
        var millis = "000"
        if rest.first == UInt8(ascii: ".") {
            let digits = rest.dropFirst().prefix { (0x30...0x39).contains($0) }
            millis = String(decoding: digits.prefix(3), as: UTF8.self).padding(toLength: 3, withPad: "0", startingAt: 0)
            rest = rest.dropFirst(1 + digits.count)
        }
        var offset: Int64 = 0
        if let sign = rest.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            let digits = rest.dropFirst().filter { $0 != UInt8(ascii: ":") }
            guard digits.count == 4, let hours = Int64(String(decoding: digits.prefix(2), as: UTF8.self)),
                  let minutes = Int64(String(decoding: digits.suffix(2), as: UTF8.self)) else { return nil }
            offset = (hours * 60 + minutes) * 60_000 * (sign == UInt8(ascii: "-") ? -1 : 1)
        } else if !(rest.isEmpty || rest.elementsEqual([UInt8(ascii: "Z")])) {
            return nil
        }
        let base = String(decoding: utf8[0..<10], as: UTF8.self) + "T" + String(decoding: utf8[11..<19], as: UTF8.self) + "." + millis + "Z"
        return Timestamp(iso8601: base).map { Timestamp(milliseconds: $0.milliseconds - offset) }
    }
}
