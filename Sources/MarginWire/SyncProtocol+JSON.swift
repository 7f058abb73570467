import MarginCore

/// A protocol message that reads itself from parsed JSON and writes itself as JSON. Every
/// request object is strict: a member it does not know is an error naming its path.
package protocol WireMessage: Sendable {
    init(json: JSONNode) throws(JSONShapeError)
    func write(to writer: inout JSONWriter)
}

extension WireMessage {
    /// The message in a JSON body.
    package init(jsonBytes: [UInt8]) throws(MarginError) {
        let node = try JSONNode.parse(jsonBytes)
        do {
            try self.init(json: node)
        } catch {
            throw error.marginError
        }
    }

    /// The message as a JSON body.
    package var jsonBytes: [UInt8] {
        var writer = JSONWriter(capacity: 1_024)
        write(to: &writer)
        return writer.bytes
    }
}

extension Array where Element: WireMessage {
    init(json: JSONNode) throws(JSONShapeError) {
        var elements: [Element] = []
        let items = try json.array()
        elements.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            elements.append(try within("[\(index)]") { () throws(JSONShapeError) in try Element(json: item) })
        }
        self = elements
    }

    init(json object: JSONObject, _ key: String) throws(JSONShapeError) {
        self = try within(key) { () throws(JSONShapeError) in try Self(json: object.required(key)) }
    }
}

extension JSONWriter {
    mutating func messages(_ messages: [some WireMessage]) {
        array(messages) { writer, message in message.write(to: &writer) }
    }
}

private func enumValue<Value: RawRepresentable<String>>(_ object: JSONObject, _ key: String, _: Value.Type) throws(JSONShapeError) -> Value {
    let text = try object.string(key)
    guard let value = Value(rawValue: text) else { throw JSONShapeError("'\(text)' is not one of the allowed values", at: key) }
    return value
}

/// An optional member read with `read`, its errors placed at `key`.
private func optionalValue<T>(
    _ object: JSONObject, _ key: String, _ read: (JSONNode) throws(JSONShapeError) -> T
) throws(JSONShapeError) -> T? {
    guard let node = try object.optional(key) else { return nil }
    return try within(key) { () throws(JSONShapeError) in try read(node) }
}

extension WireChange: WireMessage {
    private static let jsonKeys: Set<String> = ["seq", "entity", "id", "op", "baseVersion", "hlc", "fields"]

    package init(json: JSONNode) throws(JSONShapeError) {
        let object = try json.object(known: Self.jsonKeys)
        self.init(
            seq: try object.integer("seq"), entity: try enumValue(object, "entity", RecordEntity.self),
            id: try object.string("id"), op: try enumValue(object, "op", ChangeEntry.Operation.self),
            baseVersion: try object.integer("baseVersion"), hlc: try object.integer("hlc"),
            fields: try within("fields") { () throws(JSONShapeError) in try object.required("fields").fieldChanges() })
    }

    package func write(to writer: inout JSONWriter) {
        writer.raw("{\"seq\":")
        writer.integer(seq)
        writer.raw(",\"entity\":")
        writer.string(entity.rawValue)
        writer.raw(",\"id\":")
        writer.string(id)
        writer.raw(",\"op\":")
        writer.string(op.rawValue)
        writer.raw(",\"baseVersion\":")
        writer.integer(baseVersion)
        writer.raw(",\"hlc\":")
        writer.integer(hlc)
        writer.raw(",\"fields\":")
        writer.fieldChanges(fields)
        writer.raw("}")
    }
}

extension WireBody: WireMessage {
    private static let jsonKeys: Set<String> = ["hash", "text"]

    package init(json: JSONNode) throws(JSONShapeError) {
        let object = try json.object(known: Self.jsonKeys)
        self.init(hash: try object.string("hash"), text: try object.string("text"))
    }

    package func write(to writer: inout JSONWriter) {
        writer.raw("{\"hash\":")
        writer.string(hash)
        writer.raw(",\"text\":")
        writer.string(text)
        writer.raw("}")
    }
}

extension PushRequest: WireMessage {
    private static let jsonKeys: Set<String> = ["changes", "bodies", "after"]

    package init(json: JSONNode) throws(JSONShapeError) {
        let object = try json.object(known: Self.jsonKeys)
        self.init(
            changes: try [WireChange](json: object, "changes"),
            bodies: try optionalValue(object, "bodies") { node throws(JSONShapeError) in try [WireBody](json: node) } ?? [],
            after: try optionalValue(object, "after") { node throws(JSONShapeError) in try node.integer() })
    }

