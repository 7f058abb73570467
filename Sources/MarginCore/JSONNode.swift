/// A parsed JSON value, as `JSONReader` makes it: the sync protocol's bodies and the
/// stores' JSON columns are read through it (several times faster than `JSONDecoder`
/// with the protocol's mixed-type field values, and with errors that give the path).
public enum JSONNode: Sendable, Hashable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONNode])
    /// Members in document order.
    case object([(key: String, value: JSONNode)])

    public static func == (lhs: JSONNode, rhs: JSONNode) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.integer(let a), .integer(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)): a.elementsEqual(b) { $0.key == $1.key && $0.value == $1.value }
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let value): hasher.combine(value)
        case .integer(let value): hasher.combine(value)
        case .number(let value): hasher.combine(value)
        case .string(let value): hasher.combine(value)
        case .array(let value): hasher.combine(value)
        case .object(let members): for member in members { hasher.combine(member.key); hasher.combine(member.value) }
        }
    }

    /// Parses a whole JSON text (UTF-8).
    public static func parse(_ bytes: [UInt8]) throws(MarginError) -> JSONNode {
        var reader = JSONReader(bytes)
        return try reader.document()
    }

    /// Parses JSON text.
    public static func parse(_ text: String) throws(MarginError) -> JSONNode {
        try parse(Array(text.utf8))
    }

    // MARK: - Typed access

    public func string() throws(JSONShapeError) -> String {
        guard case .string(let value) = self else { throw JSONShapeError("expected a string") }
        return value
    }

    public func integer() throws(JSONShapeError) -> Int64 {
        guard case .integer(let value) = self else { throw JSONShapeError("expected an integer") }
        return value
    }

    public func bool() throws(JSONShapeError) -> Bool {
        guard case .bool(let value) = self else { throw JSONShapeError("expected true or false") }
        return value
    }

    public func array() throws(JSONShapeError) -> [JSONNode] {
        guard case .array(let value) = self else { throw JSONShapeError("expected a list") }
        return value
    }

    /// The members of an object; with `known`, a member it does not name is an error.
    public func object(known: Set<String>? = nil) throws(JSONShapeError) -> JSONObject {
        guard case .object(let members) = self else { throw JSONShapeError("expected an object") }
        if let known, let unknown = members.first(where: { !known.contains($0.key) }) {
            throw JSONShapeError("unknown field", at: unknown.key)
        }
        return JSONObject(members: members)
    }

    /// The value as a record field value: null, an integer, a string or a list of strings.
    public func fieldValue() throws(JSONShapeError) -> FieldValue {
        switch self {
        case .null: return .null
        case .integer(let value): return .integer(value)
        case .string(let value): return .text(value)
        case .array(let items):
            var list: [String] = []
            list.reserveCapacity(items.count)
            for (index, item) in items.enumerated() {
                list.append(try within("[\(index)]") { () throws(JSONShapeError) in try item.string() })
            }
            return .list(list)
        default: throw JSONShapeError("expected null, an integer, a string or a list of strings")
        }
    }
}

/// What is wrong with a JSON value, and where: `path` is built only when something is
/// wrong, by each level adding its member name or index on the way out (`within`).
public struct JSONShapeError: Error, Sendable {
    public var path: String
    public var problem: String

    public init(_ problem: String, at path: String = "") {
        self.problem = problem
        self.path = path
    }

    /// The error as the rest of Marginalia reports it: "changes[2].fields.note: expected a string".
    public var marginError: MarginError {
        MarginError(.invalidInput, path.isEmpty ? problem : "\(path): \(problem)")
    }
}

/// Runs `body`, adding `component` (a member name, or `[index]`) to the path of the error
/// it throws. The component is only built when there is an error.
@inline(__always)
public func within<T>(_ component: @autoclosure () -> String, _ body: () throws(JSONShapeError) -> T) throws(JSONShapeError) -> T {
    do {
        return try body()
    } catch {
        var error = error
        let head = component()
        error.path = error.path.isEmpty ? head : error.path.hasPrefix("[") ? head + error.path : head + "." + error.path
        throw error
    }
}

/// An object's members, looked up by key.
public struct JSONObject: Sendable {
    public let members: [(key: String, value: JSONNode)]

