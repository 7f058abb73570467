/// How concurrent changes to one record combine (the sync's rules, written
/// once): the server resolves every push with them, and a device rebases its pending edits
/// on pulled records with the same tag merge, so that the two never disagree.
///
/// - Tags merge as sets: a change adds and removes tags; others' tags stay.
/// - A field the server still holds at the value a change replaced fast-forwards.
/// - Notes edited on both sides merge three-way when the edits do not overlap.
/// - Otherwise the later write wins (hybrid logical clock, then the larger device id) and
///   the losing value is kept as a conflict record.
/// - An edit beats a delete: a delete made on values others changed since does not apply,
///   and an edit of a deleted record brings it back; the delete is kept as a conflict record.
public enum MergeRules {
    /// Who wrote a value: the writer's clock and device. Writes order by clock, then by
    /// device id, so that every server picks the same winner.
    public struct Write: Sendable, Hashable, Comparable {
        public var hlc: Int64
        public var device: String

        public init(hlc: Int64, device: String) {
            self.hlc = hlc
            self.device = device
        }

        public static func < (lhs: Write, rhs: Write) -> Bool { (lhs.hlc, lhs.device) < (rhs.hlc, rhs.device) }
    }

    /// What becomes of one field of an update.
    public enum Resolution: Sendable, Hashable {
        /// The field already holds the change's value.
        case unchanged
        /// Nobody else changed the field since the change's author read it: it takes the new value.
        case fastForward
        /// Both sides' changes combined (tags, non-overlapping note edits).
        case merged(FieldValue)
        /// Both changed it: `change` tells whether the change's value won; the other is kept
        /// as a conflict record.
        case conflict(changeWins: Bool)
    }

    /// `current` with the tags a change from `old` to `new` added and removed.
    public static func tags(_ current: [String], old: [String], new: [String]) -> [String] {
        let old = Set(old)
        let new = Set(new)
        return Set(current).union(new.subtracting(old)).subtracting(old.subtracting(new)).sorted()
    }

    /// Resolves one field of an update made by `write` against the record's `current`
    /// value, last written by `currentWrite`.
    public static func resolve(
        _ field: RecordField, current: FieldValue, currentWrite: Write, change: ChangeEntry.FieldChange, write: Write
    ) -> Resolution {
        if current == change.new { return .unchanged }
        if current == change.old { return .fastForward }
        switch field {
        case .tags:
            return .merged(.list(tags(current.listValue ?? [], old: change.old.listValue ?? [], new: change.new.listValue ?? [])))
        case .note:
            if let base = change.old.textValue, let ours = current.textValue, let theirs = change.new.textValue,
               let merged = TextMerge.merge(base: base, ours: ours, theirs: theirs) {
                return .merged(.text(merged))
            }
        default:
            break
        }
        return .conflict(changeWins: currentWrite < write)
    }

    /// Whether a delete, made on a record holding `old`, is stale: another device changed
    /// one of those fields since, and that edit beats the delete.
    public static func deleteIsStale(current: [RecordField: FieldValue], old: [RecordField: ChangeEntry.FieldChange]) -> Bool {
        old.contains { field, change in (current[field] ?? .null) != change.old }
    }
}
