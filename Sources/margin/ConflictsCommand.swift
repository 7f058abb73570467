import ArgumentParser
import MarginCore
import MarginStore

struct ConflictsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflicts", abstract: "List, show, restore or dismiss the values that lost a sync conflict.",
        subcommands: [List.self, Show.self, Restore.self, Dismiss.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List conflicts, newest first.")
        @OptionGroup var library: LibraryOptions
        @Flag(help: "Print the conflicts as JSON.") var json = false

        func run() throws {
            let store = try library.open()
            let conflicts = try store.conflicts()
            if json { return try Terminal.printJSON(conflicts) }
            if conflicts.isEmpty { return print("no conflicts") }
            let ids = conflicts.map(\.id)
            let records = try store.shortIds(conflicts.map(\.recordId))
            for conflict in conflicts { print(ConflictsCommand.summary(conflict, among: ids, records: records)) }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show", abstract: "Show a conflict: the losing value next to the current one.")
        @OptionGroup var target: ConflictArgument
        @Flag(help: "Print the conflict as JSON.") var json = false

        func run() throws {
            let (store, conflict) = try target.resolve()
            if json { return try Terminal.printJSON(conflict) }
            print(ConflictsCommand.summary(conflict, among: [conflict.id], records: try store.shortIds([conflict.recordId])))
            if conflict.kind == .value {
                print("lost:    \(conflict.value)")
                print("current: \(conflict.currentValue.map(\.description) ?? "(the record is gone)")")
            }
            print("restore it with: margin conflicts restore \(conflict.id)")
        }
    }

    struct Restore: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "restore", abstract: "Put the losing value back (or re-apply the losing delete) and dismiss the conflict.")
        @OptionGroup var target: ConflictArgument

        func run() throws {
            let (store, conflict) = try target.resolve()
            _ = try store.restoreConflict(id: conflict.id)
            print(conflict.kind == .delete
                ? "deleted \(conflict.recordEntity.rawValue) \(conflict.recordId) again; it syncs at the next margin sync"
                : "restored the \(conflict.field?.rawValue ?? "value") of \(conflict.recordEntity.rawValue) \(conflict.recordId); it syncs at the next margin sync")
        }
    }

    struct Dismiss: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dismiss", abstract: "Forget a conflict, keeping the record as it is.")
        @OptionGroup var target: ConflictArgument

        func run() throws {
            let (store, conflict) = try target.resolve()
            try store.dismissConflict(id: conflict.id)
            print("dismissed conflict \(conflict.id)")
        }
    }

    /// One line: the shortest prefix of the conflict's handle that no other of `ids` shares
    /// (at least `Handle.minimumLength`), its time, and what lost, naming the record by what
    /// listings show of it (`records`).
    static func summary(_ conflict: ConflictRecord, among ids: [String], records: [String: String]) -> String {
        let handle = Handle.of(conflict.id)
        let shared = ids.filter { $0 != conflict.id }.map { zip(Handle.of($0), handle).prefix { $0 == $1 }.count }.max() ?? 0
        let what = conflict.kind == .delete
            ? "delete of \(conflict.recordEntity.rawValue) \(records[conflict.recordId] ?? conflict.recordId) lost to an edit"
            : "\(conflict.field?.rawValue ?? "value") of \(conflict.recordEntity.rawValue) \(records[conflict.recordId] ?? conflict.recordId): \(conflict.value.description.excerpt(50)) lost"
        return "\(handle.prefix(max(Handle.minimumLength, shared + 1)))  \(conflict.createdAt)  \(what)"
    }
}

/// The library and the conflict that `conflicts show`, `restore` and `dismiss` act on.
struct ConflictArgument: ParsableArguments {
    @OptionGroup var library: LibraryOptions
    @Argument(help: "The conflict's handle (as margin conflicts shows it) or id, or a unique prefix of either.") var id: String

    /// The open library and the conflict `id` names in it.
    func resolve() throws -> (LibraryStore, ConflictRecord) {
        let store = try library.open()
        return (store, try reportingUsageErrors { () throws(MarginError) in try store.conflict(id) })
    }
}