    /// The member `key`, or nil when it is absent. An optional member is left out, never
    /// written as null (the protocol's schema does not allow null there).
    public func optional(_ key: String) throws(JSONShapeError) -> JSONNode? {
        for member in members where member.key == key {
            guard member.value != .null else { throw JSONShapeError("must be left out rather than null", at: key) }
            return member.value
        }
        return nil
    }

    public func required(_ key: String) throws(JSONShapeError) -> JSONNode {
        for member in members where member.key == key { return member.value }
        throw JSONShapeError("missing", at: key)
    }

    public func string(_ key: String) throws(JSONShapeError) -> String {
        try within(key) { () throws(JSONShapeError) in try required(key).string() }
    }

    public func integer(_ key: String) throws(JSONShapeError) -> Int64 {
        try within(key) { () throws(JSONShapeError) in try required(key).integer() }
    }

    public func bool(_ key: String) throws(JSONShapeError) -> Bool {
        try within(key) { () throws(JSONShapeError) in try required(key).bool() }
    }

    public func array(_ key: String) throws(JSONShapeError) -> [JSONNode] {
        try within(key) { () throws(JSONShapeError) in try required(key).array() }
    }
}

/// A strict, fast JSON parser over UTF-8 bytes (RFC 8259): nesting is limited to 64
/// levels, integers must fit in 64 bits, and nothing may follow the value.
struct JSONReader {
    static let maximumDepth = 64
    private let bytes: [UInt8]
    private var index = 0
    private var depth = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func document() throws(MarginError) -> JSONNode {
        let value = try self.value()
        skipSpace()
        guard index == bytes.count else { throw error("unexpected text after the JSON value") }
        return value
    }

    private func error(_ message: String) -> MarginError {
        MarginError(.invalidInput, "the body is not valid JSON: \(message) at byte \(index)")
    }

