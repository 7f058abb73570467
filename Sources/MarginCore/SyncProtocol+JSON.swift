/// A protocol message that reads itself from parsed JSON and writes itself as JSON. Every
/// request object is strict: a member it does not know is an error naming its path.
public protocol WireMessage: Sendable {
    init(json: JSONNode, path: String) throws(MarginError)
    func write(to writer: inout JSONWriter)
}

extension WireMessage {
    /// The message in a JSON body.
    public init(jsonBytes: [UInt8]) throws(MarginError) {
        try self.init(json: JSONNode.parse(jsonBytes), path: "")
    }

    /// The message as a JSON body.
    public var jsonBytes: [UInt8] {
        var writer = JSONWriter(capacity: 1_024)
        write(to: &writer)
        return writer.bytes
    }
}

extension Array where Element: WireMessage {
    init(json: JSONNode, path: String) throws(MarginError) {
        var elements: [Element] = []
        let items = try json.array(path)
        elements.reserveCapacity(items.count)
        for (index, item) in items.enumerated() { elements.append(try Element(json: item, path: "\(path)[\(index)]")) }
        self = elements
    }
}

extension JSONWriter {
    mutating func messages(_ messages: [some WireMessage]) {
        array(messages) { writer, message in message.write(to: &writer) }
    }
}

private func enumValue<Value: RawRepresentable<String>>(_ object: JSONObject, _ key: String, _: Value.Type) throws(MarginError) -> Value {
    let text = try object.string(key)
    guard let value = Value(rawValue: text) else {
        throw MarginError(.invalidInput, "\(object.childPath(key)): '\(text)' is not one of the allowed values")
    }
    return value
}

extension WireChange: WireMessage {
    public init(json: JSONNode, path: String) throws(MarginError) {
        let object = try json.object(path, known: ["seq", "entity", "id", "op", "baseVersion", "hlc", "fields"])
        self.init(
            seq: try object.integer("seq"), entity: try enumValue(object, "entity", RecordEntity.self),
            id: try object.string("id"), op: try enumValue(object, "op", ChangeEntry.Operation.self),
            baseVersion: try object.integer("baseVersion"), hlc: try object.integer("hlc"),
            fields: try object.required("fields").fieldChanges(object.childPath("fields")))
    }

    public func write(to writer: inout JSONWriter) {
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
    public init(json: JSONNode, path: String) throws(MarginError) {
        let object = try json.object(path, known: ["hash", "text"])
        self.init(hash: try object.string("hash"), text: try object.string("text"))
    }

    public func write(to writer: inout JSONWriter) {
        writer.raw("{\"hash\":")
        writer.string(hash)
        writer.raw(",\"text\":")
        writer.string(text)
        writer.raw("}")
    }
}

extension PushRequest: WireMessage {
    public init(json: JSONNode, path: String) throws(MarginError) {
        let object = try json.object(path, known: ["changes", "bodies"])
        self.init(
            changes: try [WireChange](json: object.required("changes"), path: object.childPath("changes")),
            bodies: try object.optional("bodies").map { node throws(MarginError) in
                try [WireBody](json: node, path: object.childPath("bodies"))
            } ?? [])
    }

    public func write(to writer: inout JSONWriter) {
        writer.raw("{\"changes\":")
        writer.messages(changes)
        writer.raw(",\"bodies\":")
        writer.messages(bodies)
        writer.raw("}")
    }
}

extension ServerRecord: WireMessage {
    public init(json: JSONNode, path: String) throws(MarginError) {
        let object = try json.object(path, known: ["entity", "id", "version", "deleted", "fields", "updatedAt"])
        self.init(
            entity: try enumValue(object, "entity", RecordEntity.self), id: try object.string("id"),
            version: try object.integer("version"), deleted: try object.bool("deleted"),
            fields: try object.required("fields").fieldValues(object.childPath("fields")),
            updatedAt: try object.integer("updatedAt"))
    }

    public func write(to writer: inout JSONWriter) {
        Self.write(entity: entity, id: id, version: version, deleted: deleted, updatedAt: updatedAt, to: &writer) { writer in
            writer.fields(fields)
        }
    }

