import MarginCore

/// A parsed JSON value, as `JSONReader` makes it: the sync protocol's bodies and the
/// stores' JSON columns are read through it (several times faster than `JSONDecoder`
/// with the protocol's mixed-type field values, and with errors that give the path).
package enum JSONNode: Sendable, Hashable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONNode])
    /// Members in document order.
    case object([(key: String, value: JSONNode)])

    package static func == (lhs: JSONNode, rhs: JSONNode) -> Bool {
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

    package func hash(into hasher: inout Hasher) {
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
    package static func parse(_ bytes: [UInt8]) throws(MarginError) -> JSONNode {
        var reader = JSONReader(bytes)
        return try reader.document()
    }

    /// Parses JSON text.
    package static func parse(_ text: String) throws(MarginError) -> JSONNode {
        try parse(Array(text.utf8))
    }

    // MARK: - Typed access

    package func string() throws(JSONShapeError) -> String {
        guard case .string(let value) = self else { throw JSONShapeError("expected a string") }
        return value
    }

    package func integer() throws(JSONShapeError) -> Int64 {
        guard case .integer(let value) = self else { throw JSONShapeError("expected an integer") }
        return value
    }

    package func bool() throws(JSONShapeError) -> Bool {
        guard case .bool(let value) = self else { throw JSONShapeError("expected true or false") }
        return value
    }

    package func array() throws(JSONShapeError) -> [JSONNode] {
        guard case .array(let value) = self else { throw JSONShapeError("expected a list") }
        return value
    }

    /// The members of an object; with `known`, a member it does not name is an error.
    package func object(known: Set<String>? = nil) throws(JSONShapeError) -> JSONObject {
        guard case .object(let members) = self else { throw JSONShapeError("expected an object") }
        if let known, let unknown = members.first(where: { !known.contains($0.key) }) {
            throw JSONShapeError("unknown field", at: unknown.key)
        }
        return JSONObject(members: members)
    }

    /// The value as a record field value: null, an integer, a string or a list of strings.
    package func fieldValue() throws(JSONShapeError) -> FieldValue {
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

/// An object's members, looked up by key.
package struct JSONObject: Sendable {
    package let members: [(key: String, value: JSONNode)]

    /// The member `key`, or nil when it is absent. An optional member is left out, never
    /// written as null (the protocol's schema does not allow null there).
    package func optional(_ key: String) throws(JSONShapeError) -> JSONNode? {
        for member in members where member.key == key {
            guard member.value != .null else { throw JSONShapeError("must be left out rather than null", at: key) }
            return member.value
        }
        return nil
    }

    package func required(_ key: String) throws(JSONShapeError) -> JSONNode {
        for member in members where member.key == key { return member.value }
        throw JSONShapeError("missing", at: key)
    }

    package func string(_ key: String) throws(JSONShapeError) -> String {
        try within(key) { () throws(JSONShapeError) in try required(key).string() }
    }

    package func integer(_ key: String) throws(JSONShapeError) -> Int64 {
        try within(key) { () throws(JSONShapeError) in try required(key).integer() }
    }

    package func bool(_ key: String) throws(JSONShapeError) -> Bool {
        try within(key) { () throws(JSONShapeError) in try required(key).bool() }
    }

    package func array(_ key: String) throws(JSONShapeError) -> [JSONNode] {
        try within(key) { () throws(JSONShapeError) in try required(key).array() }
    }
}
