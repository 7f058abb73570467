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
            let conflicts = try library.open().conflicts()
            if json { return try Terminal.printJSON(conflicts) }
            if conflicts.isEmpty { return print("no conflicts") }
            let ids = conflicts.map(\.id)
            for conflict in conflicts { print(ConflictsCommand.summary(conflict, among: ids)) }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show", abstract: "Show a conflict: the losing value next to the current one.")
        @OptionGroup var target: ConflictArgument
        @Flag(help: "Print the conflict as JSON.") var json = false

        func run() throws {
            let (_, conflict) = try target.resolve()
            if json { return try Terminal.printJSON(conflict) }
            print(ConflictsCommand.summary(conflict, among: [conflict.id]))
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

    /// One line: the conflict's shortest unique id prefix (at least 8) among `ids`, its
    /// time, and what lost.
    static func summary(_ conflict: ConflictRecord, among ids: [String]) -> String {
        let shared = ids.filter { $0 != conflict.id }.map { zip($0, conflict.id).prefix { $0 == $1 }.count }.max() ?? 0
        let what = conflict.kind == .delete
            ? "delete of \(conflict.recordEntity.rawValue) \(conflict.recordId.prefix(8)) lost to an edit"
            : "\(conflict.field?.rawValue ?? "value") of \(conflict.recordEntity.rawValue) \(conflict.recordId.prefix(8)): \(conflict.value.description.excerpt(50)) lost"
        return "\(conflict.id.prefix(max(8, shared + 1)))  \(conflict.createdAt)  \(what)"
    }
}

/// The library and the conflict that `conflicts show`, `restore` and `dismiss` act on.
struct ConflictArgument: ParsableArguments {
    @OptionGroup var library: LibraryOptions
    @Argument(help: "The conflict's id or a unique prefix of it.") var id: String

    /// The open library and the conflict `id` names in it.
    func resolve() throws -> (LibraryStore, ConflictRecord) {
        let store = try library.open()
        return (store, try reportingUsageErrors { () throws(MarginError) in try store.conflict(id) })
    }
}
