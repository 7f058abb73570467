import Foundation

/// The character set a page is written in, found the way browsers find it — a byte-order
/// mark, then the charset the HTTP header names, then a `<meta charset>` or `<meta
/// http-equiv="content-type">` near the start of the page, else UTF-8 when the bytes are
/// valid UTF-8 and windows-1252 otherwise — and the page decoded to UTF-8 with glibc's
/// iconv. Labels are read as the WHATWG Encoding standard reads them (so `iso-8859-1`
/// means windows-1252, as in every browser); bytes that do not decode become U+FFFD.
struct PageEncoding: Sendable, Hashable {
    /// The name iconv knows the encoding by.
    let iconvName: String

    static let utf8 = PageEncoding(iconvName: "UTF-8")
    static let windows1252 = PageEncoding(iconvName: "CP1252")

    /// How many bytes at the start of a page are searched for a `<meta>` naming the charset.
    static let prescanLength = 8_192

    /// The encoding a label names (`"utf-8"`, `"Windows-1258"`, `"latin1"`, …), if known.
    init?(label: some StringProtocol) {
        let label = label.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        if let name = Self.labels[label] {
            iconvName = name
        } else if let match = Self.numbered.first(where: { label.hasPrefix($0.prefix) && Int(label.dropFirst($0.prefix.count)) != nil }) {
            let number = Int(label.dropFirst(match.prefix.count))!
            guard match.allowed.contains(number) else { return nil }
            iconvName = match.iconv + String(number)
        } else {
            return nil
        }
    }

    private init(iconvName: String) {
        self.iconvName = iconvName
    }

    /// The encoding of `bytes`; `declared` is the charset of an HTTP `Content-Type`.
    static func detect(_ bytes: [UInt8], declared: String?) -> PageEncoding {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { return .utf8 }
        if bytes.starts(with: [0xFE, 0xFF]) { return PageEncoding(iconvName: "UTF-16BE") }
        if bytes.starts(with: [0xFF, 0xFE]) { return PageEncoding(iconvName: "UTF-16LE") }
        if let declared, let encoding = PageEncoding(label: declared) { return encoding }
        var prescan = MetaPrescan(bytes.prefix(prescanLength))
        if let label = prescan.charset(), var encoding = PageEncoding(label: label) {
            // A page cannot declare itself UTF-16 in its own (ASCII) bytes.
            if encoding.iconvName.hasPrefix("UTF-16") { encoding = .utf8 }
            return encoding
        }
        return isValidUTF8(bytes[...]) ? .utf8 : .windows1252
    }

