import ArgumentParser
import MarginCore
import MarginStore

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "Show every change of an article or annotation: made here, or pulled from another device.",
        discussion: """
            In the order this library learned of them: when each was made, on which device \
            ('this device', else the last 12 characters of the device's id, as margin status \
            shows it on that machine), what happened, and the fields from and to. A change made \
            here shows its number (#SEQ, for margin undo --change); 'pulled' came with a pull, \
            'merged' with the server's answer to a push (other devices' values merged with this \
            one's). A record deleted since is named by its full id (margin log shows it).
            """)

    @OptionGroup var library: LibraryOptions
    @Argument(help: "The record's handle or id (or a unique prefix of either); a deleted record's full id.") var id: String
    @Flag(help: "Print the entries as JSON.") var json = false

    func run() throws {
        let store = try library.open()
        let id = try reportingUsageErrors { () throws(MarginError) -> String in
            do throws(MarginError) {
                return try store.resolve(self.id, kinds: [.article, .annotation]).id
            } catch where error.code == .notFound && Identifier.isValid(self.id.lowercased()) {
                return self.id.lowercased()
            }
        }
        let entries = try store.history(of: id)
        if json { return try Terminal.printJSON(entries) }
        guard !entries.isEmpty else {
            return print("\(id): no change since it arrived with this library's first sync")
        }
        let device = try store.statistics().deviceId
        print("\(entries[0].entity.rawValue) \(id)")
        for entry in entries {
            let who = entry.device == device ? "this device" : entry.device.map { "…" + $0.suffix(12) }
                ?? (entry.origin == .merged ? "the server" : "another device")
            let number = entry.seq.map { "#\($0)" + (entry.pushed == false ? " (pending)" : "") } ?? entry.origin.rawValue
            let undo = entry.undoOf.map { ", undoing #\($0)" } ?? ""
            print("\(entry.at)  \(Terminal.pad(who, 14))  \(Terminal.pad(number, 14))  \(Self.verb(entry.op))\(undo)")
            for line in Self.fieldLines(entry) { print("    " + line) }
        }
    }

    static func verb(_ op: ChangeEntry.Operation) -> String {
        switch op {
        case .create: "created"
        case .update: "changed"
        case .delete: "deleted"
        }
    }

    /// What a user reads of a change: an edit's fields from and to; of a create or a
    /// delete, the fields a person wrote.
    static func fieldLines(_ entry: HistoryEntry) -> [String] {
        let shown: [RecordField] = [.title, .exact, .note, .tags, .color, .contentHash, .articleId]
        switch entry.op {
        case .update:
            return entry.fields.sorted { $0.key.rawValue < $1.key.rawValue }.map { field, change in
                "\(field.rawValue): \(change.old.description.excerpt(60)) → \(change.new.description.excerpt(60))"
            }
        case .create, .delete:
            return shown.compactMap { field in
                guard let change = entry.fields[field] else { return nil }
                let value = entry.op == .create ? change.new : change.old
                return value == .null || value == .text("") || value == .list([]) ? nil : "\(field.rawValue): \(value.description.excerpt(60))"
            }
        }
    }
}
