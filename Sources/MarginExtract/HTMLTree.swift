internal import CLibXML2
import Foundation
import MarginCore

/// A parsed HTML page as compact arrays: every element and text node is an index, its
/// texts and the attributes the extractor reads sit in one UTF-8 buffer. libxml2's HTML
/// parser reads the page (recovering from broken markup as a browser would) and reports
/// its elements and text as it goes; the tree is built here from those reports, so it is
/// a plain value that any thread may read.
struct HTMLTree: Sendable {
    /// The attributes kept; others are dropped while parsing.
    enum Attribute: UInt8, Sendable, CaseIterable {
        case id, `class`, style, role, hidden, ariaHidden, itemprop, itemtype, itemscope, href, rel, property, name, content,
             datetime, lang, type, charset, httpEquiv

        var htmlName: String {
            switch self {
            case .ariaHidden: "aria-hidden"
            case .httpEquiv: "http-equiv"
            case .class: "class"
            default: String(describing: self)
            }
        }

        static let byName: [String: Attribute] = Dictionary(uniqueKeysWithValues: allCases.map { ($0.htmlName, $0) })
    }

    private(set) var tags: [HTMLTag] = []
    private(set) var parents: [Int32] = []
    private(set) var firstChildren: [Int32] = []
    private(set) var nextSiblings: [Int32] = []
    /// For a text node, its text in `buffer`; for an element, its attributes in `attributes`.
    private var ranges: [Range<Int32>] = []
    private var attributeList: [(name: Attribute, value: Range<Int32>)] = []
    private var buffer: [UInt8] = []
    /// The index after the last node under each node: nodes are stored in document order,
    /// so a node's descendants are the indices between it and this.
    private var subtreeEnds: [Int32] = []
    /// For elements, their class and their id in `buffer`, lowercased (see `names`).
    private var classRanges: [Range<Int32>] = []
    private var idRanges: [Range<Int32>] = []

    /// The `<html>` element (every page has one once parsed).
    private(set) var root = 0

    var count: Int { tags.count }

    private init() {}