    package func write(to writer: inout JSONWriter) {
        writer.raw("{\"changes\":")
        writer.messages(changes)
        writer.raw(",\"bodies\":")
        writer.messages(bodies)
        if let after {
            writer.raw(",\"after\":")
            writer.integer(after)
        }
        writer.raw("}")
    }
}

extension ServerRecord: WireMessage {
    private static let jsonKeys: Set<String> = ["entity", "id", "version", "deleted", "fields", "updatedAt", "device"]

    package init(json: JSONNode) throws(JSONShapeError) {
        let object = try json.object(known: Self.jsonKeys)
        self.init(
            entity: try enumValue(object, "entity", RecordEntity.self), id: try object.string("id"),
            version: try object.integer("version"), deleted: try object.bool("deleted"),
            fields: try within("fields") { () throws(JSONShapeError) in try object.required("fields").fieldValues() },
            updatedAt: try object.integer("updatedAt"),
            device: try optionalValue(object, "device") { node throws(JSONShapeError) in try node.string() })
    }

    package func write(to writer: inout JSONWriter) {
        Self.write(entity: entity, id: id, version: version, deleted: deleted, updatedAt: updatedAt, device: device, to: &writer) {
            writer in writer.fields(fields)
        }
    }

    /// Writes a record whose fields are written by `fields` (a server splices the JSON it
    /// stored, without decoding it); `device` is left out when nil.
    package static func write(
        entity: RecordEntity, id: String, version: Int64, deleted: Bool, updatedAt: Int64, device: String? = nil,
        to writer: inout JSONWriter, fields: (inout JSONWriter) -> Void
    ) {
        writer.raw("{\"entity\":")
        writer.string(entity.rawValue)
        writer.raw(",\"id\":")
        writer.string(id)
        writer.raw(",\"version\":")
        writer.integer(version)
        writer.raw(",\"deleted\":")
        writer.bool(deleted)
        writer.raw(",\"fields\":")
        fields(&writer)
        writer.raw(",\"updatedAt\":")
        writer.integer(updatedAt)
        if let device {
            writer.raw(",\"device\":")
            writer.string(device)
        }
        writer.raw("}")
    }
}

extension ChangeResult: WireMessage {
    private static let jsonKeys: Set<String> = ["seq", "outcome", "version", "canonicalId", "reason"]

    package init(json: JSONNode) throws(JSONShapeError) {
        let object = try json.object(known: Self.jsonKeys)
        self.init(
            seq: try object.integer("seq"), outcome: try enumValue(object, "outcome", Outcome.self),
            version: try optionalValue(object, "version") { node throws(JSONShapeError) in try node.integer() },
            canonicalId: try optionalValue(object, "canonicalId") { node throws(JSONShapeError) in try node.string() },
            reason: try optionalValue(object, "reason") { node throws(JSONShapeError) in try node.string() })
    }

    package func write(to writer: inout JSONWriter) {
        writer.raw("{\"seq\":")
        writer.integer(seq)
        writer.raw(",\"outcome\":")
        writer.string(outcome.rawValue)
        if let version {
            writer.raw(",\"version\":")
            writer.integer(version)
        }
        if let canonicalId {
            writer.raw(",\"canonicalId\":")
            writer.string(canonicalId)
        }
        if let reason {
            writer.raw(",\"reason\":")
            writer.string(reason)
        }
        writer.raw("}")
    }
}

extension PushResponse: WireMessage {
    private static let jsonKeys: Set<String> = ["results", "records"]

    package init(json: JSONNode) throws(JSONShapeError) {
        let object = try json.object(known: Self.jsonKeys)
        self.init(
            results: try [ChangeResult](json: object, "results"), records: try [ServerRecord](json: object, "records"))
    }

    package func write(to writer: inout JSONWriter) {
        writer.raw("{\"results\":")
        writer.messages(results)
        writer.raw(",\"records\":")
        writer.messages(records)
        writer.raw("}")
    }
}

extension PullRequest: WireMessage {
    private static let jsonKeys: Set<String> = ["cursor", "bound", "limit", "snapshot", "history", "pushedSeq"]

    package init(json: JSONNode) throws(JSONShapeError) {
        let object = try json.object(known: Self.jsonKeys)
        self.init(
            cursor: try object.integer("cursor"),
            bound: try optionalValue(object, "bound") { node throws(JSONShapeError) in try node.integer() },
            limit: try optionalValue(object, "limit") { node throws(JSONShapeError) in Int(clamping: try node.integer()) },
            snapshot: try optionalValue(object, "snapshot") { node throws(JSONShapeError) in try node.bool() } ?? false,
            history: try optionalValue(object, "history") { node throws(JSONShapeError) in try node.string() },
            pushedSeq: try optionalValue(object, "pushedSeq") { node throws(JSONShapeError) in try node.integer() })
    }

