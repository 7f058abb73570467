import GRDB
import MarginCore
import MarginWire

/// Appends change-log entries within one write transaction: numbers them from this
/// device's sequence and stamps them with its hybrid logical clock.
///
/// Made by `LibraryStore.mutate`, which saves the advanced sequence and clock in the
/// same transaction; it never outlives that transaction.
struct ChangeRecorder {
    let deviceId: String
    private(set) var nextSeq: Int64
    private var clock: HybridLogicalClock
    private let now: Timestamp

    init(_ db: Database, now: Timestamp) throws {
        let state = try SyncState.current(db)
        deviceId = state.deviceId
        nextSeq = state.nextSeq
        clock = HybridLogicalClock(last: state.lastHLC)
        self.now = now
    }

    /// Appends one entry; a change with no changed fields is not recorded. A change that
    /// breaks the rulebook (`RecordRules`) is refused with its reason, and the caller's
    /// transaction with it, so that nothing the server would refuse is ever logged.
    ///
    /// A record sent again as it is here (`resending`: the server lost or purged it) is
    /// logged even if it breaks a rule added since it was made: the server then refuses it
    /// alone and the device parks it, rather than failing the sync that found it missing.
    /// Its clock reading may be given (`writtenAt`: when the value was written here), so
    /// that it wins or loses against others' writes by its own time.
    mutating func record(
        _ db: Database, _ entity: ChangeEntry.Entity, id: String, _ op: ChangeEntry.Operation,
        old: [RecordField: FieldValue]?, new: [RecordField: FieldValue]?, baseVersion: Int64, resending: Bool = false,
        writtenAt: HybridTimestamp? = nil
    ) throws {
        let fields = ChangeEntry.fieldChanges(from: old, to: new)
        guard !fields.isEmpty else { return }
        if !resending {
            do throws(MarginError) {
                guard Identifier.isValid(id) else { throw MarginError(.invalidInput, "'\(id)' is not a record id") }
                try RecordRules.check(entity, op, fields: fields)
            } catch {
                throw MarginError(.invalidInput, "\(error.message); nothing was changed")
            }
        }
        let statement = try db.cachedStatement(
            sql: "INSERT INTO changes (seq, entity, entity_id, op, fields, base_version, hlc) VALUES (?, ?, ?, ?, ?, ?, ?)")
        try statement.execute(arguments: [
            nextSeq, entity.rawValue, id, op.rawValue, JSONText.fieldChanges(fields), baseVersion,
            (writtenAt ?? clock.tick(now: now)).rawValue,
        ])
        nextSeq += 1
    }

    /// Stores the advanced sequence and clock.
    func save(_ db: Database) throws {
        try db.execute(
            sql: "UPDATE sync_state SET next_seq = ?, last_hlc = ? WHERE id = 1", arguments: [nextSeq, clock.last.rawValue])
    }
}
