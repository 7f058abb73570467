import MarginCore

extension RecordRules {
    /// Checks what the protocol itself requires of a pushed change (what
    /// `Schema/openapi.json` states): a request that breaks it is refused whole.
    public static func checkShape(_ change: WireChange) throws(MarginError) {
        guard change.seq >= 1, change.baseVersion >= 0, change.hlc >= 0 else {
            throw MarginError(.invalidInput, "seq must be at least 1; baseVersion and hlc cannot be negative")
        }
        guard Identifier.isValid(change.id) else { throw MarginError(.invalidInput, "'\(change.id)' is not a record id") }
    }
}