    package func write(to writer: inout JSONWriter) {
        writer.raw("{\"cursor\":")
        writer.integer(cursor)
        if let bound {
            writer.raw(",\"bound\":")
            writer.integer(bound)
        }
        if snapshot { writer.raw(",\"snapshot\":true") }
        if let limit {
            writer.raw(",\"limit\":")
            writer.integer(Int64(limit))
        }
        if let history {
            writer.raw(",\"history\":")
            writer.string(history)
        }
        if let pushedSeq {
            writer.raw(",\"pushedSeq\":")
            writer.integer(pushedSeq)
        }
        writer.raw("}")
    }
}

extension PullReply: WireMessage where Record == ServerRecord {
    private static let jsonKeys: Set<String> = ["records", "cursor", "bound", "more", "reset", "history", "restore"]

    package init(json: JSONNode) throws(JSONShapeError) {
        let object = try json.object(known: Self.jsonKeys)
        self.init(
            records: try [ServerRecord](json: object, "records"),
            cursor: try object.integer("cursor"), bound: try object.integer("bound"), more: try object.bool("more"),
            reset: try object.bool("reset"),
            history: try optionalValue(object, "history") { node throws(JSONShapeError) in try node.string() },
            restore: try optionalValue(object, "restore") { node throws(JSONShapeError) in
                let restore = try node.object(known: ["since", "lastApplied"])
                return RestorePoint(since: try restore.integer("since"), lastApplied: try restore.integer("lastApplied"))
            })
    }

    package func write(to writer: inout JSONWriter) {
        write(to: &writer) { writer, record in record.write(to: &writer) }
    }
}

extension PullReply {
    /// Writes the page, each record by `record` (a server splices the fields it stored).
    package func write(to writer: inout JSONWriter, record: (inout JSONWriter, Record) -> Void) {
        writer.raw("{\"records\":")
        writer.array(records, record)
        writer.raw(",\"cursor\":")
        writer.integer(cursor)
        writer.raw(",\"bound\":")
        writer.integer(bound)
        writer.raw(",\"more\":")
        writer.bool(more)
        writer.raw(",\"reset\":")
        writer.bool(reset)
        if let history {
            writer.raw(",\"history\":")
            writer.string(history)
        }
        if let restore {
            writer.raw(",\"restore\":{\"since\":")
            writer.integer(restore.since)
            writer.raw(",\"lastApplied\":")
            writer.integer(restore.lastApplied)
            writer.raw("}")
        }
        writer.raw("}")
    }
}

extension BodiesRequest: WireMessage {
    private static let jsonKeys: Set<String> = ["hashes"]

    package init(json: JSONNode) throws(JSONShapeError) {
        let object = try json.object(known: Self.jsonKeys)
        var hashes: [String] = []
        for (index, node) in try object.array("hashes").enumerated() {
            hashes.append(try within("hashes") { () throws(JSONShapeError) in
                try within("[\(index)]") { () throws(JSONShapeError) in try node.string() }
            })
        }
        self.init(hashes: hashes)
    }

    package func write(to writer: inout JSONWriter) {
        writer.raw("{\"hashes\":")
        writer.array(hashes) { $0.string($1) }
        writer.raw("}")
    }
}

extension BodiesResponse: WireMessage {
    private static let jsonKeys: Set<String> = ["bodies"]

    package init(json: JSONNode) throws(JSONShapeError) {
        let object = try json.object(known: Self.jsonKeys)
        self.init(bodies: try [WireBody](json: object, "bodies"))
    }

    package func write(to writer: inout JSONWriter) {
        writer.raw("{\"bodies\":")
        writer.messages(bodies)
        writer.raw("}")
    }
}

extension ErrorResponse: WireMessage {
    private static let jsonKeys: Set<String> = ["error"]

    package init(json: JSONNode) throws(JSONShapeError) {
        let error = try json.object(known: Self.jsonKeys).required("error")
        let detail = try within("error") { () throws(JSONShapeError) in try error.object(known: ["code", "message"]) }
        self.init(code: try detail.string("code"), message: try detail.string("message"))
    }

    package func write(to writer: inout JSONWriter) {
        writer.raw("{\"error\":{\"code\":")
        writer.string(error.code)
        writer.raw(",\"message\":")
        writer.string(error.message)
        writer.raw("}}")
    }
}
