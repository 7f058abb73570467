import Foundation

/// Reads article files: the seed format and plain `.txt`/`.md` text.
///
/// For example:
/// ```swift
/// let document = try DocumentParser.parse(bytes, fileName: "000_ce75f4c29c345759.txt")
/// document.published   // 2025-10-23
/// ```
public enum DocumentParser {
    /// The longest derived title, in characters, before it is cut at a word boundary.
    public static let titleLength = 80

    /// File name extensions read as plain text when a file is not in the seed format.
    public static let plainTextExtensions: Set<String> = ["txt", "md", "markdown", "text"]

    /// Parses the bytes of the file `fileName`, or explains in one line why it cannot.
    public static func parse(_ bytes: [UInt8], fileName: String) throws(MarginError) -> ParsedDocument {
        let text = try decodeText(bytes, fileName: fileName)
        var lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { Substring($0) }
        if let dateLine = try seedDate(firstLine: lines.first ?? "", fileName: fileName) {
            lines[0] = dateLine.rest
            return try seed(lines: lines, published: dateLine.date, fileName: fileName)
        }
        let name = fileName.split(separator: "/").last ?? ""
        let fileExtension = name.contains(".") ? String(name.split(separator: ".").last!).lowercased() : ""
        guard plainTextExtensions.contains(fileExtension) else {
            throw MarginError(
                .unsupportedFile,
                "\(fileName): not a known format (expected a seed file with a ' date YYYY-MM-DD ' first line, "
                    + "a .txt or .md text file, a saved web page (.html), or a margin JSON export)")
        }
        return try plainText(lines: lines, markdown: fileExtension != "txt" && fileExtension != "text", fileName: fileName)
    }

    /// Parses plain text or Markdown that has no file name to tell which (a page served as
    /// `text/plain` or `text/markdown`); `name` names it in errors.
    public static func parseText(_ bytes: [UInt8], markdown: Bool, name: String) throws(MarginError) -> ParsedDocument {
        let text = try decodeText(bytes, fileName: name)
        let lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { Substring($0) }
        return try plainText(lines: lines, markdown: markdown, fileName: name)
    }

    /// Strict UTF-8 (a leading byte-order mark dropped), no NUL bytes, `\n` line ends, NFC.
    static func decodeText(_ bytes: [UInt8], fileName: String) throws(MarginError) -> String {
        var bytes = bytes
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        guard !bytes.contains(0) else {
            throw MarginError(.unsupportedFile, "\(fileName): binary file, not text")
        }
        if bytes.contains(UInt8(ascii: "\r")) {
            // CRLF and lone CR become LF.
            var unix: [UInt8] = []
            unix.reserveCapacity(bytes.count)
            for (index, byte) in bytes.enumerated() {
                if byte == UInt8(ascii: "\r") {
                    if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\n") { continue }
                    unix.append(UInt8(ascii: "\n"))
                } else {
                    unix.append(byte)
                }
            }
            bytes = unix
        }
        guard let decoded = bytes.withUnsafeBufferPointer({ String(validating: $0, as: UTF8.self) }) else {
            throw MarginError(.unsupportedFile, "\(fileName): not valid UTF-8 text; convert it to UTF-8 and import again")
        }
        guard !decoded.unicodeScalars.allSatisfy(\.properties.isWhitespace) else {
            throw MarginError(.unsupportedFile, "\(fileName): empty file")
        }
        return ArticleText.normalize(decoded)
    }

    /// The date and the rest of a seed's first line, `nil` if the line is not a date line.
    private static func seedDate(firstLine: Substring, fileName: String) throws(MarginError) -> (date: CalendarDate, rest: Substring)? {
        let trimmed = firstLine.drop { $0 == " " || $0 == "\t" }
        guard trimmed.hasPrefix("date ") else { return nil }
        let afterKeyword = trimmed.dropFirst(5).drop { $0 == " " }
        let token = afterKeyword.prefix { !$0.isWhitespace }
        guard token.first?.isNumber == true else { return nil }
        guard let date = CalendarDate(String(token)) else {
            throw MarginError(.invalidInput, "\(fileName): invalid date '\(token)' on the first line (expected YYYY-MM-DD)")
        }
        return (date, afterKeyword.dropFirst(token.count))
    }

