import MarginCore

/// JSON text for the shapes the stores keep in text columns, with keys in sorted order so
/// that equal values always give equal text (written by `JSONWriter`).
package enum JSONText {
    /// A list of strings as a JSON array.
    package static func array(_ values: [String]) -> String {
        write { $0.array(values) { $0.string($1) } }
    }

    /// A field value as JSON.
    package static func value(_ value: FieldValue) -> String {
        write { $0.value(value) }
    }

    /// A change's fields as `{"field":{"new":…,"old":…}}`.
    package static func fieldChanges(_ changes: [RecordField: ChangeEntry.FieldChange]) -> String {
        write { $0.fieldChanges(changes) }
    }

    /// A record's field values as a JSON object.
    package static func object(_ fields: [RecordField: FieldValue]) -> String {
        write { $0.fields(fields) }
    }

    private static func write(_ body: (inout JSONWriter) -> Void) -> String {
        var writer = JSONWriter()
        body(&writer)
        return writer.text
    }
}

extension JSONWriter {
    /// `{"field":{"new":…,"old":…}}` with sorted keys.
    package mutating func fieldChanges(_ changes: [RecordField: ChangeEntry.FieldChange]) {
        raw("{")
        for (offset, key) in changes.keys.sorted().enumerated() {
            if offset > 0 { comma() }
            self.key(key.rawValue)
            raw("{\"new\":")
            value(changes[key]!.new)
            raw(",\"old\":")
            value(changes[key]!.old)
            raw("}")
        }
        raw("}")
    }
}

extension JSONNode {
    private static let fieldChangeKeys: Set<String> = ["old", "new"]

    /// A change's fields, `{"field": {"old": …, "new": …}}`.
    package func fieldChanges() throws(JSONShapeError) -> [RecordField: ChangeEntry.FieldChange] {
        let object = try self.object()
        var changes: [RecordField: ChangeEntry.FieldChange] = [:]
        changes.reserveCapacity(object.members.count)
        for (key, value) in object.members {
            changes[try Self.field(key)] = try within(key) { () throws(JSONShapeError) in
                let change = try value.object(known: Self.fieldChangeKeys)
                return ChangeEntry.FieldChange(
                    old: try within("old") { () throws(JSONShapeError) in try change.required("old").fieldValue() },
                    new: try within("new") { () throws(JSONShapeError) in try change.required("new").fieldValue() })
            }
        }
        return changes
    }

    /// A record's field values, `{"field": value}`.
    package func fieldValues() throws(JSONShapeError) -> [RecordField: FieldValue] {
        let object = try self.object()
        var values: [RecordField: FieldValue] = [:]
        values.reserveCapacity(object.members.count)
        for (key, value) in object.members {
            values[try Self.field(key)] = try within(key) { () throws(JSONShapeError) in try value.fieldValue() }
        }
        return values
    }

    private static func field(_ key: String) throws(JSONShapeError) -> RecordField {
        guard let field = RecordField(rawValue: key) else { throw JSONShapeError("'\(key)' is not a record field", at: key) }
        return field
    }
}
