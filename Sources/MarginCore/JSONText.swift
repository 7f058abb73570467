/// A small, fast JSON writer for the shapes the stores keep in text columns, with keys in
/// sorted order so equal values always give equal text.
public enum JSONText {
    /// `value` as a JSON string literal.
    public static func string(_ value: String) -> String {
        var result = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
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
}
