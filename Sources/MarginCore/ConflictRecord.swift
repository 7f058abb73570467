/// A value that lost a conflict, or a delete that lost to an edit, kept so that it can be
/// restored (`MergeRules`). The server makes these records; devices list, restore and
/// dismiss them.
public struct ConflictRecord: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// `field` of the record was edited on two devices; `value` lost.
        case value
        /// The record was deleted on one device and edited on another; the edit won.
        case delete
    }

    public var id: String
    public var recordEntity: RecordEntity
    public var recordId: String
    public var kind: Kind
    /// The field that conflicted (`nil` for a delete).
    public var field: RecordField?
    /// The losing value (`null` for a delete).
    public var value: FieldValue
    /// The device whose value (or delete) lost; `nil` when no longer known.
    public var device: String?
    /// The clock of the losing write.
    public var hlc: Int64
    public var createdAt: Timestamp
    /// The record's current value of `field` where a store shows it (`nil` when the record
    /// is gone or the conflict is a delete).
    public var currentValue: FieldValue?

    public init(
        id: String, recordEntity: RecordEntity, recordId: String, kind: Kind, field: RecordField?, value: FieldValue,
        device: String?, hlc: Int64, createdAt: Timestamp, currentValue: FieldValue? = nil
    ) {
        self.id = id
        self.recordEntity = recordEntity
        self.recordId = recordId
        self.kind = kind
        self.field = field
        self.value = value
        self.device = device
        self.hlc = hlc
        self.createdAt = createdAt
        self.currentValue = currentValue
    }

    /// The conflict a synchronized record describes; `fields` must have passed
    /// `RecordRules.check(record:of:)`.
    public init(id: String, fields: [RecordField: FieldValue]) {
        self.init(
            id: id, recordEntity: fields[.recordEntity]?.textValue.flatMap(RecordEntity.init) ?? .annotation,
            recordId: fields[.recordId]?.textValue ?? "", kind: fields[.kind]?.textValue.flatMap(Kind.init) ?? .value,
            field: fields[.field]?.textValue.flatMap(RecordField.init), value: fields[.value] ?? .null,
            device: fields[.device]?.textValue, hlc: fields[.hlc]?.integerValue ?? 0,
            createdAt: Timestamp(milliseconds: fields[.createdAt]?.integerValue ?? 0))
    }

    /// The synchronized fields.
    public var fieldValues: [RecordField: FieldValue] {
        [
            .recordEntity: .text(recordEntity.rawValue), .recordId: .text(recordId), .kind: .text(kind.rawValue),
            .field: field.map { .text($0.rawValue) } ?? .null, .value: value, .device: device.map(FieldValue.text) ?? .null,
            .hlc: .integer(hlc), .createdAt: .integer(createdAt.milliseconds),
        ]
    }
}

extension ConflictRecord: Encodable {
    private enum CodingKeys: String, CodingKey {
        case id, recordEntity, recordId, kind, field, value, currentValue, device, createdAt
    }

    /// `conflicts --json`: the clock stays internal.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(recordEntity, forKey: .recordEntity)
        try container.encode(recordId, forKey: .recordId)
        try container.encode(kind, forKey: .kind)
        try container.encodeIfPresent(field?.rawValue, forKey: .field)
        try container.encode(value, forKey: .value)
        try container.encodeIfPresent(currentValue, forKey: .currentValue)
        try container.encodeIfPresent(device, forKey: .device)
        try container.encode(createdAt, forKey: .createdAt)
    }
}