    /// Whether `bytes` are well-formed UTF-8 (a check that copies nothing).
    static func isValidUTF8(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.withUnsafeBufferPointer { buffer in
            var index = 0
            let count = buffer.count
            while index < count {
                // Eight ASCII bytes at a time: most of a page is markup.
                if index + 8 <= count,
                   UnsafeRawPointer(buffer.baseAddress! + index).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                    index += 8
                    continue
                }
                let byte = buffer[index]
                if byte < 0x80 {
                    index += 1
                    continue
                }
                let length: Int
                switch byte {
                case 0xC2...0xDF: length = 2
                case 0xE0...0xEF: length = 3
                case 0xF0...0xF4: length = 4
                default: return false
                }
                guard index + length <= count else { return false }
                for offset in 1..<length where buffer[index + offset] & 0xC0 != 0x80 { return false }
                // Overlong forms, surrogates and code points past U+10FFFF.
                let second = buffer[index + 1]
                if (byte == 0xE0 && second < 0xA0) || (byte == 0xED && second > 0x9F) || (byte == 0xF0 && second < 0x90)
                    || (byte == 0xF4 && second > 0x8F) {
                    return false
                }
                index += length
            }
            return true
        }
    }

    /// `bytes` as UTF-8, without a byte-order mark.
    func decode(_ bytes: [UInt8]) -> [UInt8] {
        var bytes = bytes[...]
        for mark in [[0xEF, 0xBB, 0xBF], [0xFE, 0xFF], [0xFF, 0xFE]] as [[UInt8]] where bytes.starts(with: mark) {
            bytes = bytes.dropFirst(mark.count)
            break
        }
        if self == .utf8 { return Self.isValidUTF8(bytes) ? Array(bytes) : Array(String(decoding: bytes, as: UTF8.self).utf8) }
        return Self.convert(Array(bytes), from: iconvName)
    }

    /// Converts with iconv, a chunk at a time; a byte that does not decode becomes U+FFFD.
    private static func convert(_ input: [UInt8], from encoding: String) -> [UInt8] {
        let converter = iconv_open("UTF-8", encoding)
        guard let converter, converter != iconv_t(bitPattern: -1) else {
            return Array(String(decoding: input, as: UTF8.self).utf8)
        }
        defer { iconv_close(converter) }
        var output: [UInt8] = []
        output.reserveCapacity(input.count + input.count / 2)
        var chunk = [UInt8](repeating: 0, count: 65_536)
        input.withUnsafeBufferPointer { source in
            var inPointer = UnsafeMutablePointer(mutating: source.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) })
            var inLeft = source.count
            while inLeft > 0 {
                let (result, written, failure) = chunk.withUnsafeMutableBufferPointer { target -> (Int, Int, Int32) in
                    var outPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(target.baseAddress!).assumingMemoryBound(to: CChar.self)
                    var outLeft = target.count
                    let result = iconv(converter, &inPointer, &inLeft, &outPointer, &outLeft)
                    return (result, target.count - outLeft, result == -1 ? errno : 0)
                }
                output.append(contentsOf: chunk[..<written])
                guard result == -1 else { continue }
                switch failure {
                case E2BIG: continue
                case EILSEQ:
                    output.append(contentsOf: [0xEF, 0xBF, 0xBD])
                    inPointer = inPointer.map { $0 + 1 }
                    inLeft -= 1
                default:
                    // EINVAL: a sequence cut off at the end.
                    output.append(contentsOf: [0xEF, 0xBF, 0xBD])
                    inLeft = 0
                }
            }
        }
        // A converter may hold back the last character (windows-1258 waits for a tone mark
        // that could follow it): flush it.
        chunk.withUnsafeMutableBufferPointer { target in
            var outPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(target.baseAddress!).assumingMemoryBound(to: CChar.self)
            var outLeft = target.count
            _ = iconv(converter, nil, nil, &outPointer, &outLeft)
            output.append(contentsOf: target[..<(target.count - outLeft)])
        }
        return output
    }

    /// The WHATWG labels of the encodings kept here, by iconv name.
    private static let labels: [String: String] = {
        var labels: [String: String] = [:]
        let table: [(String, [String])] = [
            ("UTF-8", ["utf-8", "utf8", "unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "x-unicode20utf8"]),
            ("CP1252", [
                "windows-1252", "cp1252", "x-cp1252", "iso-8859-1", "iso8859-1", "iso88591", "iso_8859-1", "iso_8859-1:1987",
                "iso-ir-100", "latin1", "l1", "ascii", "us-ascii", "ansi_x3.4-1968", "cp819", "csisolatin1", "ibm819",
            ]),
            ("ISO-8859-15", ["iso-8859-15", "iso8859-15", "iso885915", "iso_8859-15", "csisolatin9", "l9", "latin-9"]),
            ("UTF-16LE", ["utf-16", "utf-16le", "unicode", "ucs-2", "csunicode", "iso-10646-ucs-2", "unicodefeff"]),
            ("UTF-16BE", ["utf-16be", "unicodefffe"]),
            ("KOI8-R", ["koi8-r", "koi8", "koi", "cskoi8r", "koi8_r"]),
            ("KOI8-U", ["koi8-u", "koi8-ru"]),
            ("SHIFT_JIS", ["shift_jis", "shift-jis", "sjis", "ms_kanji", "csshiftjis", "windows-31j", "x-sjis", "ms932"]),
            ("EUC-JP", ["euc-jp", "cseucpkdfmtjapanese", "x-euc-jp"]),
            ("ISO-2022-JP", ["iso-2022-jp", "csiso2022jp"]),
            ("EUC-KR", ["euc-kr", "cseuckr", "korean", "ks_c_5601-1987", "ks_c_5601-1989", "ksc5601", "ksc_5601", "windows-949"]),
            ("GB18030", ["gb18030", "gbk", "gb2312", "x-gbk", "chinese", "csgb2312", "csiso58gb231280", "iso-ir-58", "cp936", "ms936", "windows-936"]),
            ("BIG5-HKSCS", ["big5", "big5-hkscs", "cn-big5", "csbig5", "x-x-big5"]),
            ("CP874", ["windows-874", "dos-874", "tis-620", "iso-8859-11", "iso8859-11", "iso885911"]),
            ("IBM866", ["ibm866", "866", "cp866", "csibm866"]),
            ("MACINTOSH", ["macintosh", "mac", "x-mac-roman", "csmacintosh"]),
        ]
        for (name, aliases) in table {
            for alias in aliases { labels[alias] = name }
        }
        return labels
    }()

    /// Families whose labels end in a number: windows-1250…1258 and ISO-8859-2…16.
    private static let numbered: [(prefix: String, iconv: String, allowed: ClosedRange<Int>)] = [
        ("windows-", "CP", 1250...1258), ("x-cp", "CP", 1250...1258), ("cp", "CP", 1250...1258),
        ("iso-8859-", "ISO-8859-", 2...16), ("iso8859-", "ISO-8859-", 2...16), ("iso_8859-", "ISO-8859-", 2...16),
    ]
}

/// The HTML standard's prescan for a character encoding: reads tags and their attributes
/// near the start of a page, skipping comments, until a `<meta>` names a charset.
struct MetaPrescan {
    private let bytes: ArraySlice<UInt8>
    private var position: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    mutating func charset() -> String? {
        while position < bytes.endIndex {
            if matches("<!--") {
                position += 4
                while position < bytes.endIndex, !matches("-->") { position += 1 }
                position += 3
            } else if matches("<meta"), position + 5 < bytes.endIndex, isSpaceOrSlash(bytes[position + 5]) {
                position += 5
                if let charset = metaCharset() { return charset }
            } else if matches("<"), position + 1 < bytes.endIndex, isLetter(bytes[position + 1])
                        || (bytes[position + 1] == UInt8(ascii: "/") && position + 2 < bytes.endIndex && isLetter(bytes[position + 2])) {
                while position < bytes.endIndex, !isSpaceOrSlash(bytes[position]), bytes[position] != UInt8(ascii: ">") { position += 1 }
                while attribute() != nil {}
            } else if matches("<!") || matches("</") || matches("<?") {
                while position < bytes.endIndex, bytes[position] != UInt8(ascii: ">") { position += 1 }
            }
            position += 1
        }
        return nil
    }

    /// The charset a `<meta>` element names, reading its attributes.
    private mutating func metaCharset() -> String? {
        var gotPragma = false
        var needPragma: Bool?
        var charset: String?
        var seen = Set<String>()
        while let (name, value) = attribute() {
            guard seen.insert(name).inserted else { continue }
            switch name {
            case "http-equiv": if value.lowercased() == "content-type" { gotPragma = true }
            case "content":
                if charset == nil, let found = Self.charset(inContent: value) {
                    charset = found
                    needPragma = true
                }
            case "charset":
                charset = value
                needPragma = false
            default: break
            }
        }
        guard let charset, let needPragma, !needPragma || gotPragma else { return nil }
        return charset
    }

    /// The next attribute of the current tag, or `nil` at its end.
    private mutating func attribute() -> (name: String, value: String)? {
        while position < bytes.endIndex, isSpace(bytes[position]) || bytes[position] == UInt8(ascii: "/") { position += 1 }
        guard position < bytes.endIndex, bytes[position] != UInt8(ascii: ">") else { return nil }
        var name: [UInt8] = []
        while position < bytes.endIndex, !isSpace(bytes[position]), bytes[position] != UInt8(ascii: "="),
              bytes[position] != UInt8(ascii: ">"), bytes[position] != UInt8(ascii: "/") || name.isEmpty {
            name.append(lower(bytes[position]))
            position += 1
        }
        while position < bytes.endIndex, isSpace(bytes[position]) { position += 1 }
        guard position < bytes.endIndex, bytes[position] == UInt8(ascii: "=") else {
            return (String(decoding: name, as: UTF8.self), "")
        }
        position += 1
        while position < bytes.endIndex, isSpace(bytes[position]) { position += 1 }
        var value: [UInt8] = []
        if position < bytes.endIndex, bytes[position] == UInt8(ascii: "\"") || bytes[position] == UInt8(ascii: "'") {
            let quote = bytes[position]
            position += 1
            while position < bytes.endIndex, bytes[position] != quote {
                value.append(lower(bytes[position]))
                position += 1
            }
            position += 1
        } else {
            while position < bytes.endIndex, !isSpace(bytes[position]), bytes[position] != UInt8(ascii: ">") {
                value.append(lower(bytes[position]))
                position += 1
            }
        }
        return (String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
    }

    /// The charset in a `content` value such as `text/html; charset=windows-1258`.
    static func charset(inContent content: String) -> String? {
        var rest = content.lowercased()[...]
        while let range = rest.range(of: "charset") {
            var after = rest[range.upperBound...].drop { $0 == " " || $0 == "\t" }
            guard after.first == "=" else {
                rest = after
                continue
            }
            after = after.dropFirst().drop { $0 == " " || $0 == "\t" }
            if let quote = after.first, quote == "\"" || quote == "'" {
                let value = after.dropFirst().prefix { $0 != quote }
                return value.count < after.count - 1 ? String(value) : nil
            }
            let value = after.prefix { $0 != ";" && $0 != " " && $0 != "\t" }
            return value.isEmpty ? nil : String(value)
        }
        return nil
    }

    private func matches(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard position + count <= bytes.endIndex else { return false }
        return text.withUTF8Buffer { pattern in
            (0..<count).allSatisfy { lower(bytes[position + $0]) == pattern[$0] }
        }
    }

    private func lower(_ byte: UInt8) -> UInt8 { (0x41...0x5A).contains(byte) ? byte + 0x20 : byte }
    private func isLetter(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }
    private func isSpace(_ byte: UInt8) -> Bool { [0x09, 0x0A, 0x0C, 0x0D, 0x20].contains(byte) }
    private func isSpaceOrSlash(_ byte: UInt8) -> Bool { isSpace(byte) || byte == UInt8(ascii: "/") }
}
