/// The value of one synchronized field: what the change log and the sync protocol carry.
public enum FieldValue: Sendable, Hashable, Codable, CustomStringConvertible {
    case null
    case integer(Int64)
    case text(String)
    case list([String])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(String.self) {
            self = .text(value)
        } else if let value = try? container.decode([String].self) {
            self = .list(value)
        } else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "a field value is null, an integer, a string or a list of strings")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .integer(let value): try container.encode(value)
        case .text(let value): try container.encode(value)
        case .list(let value): try container.encode(value)
        }
    }

    /// The string, if this is a text value.
    public var textValue: String? {
        if case .text(let text) = self { return text }
        return nil
    }

    /// The number, if this is an integer value.
    public var integerValue: Int64? {
        if case .integer(let number) = self { return number }
        return nil
    }

    /// The strings, if this is a list value.
    public var listValue: [String]? {
        if case .list(let list) = self { return list }
        return nil
    }

    public var description: String {
        switch self {
        case .null: "null"
        case .integer(let value): String(value)
        case .text(let value): "\"\(value)\""
        case .list(let value): "[" + value.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
        }
    }
}

/// One entry of a device's change log: a create, update or delete of one record, with the
/// old and new value of every field it changed.
public struct ChangeEntry: Sendable, Hashable, Codable {
    /// The kind of record a change is about.
    public typealias Entity = RecordEntity

    /// What happened to the record.
    public enum Operation: String, Sendable, Hashable, Codable {
        case create, update, delete
    }

    /// A field's value before and after the change (`null` before a create, after a delete).
    public struct FieldChange: Sendable, Hashable, Codable {
        public var old: FieldValue
        public var new: FieldValue

        /// A change of one field from `old` to `new`.
        public init(old: FieldValue, new: FieldValue) {
            self.old = old
            self.new = new
        }
    }

    /// This device's sequence number for the change: 1, 2, 3… without gaps.
    public var seq: Int64
    public var deviceId: String
    public var entity: Entity
    public var entityId: String
    public var op: Operation
    public var fields: [RecordField: FieldChange]
    /// The server version of the record the change was made on (0: never synchronized).
    public var baseVersion: Int64
    public var hlc: HybridTimestamp
    /// Whether the server has acknowledged the change.
    public var pushed: Bool

    /// An entry with the given fields, as read from a change log.
    public init(
        seq: Int64, deviceId: String, entity: Entity, entityId: String, op: Operation,
        fields: [RecordField: FieldChange], baseVersion: Int64, hlc: HybridTimestamp, pushed: Bool
    ) {
        self.seq = seq
        self.deviceId = deviceId
        self.entity = entity
        self.entityId = entityId
        self.op = op
        self.fields = fields
        self.baseVersion = baseVersion
        self.hlc = hlc
        self.pushed = pushed
    }

    /// The fields that differ between two states of a record (`nil`: the record does not exist).
    public static func fieldChanges(
        from old: [RecordField: FieldValue]?, to new: [RecordField: FieldValue]?
    ) -> [RecordField: FieldChange] {
        var changes: [RecordField: FieldChange] = [:]
        for key in Set((old ?? [:]).keys).union((new ?? [:]).keys) {
            let before = old?[key] ?? .null
            let after = new?[key] ?? .null
            if old == nil || new == nil || before != after {
                changes[key] = FieldChange(old: before, new: after)
            }
        }
        return changes
    }
}