    private mutating func skipSpace() {
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
            index += 1
        }
    }

    private mutating func value() throws(MarginError) -> JSONNode {
        skipSpace()
        guard index < bytes.count else { throw error("unexpected end") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        default: return try number()
        }
    }

    private mutating func literal(_ word: StaticString, _ value: JSONNode) throws(MarginError) -> JSONNode {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count,
              word.withUTF8Buffer({ bytes[index..<index + count].elementsEqual($0) })
        else { throw error("unknown literal") }
        index += count
        return value
    }

    private mutating func enter() throws(MarginError) {
        depth += 1
        guard depth <= Self.maximumDepth else { throw error("nested deeper than \(Self.maximumDepth) levels") }
    }

    private mutating func object() throws(MarginError) -> JSONNode {
        try enter()
        index += 1
        var members: [(key: String, value: JSONNode)] = []
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object(members)
        }
        while true {
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a member name") }
            let key = try string()
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
            index += 1
            members.append((key, try value()))
            skipSpace()
            guard index < bytes.count else { throw error("unexpected end") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "}") {
                index += 1
                depth -= 1
                return .object(members)
            } else {
                throw error("expected ',' or '}'")
            }
        }
    }

    private mutating func array() throws(MarginError) -> JSONNode {
        try enter()
        index += 1
        var items: [JSONNode] = []
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array(items)
        }
        while true {
            items.append(try value())
            skipSpace()
            guard index < bytes.count else { throw error("unexpected end") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "]") {
                index += 1
                depth -= 1
                return .array(items)
            } else {
                throw error("expected ',' or ']'")
            }
        }
    }

    private mutating func string() throws(MarginError) -> String {
        index += 1
        let start = index
        // Fast path: no escapes.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = try utf8(bytes[start..<index])
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw error("a control character inside a string") }
            index += 1
        }
        var decoded = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return try utf8(decoded[...])
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw error("unexpected end") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escape)
                case UInt8(ascii: "b"): decoded.append(0x08)
                case UInt8(ascii: "f"): decoded.append(0x0C)
                case UInt8(ascii: "n"): decoded.append(0x0A)
                case UInt8(ascii: "r"): decoded.append(0x0D)
                case UInt8(ascii: "t"): decoded.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                            throw error("a lone surrogate in a string")
                        }
                        index += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw error("a lone surrogate in a string") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw error("a lone surrogate in a string") }
                    decoded += Array(String(Character(unicode)).utf8)
                default:
                    throw error("an unknown escape in a string")
                }
            default:
                guard byte >= 0x20 else { throw error("a control character inside a string") }
                decoded.append(byte)
                index += 1
            }
        }
        throw error("an unterminated string")
    }

    private mutating func hex4() throws(MarginError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("unexpected end") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case 0x30...0x39: digit = byte - 0x30
            case 0x41...0x46: digit = byte - 0x41 + 10
            case 0x61...0x66: digit = byte - 0x61 + 10
            default: throw error("a bad \\u escape")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    private func utf8(_ slice: ArraySlice<UInt8>) throws(MarginError) -> String {
        guard let text = slice.withUnsafeBufferPointer({ String(validating: $0, as: UTF8.self) }) else {
            throw error("invalid UTF-8 in a string")
        }
        return text
    }

    private mutating func number() throws(MarginError) -> JSONNode {
        let start = index
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        let digitsStart = index
        while index < bytes.count, (0x30...0x39).contains(bytes[index]) { index += 1 }
        guard index > digitsStart else { throw error("unexpected character") }
        guard !(bytes[digitsStart] == 0x30 && index - digitsStart > 1) else { throw error("a number with a leading zero") }
        var isInteger = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            let fraction = index
            while index < bytes.count, (0x30...0x39).contains(bytes[index]) { index += 1 }
            guard index > fraction else { throw error("a number without digits after '.'") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            let exponent = index
            while index < bytes.count, (0x30...0x39).contains(bytes[index]) { index += 1 }
            guard index > exponent else { throw error("a number without exponent digits") }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if isInteger {
            guard let value = Int64(text) else { throw error("an integer out of the 64-bit range") }
            return .integer(value)
        }
        guard let value = Double(text), value.isFinite else { throw error("a number out of range") }
        return .number(value)
    }
}

/// Writes JSON into a byte buffer: the sync protocol's bodies and the stores' JSON
/// columns. Object keys are written in the order given; callers sort them where the
/// text must be canonical.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    public mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends text that is already JSON (a stored column).
    public mutating func rawJSON(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    public mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        let utf8 = value.utf8
        let appendedFast: Void? = utf8.withContiguousStorageIfAvailable { buffer in
            var runStart = 0
            for (offset, byte) in buffer.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[runStart..<offset]))
                appendEscape(byte)
                runStart = offset + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[runStart...]))
        }
        if appendedFast == nil {
            for byte in utf8 {
                if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { appendEscape(byte) } else { bytes.append(byte) }
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// The bytes `string(value)` appends: quotes included, escapes counted.
    public static func encodedCount(of value: String) -> Int {
        value.utf8.reduce(2) { count, byte in
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): count + 2
            case ..<0x20: count + 6
            default: count + 1
            }
        }
    }

    private mutating func appendEscape(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
        case UInt8(ascii: "\\"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
        case UInt8(ascii: "\n"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
        case UInt8(ascii: "\r"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
        case UInt8(ascii: "\t"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
        default:
            let digits = Array("0123456789abcdef".utf8)
            bytes += Array("\\u00".utf8) + [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]]
        }
    }

    public mutating func integer(_ value: Int64) {
        bytes.append(contentsOf: String(value).utf8)
    }

    public mutating func bool(_ value: Bool) {
        value ? raw("true") : raw("false")
    }

    public mutating func key(_ name: String) {
        string(name)
        bytes.append(UInt8(ascii: ":"))
    }

    public mutating func comma() {
        bytes.append(UInt8(ascii: ","))
    }

    public mutating func value(_ value: FieldValue) {
        switch value {
        case .null: raw("null")
        case .integer(let number): integer(number)
        case .text(let text): string(text)
        case .list(let list): array(list) { $0.string($1) }
        }
    }

    /// `[a,b,…]`, each element written by `element`.
    public mutating func array<Element>(_ elements: some Sequence<Element>, _ element: (inout JSONWriter, Element) -> Void) {
        bytes.append(UInt8(ascii: "["))
        var first = true
        for item in elements {
            if !first { comma() }
            first = false
            element(&self, item)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// A record's field values as an object with sorted keys.
    public mutating func fields(_ fields: [RecordField: FieldValue]) {
        bytes.append(UInt8(ascii: "{"))
        for (offset, key) in fields.keys.sorted().enumerated() {
            if offset > 0 { comma() }
            self.key(key.rawValue)
            value(fields[key]!)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    public var text: String { String(decoding: bytes, as: UTF8.self) }
}