    /// Parses `html` (UTF-8).
    init(html: [UInt8]) throws(MarginError) {
        guard let api = LibXML2.api else {
            throw MarginError(.io, "libxml2 is not installed (libxml2.so.2); install it (Debian: apt-get install libxml2)")
        }
        let builder = UnsafeMutablePointer<Builder>.allocate(capacity: 1)
        builder.initialize(to: Builder(capacity: html.count))
        defer {
            builder.deinitialize(count: 1)
            builder.deallocate()
        }
        var handler = cxml_sax_handler()
        handler.startElement = { context, name, attributes in
            guard let context, let name else { return }
            context.assumingMemoryBound(to: Builder.self).pointee.start(name, attributes)
        }
        handler.endElement = { context, _ in
            context?.assumingMemoryBound(to: Builder.self).pointee.end()
        }
        handler.characters = { context, text, length in
            guard let context, let text else { return }
            context.assumingMemoryBound(to: Builder.self).pointee.text(UnsafeBufferPointer(start: text, count: Int(length)))
        }
        // Script and style contents come as CDATA; white space the parser calls
        // ignorable is dropped, as libxml2's own tree drops it.
        handler.cdataBlock = handler.characters
        handler.initialized = 1
        guard let parser = api.create_push_parser(&handler, UnsafeMutableRawPointer(builder), nil, 0, nil, cxml_utf8()) else {
            throw MarginError(.io, "libxml2 could not start its parser")
        }
        _ = api.use_options(parser, cxml_html_options())
        html.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { _ = api.parse_chunk(parser, $0.baseAddress, Int32($0.count), 1) }
        }
        api.free_parser(parser)
        guard builder.pointee.tree.count > 0 else { throw MarginError(.unsupportedFile, "the page is empty") }
        self = builder.pointee.finish()
    }

    // MARK: - Reading

    func tag(_ node: Int) -> HTMLTag { tags[node] }
    func parent(_ node: Int) -> Int? { parents[node] < 0 ? nil : Int(parents[node]) }

    /// The children of `node`, in order.
    func children(_ node: Int) -> ChildSequence { ChildSequence(tree: self, next: firstChildren[node]) }

    /// The text of a text node.
    func text(_ node: Int) -> Substring {
        let range = ranges[node]
        return String(decoding: buffer[Int(range.lowerBound)..<Int(range.upperBound)], as: UTF8.self)[...]
    }

    /// Appends the text of a text node to `collector`, without making a string of it.
    func appendText(_ node: Int, to collector: inout TextCollector) {
        let range = ranges[node]
        buffer.withUnsafeBufferPointer { bytes in
            collector.append(bytes: UnsafeBufferPointer(rebasing: bytes[Int(range.lowerBound)..<Int(range.upperBound)]))
        }
    }

    /// The value of an attribute of an element.
    func attribute(_ node: Int, _ name: Attribute) -> String? {
        attributeUTF8(node, name).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The class and the id of an element, lowercased (ASCII), for matching words in them;
    /// empty when it has none.
    func names(_ node: Int) -> (class: ArraySlice<UInt8>, id: ArraySlice<UInt8>) {
        let `class` = classRanges[node]
        let id = idRanges[node]
        return (buffer[Int(`class`.lowerBound)..<Int(`class`.upperBound)], buffer[Int(id.lowerBound)..<Int(id.upperBound)])
    }

    /// The value of an attribute of an element, as the UTF-8 bytes it is stored as.
    func attributeUTF8(_ node: Int, _ name: Attribute) -> ArraySlice<UInt8>? {
        attributeRange(node, name).map { buffer[$0] }
    }

    /// Where the value of an attribute of an element is in `buffer`.
    private func attributeRange(_ node: Int, _ name: Attribute) -> Range<Int>? {
        guard tags[node] != .text else { return nil }
        for index in Int(ranges[node].lowerBound)..<Int(ranges[node].upperBound) where attributeList[index].name == name {
            let value = attributeList[index].value
            return Int(value.lowerBound)..<Int(value.upperBound)
        }
        return nil
    }

    /// Every node under `node` (itself included), in document order.
    func descendants(of node: Int) -> Range<Int> {
        node..<Int(subtreeEnds[node])
    }

    /// The characters of a text node as a browser shows them (runs of white space once).
    func visibleLength(_ node: Int) -> Int {
        tags[node] == .text ? visibleLength(of: ranges[node]) : 0
    }

    /// The characters a browser shows for the text under `node`.
    func visibleText(under node: Int) -> Int {
        descendants(of: node).reduce(0) { $0 + visibleLength($1) }
    }

    /// How many commas a text node holds (Latin, Arabic and full-width).
    func commas(_ node: Int) -> Int {
        let range = ranges[node]
        var count = 0
        var index = Int(range.lowerBound)
        while index < Int(range.upperBound) {
            let byte = buffer[index]
            if byte == UInt8(ascii: ",") {
                count += 1
            } else if byte == 0xD8, index + 1 < Int(range.upperBound), buffer[index + 1] == 0x8C {
                count += 1  // U+060C
            } else if byte == 0xEF, index + 2 < Int(range.upperBound), buffer[index + 1] == 0xBC, buffer[index + 2] == 0x8C {
                count += 1  // U+FF0C
            }
            index += 1
        }
        return count
    }

    /// The first element with `tag` under `node`, in document order.
    func first(_ tag: HTMLTag, in node: Int) -> Int? {
        descendants(of: node).first { tags[$0] == tag }
    }

    /// The text of everything under `node`, whitespace collapsed, as a browser shows it on
    /// one line (`<br>` is a space here).
    func plainText(_ node: Int) -> String {
        var text = TextCollector()
        collect(node, into: &text)
        return text.finish()
    }

    private func collect(_ node: Int, into text: inout TextCollector) {
        switch tags[node] {
        case .text: appendText(node, to: &text)
        case .br: text.append(" ")
        case let tag where tag.isNeverContent: return
        default:
            for child in children(node) { collect(child, into: &text) }
        }
    }

    struct ChildSequence: Sequence, IteratorProtocol {
        let tree: HTMLTree
        var upcoming: Int32

        init(tree: HTMLTree, next: Int32) {
            self.tree = tree
            upcoming = next
        }

        mutating func next() -> Int? {
            guard upcoming >= 0 else { return nil }
            defer { upcoming = tree.nextSiblings[Int(upcoming)] }
            return Int(upcoming)
        }
    }

    // MARK: - Building

    /// Builds a tree from the parser's reports: elements open and close in order (the
    /// parser closes what the page left open), adjacent texts join into one node.
    private struct Builder {
        var tree = HTMLTree()
        /// The open elements, innermost last, and whether each holds code (script, style).
        private var open: [(node: Int32, isCode: Bool)] = []
        private var lastChild: [Int32] = []
        /// The text node the next text joins, while nothing else came in between.
        private var openText: Int32 = -1
        /// After the root element closes, the rest of the page is not read.
        private var finished = false
        /// Tag and attribute names by the parser's interned name pointers.
        private var tagNames = NameCache<HTMLTag>()
        private var attributeNames = NameCache<Attribute?>()

        init(capacity: Int) {
            tree.buffer.reserveCapacity(capacity / 2)
        }

        mutating func start(_ name: UnsafePointer<cxml_char>, _ attributes: UnsafeMutablePointer<UnsafePointer<cxml_char>?>?) {
            guard !finished else { return }
            let tag = tagNames.value(for: name) { HTMLTag(name: String(cString: $0)) }
            let index = append(tag)
            let start = Int32(tree.attributeList.count)
            var isJSON = false
            var pair = attributes
            while let attribute = pair, let attributeName = attribute.pointee {
                let value = attribute.advanced(by: 1).pointee
                let kept = attributeNames.value(for: attributeName) { Attribute.byName[String(cString: $0)] }
                if let kept {
                    let valueStart = Int32(tree.buffer.count)
                    if let value { tree.buffer.append(contentsOf: UnsafeBufferPointer(start: value, count: strlen(value))) }
                    let range = valueStart..<Int32(tree.buffer.count)
                    tree.attributeList.append((kept, range))
                    if kept == .class || kept == .id {
                        // Matched against lowercase words: lowercased here, once (ASCII:
                        // class names and ids are ASCII in practice).
                        tree.buffer.withUnsafeMutableBufferPointer { bytes in
                            for index in Int(range.lowerBound)..<Int(range.upperBound) where (0x41...0x5A).contains(bytes[index]) {
                                bytes[index] += 0x20
                            }
                        }
                        if kept == .class { tree.classRanges[index] = range } else { tree.idRanges[index] = range }
                    }
                    if kept == .type, tag == .script {
                        isJSON = String(decoding: tree.buffer[Int(valueStart)...], as: UTF8.self).lowercased().hasPrefix("application/ld+json")
                    }
                }
                pair = attribute.advanced(by: 2)
            }
            tree.ranges[index] = start..<Int32(tree.attributeList.count)
            open.append((Int32(index), tag == .style || (tag == .script && !isJSON)))
            openText = -1
        }

        mutating func end() {
            guard let (node, _) = open.popLast() else { return }
            tree.subtreeEnds[Int(node)] = Int32(tree.count)
            openText = -1
            if open.isEmpty { finished = true }
        }

        mutating func text(_ text: UnsafeBufferPointer<cxml_char>) {
            guard !finished, let parent = open.last, !parent.isCode, !text.isEmpty else { return }
            if openText < 0 {
                // White space that starts a block or follows one shows nothing.
                let previous = lastChild[Int(parent.node)]
                if !tree.tags[Int(parent.node)].isInline, previous < 0 || !tree.tags[Int(previous)].isInline,
                   text.allSatisfy({ $0 == 0x20 || (0x09...0x0D).contains($0) }) {
                    return
                }
                openText = Int32(append(.text))
                tree.ranges[Int(openText)] = Int32(tree.buffer.count)..<Int32(tree.buffer.count)
            }
            tree.buffer.append(contentsOf: text)
            tree.ranges[Int(openText)] = tree.ranges[Int(openText)].lowerBound..<Int32(tree.buffer.count)
        }

        /// A new node as the last child of the innermost open element.
        private mutating func append(_ tag: HTMLTag) -> Int {
            let index = tree.count
            let parent = open.last?.node ?? -1
            tree.tags.append(tag)
            tree.parents.append(parent)
            tree.firstChildren.append(-1)
            tree.nextSiblings.append(-1)
            tree.ranges.append(0..<0)
            tree.classRanges.append(0..<0)
            tree.idRanges.append(0..<0)
            tree.subtreeEnds.append(Int32(index + 1))
            lastChild.append(-1)
            if parent >= 0 {
                let previous = lastChild[Int(parent)]
                if previous >= 0 { tree.nextSiblings[Int(previous)] = Int32(index) } else { tree.firstChildren[Int(parent)] = Int32(index) }
                lastChild[Int(parent)] = Int32(index)
            }
            return index
        }

        /// The tree, its open elements closed.
        mutating func finish() -> HTMLTree {
            while !open.isEmpty { end() }
            return tree
        }
    }

    /// What a name the parser reported stands for, remembered by the name's address: the
    /// parser interns names, so one address is one name for the whole parse. A small
    /// direct-mapped table; a name that collides is worked out again.
    private struct NameCache<Value> {
        private var slots = [(name: UnsafePointer<cxml_char>?, value: Value?)](repeating: (nil, nil), count: 256)

        mutating func value(for name: UnsafePointer<cxml_char>, _ make: (UnsafePointer<cxml_char>) -> Value) -> Value {
            // Fibonacci hashing: the top byte of the address times 2^64/φ.
            let slot = Int(truncatingIfNeeded: (UInt64(UInt(bitPattern: name)) &* 0x9E37_79B9_7F4A_7C15) >> 56)
            if slots[slot].name == name, let value = slots[slot].value { return value }
            let value = make(name)
            slots[slot] = (name, value)
            return value
        }
    }

    /// Characters of the UTF-8 text at `range` as a browser shows them: runs of ASCII white
    /// space count once (other white space, rare, counts as a character).
    private func visibleLength(of range: Range<Int32>) -> Int {
        buffer.withUnsafeBufferPointer { bytes in
            var count = 0
            var inSpace = true
            for index in Int(range.lowerBound)..<Int(range.upperBound) {
                let byte = bytes[index]
                if byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) {
                    if !inSpace { count += 1 }
                    inSpace = true
                } else if byte & 0xC0 != 0x80 {
                    count += 1
                    inSpace = false
                }
            }
            return count
        }
    }
}