    /// Writes a record whose fields are written by `fields` (a server splices the JSON it
    /// stored, without decoding it).
    public static func write(
        entity: RecordEntity, id: String, version: Int64, deleted: Bool, updatedAt: Int64, to writer: inout JSONWriter,
        fields: (inout JSONWriter) -> Void
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
        writer.raw("}")
    }
}

extension ChangeResult: WireMessage {
    public init(json: JSONNode, path: String) throws(MarginError) {
        let object = try json.object(path, known: ["seq", "outcome", "version", "canonicalId", "reason"])
        self.init(
            seq: try object.integer("seq"), outcome: try enumValue(object, "outcome", Outcome.self),
            version: try object.optional("version").map { node throws(MarginError) in try node.integer(object.childPath("version")) },
            canonicalId: try object.optional("canonicalId").map { node throws(MarginError) in
                try node.string(object.childPath("canonicalId"))
            },
            reason: try object.optional("reason").map { node throws(MarginError) in try node.string(object.childPath("reason")) })
    }

    public func write(to writer: inout JSONWriter) {
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
    public init(json: JSONNode, path: String) throws(MarginError) {
        let object = try json.object(path, known: ["results", "records"])
        self.init(
            results: try [ChangeResult](json: object.required("results"), path: object.childPath("results")),
            records: try [ServerRecord](json: object.required("records"), path: object.childPath("records")))
    }

    public func write(to writer: inout JSONWriter) {
        writer.raw("{\"results\":")
        writer.messages(results)
        writer.raw(",\"records\":")
        writer.messages(records)
        writer.raw("}")
    }
}

extension PullRequest: WireMessage {
    public init(json: JSONNode, path: String) throws(MarginError) {
        let object = try json.object(path, known: ["cursor", "bound", "limit"])
        self.init(
            cursor: try object.integer("cursor"),
            bound: try object.optional("bound").map { node throws(MarginError) in try node.integer(object.childPath("bound")) },
            limit: try object.optional("limit").map { node throws(MarginError) in
                Int(clamping: try node.integer(object.childPath("limit")))
            })
    }

    public func write(to writer: inout JSONWriter) {
        writer.raw("{\"cursor\":")
        writer.integer(cursor)
        if let bound {
            writer.raw(",\"bound\":")
            writer.integer(bound)
        }
        if let limit {
            writer.raw(",\"limit\":")
            writer.integer(Int64(limit))
        }
        writer.raw("}")
    }
}

extension PullResponse: WireMessage {
    public init(json: JSONNode, path: String) throws(MarginError) {
        let object = try json.object(path, known: ["records", "cursor", "bound", "more", "reset"])
        self.init(
            records: try [ServerRecord](json: object.required("records"), path: object.childPath("records")),
            cursor: try object.integer("cursor"), bound: try object.integer("bound"), more: try object.bool("more"),
            reset: try object.bool("reset"))
    }

    public func write(to writer: inout JSONWriter) {
        Self.write(cursor: cursor, bound: bound, more: more, reset: reset, to: &writer) { writer in writer.messages(records) }
    }

    /// Writes a page whose records are written by `records`.
    public static func write(
        cursor: Int64, bound: Int64, more: Bool, reset: Bool, to writer: inout JSONWriter, records: (inout JSONWriter) -> Void
    ) {
        writer.raw("{\"records\":")
        records(&writer)
        writer.raw(",\"cursor\":")
        writer.integer(cursor)
        writer.raw(",\"bound\":")
        writer.integer(bound)
        writer.raw(",\"more\":")
        writer.bool(more)
        writer.raw(",\"reset\":")
        writer.bool(reset)
        writer.raw("}")
    }
}

extension BodiesRequest: WireMessage {
    public init(json: JSONNode, path: String) throws(MarginError) {
        let object = try json.object(path, known: ["hashes"])
        var hashes: [String] = []
        for (index, node) in try object.array("hashes").enumerated() { hashes.append(try node.string("hashes[\(index)]")) }
        self.init(hashes: hashes)
    }

    public func write(to writer: inout JSONWriter) {
        writer.raw("{\"hashes\":")
        writer.array(hashes) { $0.string($1) }
        writer.raw("}")
    }
}

extension BodiesResponse: WireMessage {
    public init(json: JSONNode, path: String) throws(MarginError) {
        let object = try json.object(path, known: ["bodies"])
        self.init(bodies: try [WireBody](json: object.required("bodies"), path: object.childPath("bodies")))
    }

    public func write(to writer: inout JSONWriter) {
        writer.raw("{\"bodies\":")
        writer.messages(bodies)
        writer.raw("}")
    }
}

extension ErrorResponse: WireMessage {
    public init(json: JSONNode, path: String) throws(MarginError) {
        let detail = try json.object(path, known: ["error"]).required("error").object("error", known: ["code", "message"])
        self.init(code: try detail.string("code"), message: try detail.string("message"))
    }

    public func write(to writer: inout JSONWriter) {
        writer.raw("{\"error\":{\"code\":")
        writer.string(error.code)
        writer.raw(",\"message\":")
        writer.string(error.message)
        writer.raw("}}")
    }
}
