import ArgumentParser
import MarginCore
import MarginStore

struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log", abstract: "Show the change log: every create, edit and delete on this device.")

    @OptionGroup var library: LibraryOptions
    @Flag(help: "Only changes not yet pushed to a server.") var pending = false
    @Flag(help: "Only changes the server refused, parked, with the reason (fix them by editing the record again, or see margin discard).")
    var rejected = false
    @Flag(help: "Print the entries as JSON.") var json = false

    func validate() throws {
        guard !(pending && rejected) else { throw ValidationError("--pending and --rejected list different changes; give one") }
    }

    func run() throws {
        let store = try library.open()
        guard !rejected else { return try printRejected(store.rejectedChanges()) }
        let entries = try store.changes(pendingOnly: pending)
        if json { return try Terminal.printJSON(entries) }
        let parked = Set(try store.rejectedChanges().map(\.change.seq))
        for entry in entries {
            let state = parked.contains(entry.seq) ? "  (rejected)" : entry.pushed ? "" : "  (pending)"
            print(Self.line(entry) + Terminal.dim(state))
        }
    }

    private func printRejected(_ changes: [RejectedChange]) throws {
        if json { return try Terminal.printJSON(changes.map { Merged(base: $0.change, extra: RejectedDetail($0)) }) }
        if changes.isEmpty { return print("no refused changes") }
        for rejected in changes {
            print(Self.line(rejected.change))
            print("    refused \(rejected.rejectedAt): \(rejected.reason)")
        }
    }

    private static func line(_ entry: ChangeEntry) -> String {
        let fields = entry.fields.keys.sorted().map(\.rawValue).joined(separator: ", ")
        return "#\(entry.seq)  \(entry.hlc.physical)  \(Terminal.pad(entry.op.rawValue, 7))"
            + "\(Terminal.pad(entry.entity.rawValue, 11))\(entry.entityId)  \(Terminal.dim(fields))"
    }
}

/// What `log --rejected --json` adds to a log entry.
private struct RejectedDetail: Encodable {
    var reason: String
    var rejectedAt: Timestamp

    init(_ rejected: RejectedChange) {
        reason = rejected.reason
        rejectedAt = rejected.rejectedAt
    }
}