/// libxml2's parser functions, loaded once per process (`api` is `nil` where libxml2 is missing).
enum LibXML2 {
    static let api: cxml_api? = {
        var api = cxml_api()
        return cxml_load(&api) == 0 ? api : nil
    }()
}

/// Gathers text as a browser lays it out on a line: runs of white space become one space,
/// none at the ends of a line; characters drawn as nothing (`isInvisible`) are left out;
/// `newline()` starts a line (empty lines are not kept). Works on UTF-8 bytes, which is
/// what the page's text is.
struct TextCollector {
    private var bytes: [UInt8] = []
    private var pendingSpace = false

    mutating func append(_ piece: some StringProtocol) {
        var piece = String(piece)
        piece.withUTF8 { append(bytes: $0) }
    }

    /// Appends UTF-8 text.
    mutating func append(bytes text: UnsafeBufferPointer<UInt8>) {
        var index = 0
        let count = text.count
        while index < count {
            let byte = text[index]
            switch byte {
            case 0x20, 0x09...0x0D:
                pendingSpace = !bytes.isEmpty && bytes.last != 0x0A
                index += 1
                continue
            case 0xC2, 0xE1, 0xE2, 0xE3, 0xEF:
                // The spaces and invisible characters outside ASCII all start with these.
                let scalar = Self.scalar(in: text, at: index)
                if scalar.value.isSpace {
                    pendingSpace = !bytes.isEmpty && bytes.last != 0x0A
                    index += scalar.length
                    continue
                }
                if scalar.value.isInvisible {
                    index += scalar.length
                    continue
                }
            default:
                break
            }
            if pendingSpace {
                bytes.append(0x20)
                pendingSpace = false
            }
            bytes.append(byte)
            index += 1
        }
    }

