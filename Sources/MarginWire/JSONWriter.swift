import MarginCore

/// Writes JSON into a byte buffer: the sync protocol's bodies and the stores' JSON
/// columns. Object keys are written in the order given; callers sort them where the
/// text must be canonical.
package struct JSONWriter {
    package private(set) var bytes: [UInt8] = []

    package init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    package mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends text that is already JSON (a stored column).
    package mutating func rawJSON(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    package mutating func string(_ value: String) {
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
    package static func encodedCount(of value: String) -> Int {
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

    package mutating func integer(_ value: Int64) {
        bytes.append(contentsOf: String(value).utf8)
    }

    package mutating func bool(_ value: Bool) {
        value ? raw("true") : raw("false")
    }

    package mutating func key(_ name: String) {
        string(name)
        bytes.append(UInt8(ascii: ":"))
    }

    package mutating func comma() {
        bytes.append(UInt8(ascii: ","))
    }

    package mutating func value(_ value: FieldValue) {
        switch value {
        case .null: raw("null")
        case .integer(let number): integer(number)
        case .text(let text): string(text)
        case .list(let list): array(list) { $0.string($1) }
        }
    }

    /// `[a,b,…]`, each element written by `element`.
    package mutating func array<Element>(_ elements: some Sequence<Element>, _ element: (inout JSONWriter, Element) -> Void) {
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
    package mutating func fields(_ fields: [RecordField: FieldValue]) {
        bytes.append(UInt8(ascii: "{"))
        for (offset, key) in fields.keys.sorted().enumerated() {
            if offset > 0 { comma() }
            self.key(key.rawValue)
            value(fields[key]!)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    package var text: String { String(decoding: bytes, as: UTF8.self) }
}