    private static func seed(lines: [Substring], published: CalendarDate, fileName: String) throws(MarginError) -> ParsedDocument {
        var paragraphs = self.paragraphs(lines)
        if let last = paragraphs.last, last.hasSuffix("./.") {
            let kept = String(last.dropLast(2)).trimmingWhitespace()
            if kept == "." || kept.isEmpty { paragraphs.removeLast() } else { paragraphs[paragraphs.count - 1] = kept }
        }
        let captions = paragraphs.filter(isCaption)
        let body = paragraphs.filter { !isCaption($0) }
        guard let lead = body.first else {
            throw MarginError(.invalidInput, "\(fileName): the article has no text besides its date line and captions")
        }
        return ParsedDocument(
            format: .seed, title: title(fromLead: lead), published: published,
            body: body.joined(separator: "\n\n"), captions: captions)
    }

    private static func plainText(lines: [Substring], markdown: Bool, fileName: String) throws(MarginError) -> ParsedDocument {
        var paragraphs = self.paragraphs(lines)
        var title: String?
        if markdown, let first = paragraphs.first, first.hasPrefix("#"), !first.contains("\n") {
            title = String(first.drop { $0 == "#" }).trimmingWhitespace()
            paragraphs.removeFirst()
        }
        guard let lead = paragraphs.first else {
            throw MarginError(.invalidInput, "\(fileName): the file has a heading but no text")
        }
        let derived = title.flatMap { $0.isEmpty ? nil : shorten($0) } ?? self.title(fromLead: lead)
        return ParsedDocument(
            format: .plainText, title: derived, published: nil,
            body: paragraphs.joined(separator: "\n\n"), captions: [])
    }

    /// Paragraphs: runs of non-blank lines, each trimmed, lines inside a paragraph kept.
    private static func paragraphs(_ lines: [Substring]) -> [String] {
        var result: [String] = []
        var current: [Substring] = []
        for line in lines {
            let trimmed = line.trimmingWhitespaceScalars()
            if trimmed.isEmpty {
                if !current.isEmpty { result.append(current.joined(separator: "\n")) }
                current = []
            } else {
                current.append(trimmed)
            }
        }
        if !current.isEmpty { result.append(current.joined(separator: "\n")) }
        return result
    }

    /// A paragraph that ends with a photo credit, `(Ảnh: …)` or `(Photo: …)`, perhaps with a period.
    public static func isCaption(_ paragraph: String) -> Bool {
        var utf8 = paragraph.utf8[...]
        if utf8.last == UInt8(ascii: ".") { utf8 = utf8.dropLast() }
        guard utf8.last == UInt8(ascii: ")"), let open = utf8.lastIndex(of: UInt8(ascii: "(")) else { return false }
        let credit = utf8[utf8.index(after: open)...].prefix(captionCredits.map(\.count).max()!)
        return captionCredits.contains { credit.starts(with: $0) }
    }

    /// How photo credits begin, as UTF-8: "Ảnh:", "ảnh:", "Photo:", "photo:", with an optional space.
    private static let captionCredits: [[UInt8]] = ["Ảnh", "ảnh", "Photo", "photo"].flatMap { word in
        [Array((word + ":").utf8), Array((word + " :").utf8)]
    }

    /// The first sentence of the lead paragraph, cut at a word boundary when it is long.
    public static func title(fromLead lead: String) -> String {
        let scalars = Array(lead.unicodeScalars.prefix { $0 != "\n" })
        var end = scalars.count
        for (index, scalar) in scalars.enumerated() where scalar == "." || scalar == "!" || scalar == "?" {
            guard index + 1 == scalars.count || scalars[index + 1] == " " else { continue }
            // Keep a period that ends the sentence out of the title; keep ! and ?.
            end = scalar == "." ? index : index + 1
            break
        }
        return shorten(String(String.UnicodeScalarView(scalars[..<end])))
    }

    private static func shorten(_ text: String) -> String {
        guard text.count > titleLength else { return text }
        let cut = text.prefix(titleLength)
        let boundary = cut.lastIndex(of: " ").map { cut[..<$0] } ?? cut
        let trimmed = boundary.trimmingWhitespace().trimmingSuffix(",;:-–—“\"(")
        return trimmed + "…"
    }
}

extension String {
    func trimmingSuffix(_ characters: String) -> String {
        var result = Substring(self)
        while let last = result.last, characters.contains(last) || last == " " { result = result.dropLast() }
        return String(result)
    }
}