    /// Starts a new line (for `<br>` where lines are kept).
    mutating func newline() {
        pendingSpace = false
        guard let last = bytes.last, last != 0x0A else { return }
        bytes.append(0x0A)
    }

    func finish() -> String {
        String(decoding: bytes.last == 0x0A ? bytes.dropLast() : bytes[...], as: UTF8.self)
    }

    var isEmpty: Bool { bytes.isEmpty }

    /// The code point of the two- or three-byte sequence at `index` and its length (0 and
    /// 1 where it is cut short).
    private static func scalar(in text: UnsafeBufferPointer<UInt8>, at index: Int) -> (value: UInt32, length: Int) {
        let lead = UInt32(text[index])
        if lead < 0xE0 {
            guard index + 1 < text.count else { return (0, 1) }
            return ((lead & 0x1F) << 6 | UInt32(text[index + 1] & 0x3F), 2)
        }
        guard index + 2 < text.count else { return (0, 1) }
        return ((lead & 0x0F) << 12 | UInt32(text[index + 1] & 0x3F) << 6 | UInt32(text[index + 2] & 0x3F), 3)
    }
}

extension UInt32 {
    /// Characters a browser draws as nothing and that would split a word for a reader
    /// or a search: the soft hyphen, zero-width space, word joiner and byte-order mark.
    fileprivate var isInvisible: Bool {
        switch self {
        case 0xAD, 0x200B, 0x2060, 0xFEFF: true
        default: false
        }
    }

    /// Whether this code point has Unicode's White_Space property.
    fileprivate var isSpace: Bool {
        Unicode.Scalar(self)?.isSpace ?? false
    }
}

extension StringProtocol {
    /// The words of the text: runs of characters between ASCII white space (the only white
    /// space left in text a `TextCollector` gathered).
    var wordCount: Int {
        var count = 0
        var inWord = false
        for byte in utf8 {
            let space = byte == 0x20 || (0x09...0x0D).contains(byte)
            if !space, !inWord { count += 1 }
            inWord = !space
        }
        return count
    }
}

extension Unicode.Scalar {
    /// Whether the scalar has Unicode's White_Space property: the 25 of them are listed
    /// here, as looking the property up is slow (text is mostly letters).
    var isSpace: Bool {
        switch value {
        case 0x20, 0x09...0x0D: true
        case 0x21...0x7F: false
        case 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: true
        default: false
        }
    }
}
