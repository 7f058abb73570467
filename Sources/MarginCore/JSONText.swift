/// A small, fast JSON writer for the shapes the stores keep in text columns, with keys in
/// sorted order so equal values always give equal text.
public enum JSONText {
    /// `value` as a JSON string literal.
    public static func string(_ value: String) -> String {
        var output: [UInt8] = [UInt8(ascii: "\"")]
        output.reserveCapacity(value.utf8.count + 2)
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): output += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case UInt8(ascii: "\n"): output += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case UInt8(ascii: "\r"): output += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case UInt8(ascii: "\t"): output += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20:
                let digits = Array("0123456789abcdef".utf8)
                output += Array("\\u00".utf8) + [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]]
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
        return String(decoding: output, as: UTF8.self)
    }

    /// A list of strings as a JSON array.
    public static func array(_ values: [String]) -> String {
        "[" + values.map(string).joined(separator: ",") + "]"
    }

    /// A field value as JSON.
    public static func value(_ value: FieldValue) -> String {
        switch value {
        case .null: "null"
        case .integer(let number): String(number)
        case .text(let text): string(text)
        case .list(let list): array(list)
        }
    }

    /// A change's fields as `{"field":{"new":…,"old":…}}`.
    public static func fieldChanges(_ changes: [String: ChangeEntry.FieldChange]) -> String {
        let members = changes.keys.sorted().map { key in
            let change = changes[key]!
            return "\(string(key)):{\"new\":\(value(change.new)),\"old\":\(value(change.old))}"
        }
        return "{" + members.joined(separator: ",") + "}"
    }

    /// A record's field values as a JSON object.
    public static func object(_ fields: [String: FieldValue]) -> String {
        "{" + fields.keys.sorted().map { "\(string($0)):\(value(fields[$0]!))" }.joined(separator: ",") + "}"
    }
}
