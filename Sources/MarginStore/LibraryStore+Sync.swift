import Foundation
import GRDB
import MarginCore
import MarginWire

/// What pushing and pulling share: checks of what the server sends.
extension LibraryStore {
    /// Refuses bodies that do not match their hash, before anything is written.
    static func check(_ bodies: [WireBody]) throws(MarginError) {
        for body in bodies where ContentHash.of(body.text) != body.hash {
            throw MarginError(.invalidInput, "the server sent a body that does not match its hash; nothing was applied")
        }
    }

    /// Refuses records a server should never send, before anything is written. Limits
    /// are not checked: a record stored under an earlier release's rules stays readable.
    static func validate(_ records: [ServerRecord]) throws(MarginError) {
        for record in records {
            guard Identifier.isValid(record.id), record.version > 0 else {
                throw MarginError(.invalidInput, "the server sent a record with an invalid id or version; nothing was applied")
            }
            if record.deleted { continue }
            do throws(MarginError) {
                try RecordRules.check(record: record.fields, of: record.entity, limits: false)
            } catch {
                throw MarginError(.invalidInput, "the server sent an invalid \(record.entity.rawValue) record (\(error.message)); nothing was applied")
            }
        }
    }
}
