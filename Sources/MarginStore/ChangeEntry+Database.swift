import GRDB
import MarginCore
import MarginWire

/// How change-log entries are read from the client store: every reader of `changes`
/// decodes its rows here.
extension ChangeEntry {
    /// The columns `init(row:deviceId:pushedSeq:)` reads.
    static let columns = "seq, entity, entity_id, op, fields, base_version, hlc"

    /// The entry in a row of `columns`; `pushedSeq` tells whether the server acknowledged it.
    init(row: Row, deviceId: String, pushedSeq: Int64) throws {
        let fields: String = row["fields"]
        let seq: Int64 = row["seq"]
        guard let entity = Entity(rawValue: row["entity"]), let op = Operation(rawValue: row["op"]) else {
            throw MarginError(.corruptStore, "the change log has an entry of an unknown kind")
        }
        self.init(
            seq: seq, deviceId: deviceId, entity: entity, entityId: row["entity_id"], op: op,
            fields: try JSONNode.parse(fields).fieldChanges(), baseVersion: row["base_version"],
            hlc: HybridTimestamp(rawValue: row["hlc"]), pushed: seq <= pushedSeq)
    }

    /// The entry as the protocol pushes it.
    var wire: WireChange {
        WireChange(seq: seq, entity: entity, id: entityId, op: op, baseVersion: baseVersion, hlc: hlc.rawValue, fields: fields)
    }
}
