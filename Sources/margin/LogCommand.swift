import ArgumentParser
import MarginCore

struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log", abstract: "Show the change log: every create, edit and delete on this device.")

    @OptionGroup var library: LibraryOptions
    @Flag(help: "Only changes not yet pushed to a server.") var pending = false
    @Flag(help: "Print the entries as JSON.") var json = false

    func run() throws {
        let entries = try library.open().changes(pendingOnly: pending)
        if json {
            try Terminal.printJSON(entries)
            return
        }
        for entry in entries {
            let fields = entry.fields.keys.sorted().joined(separator: ", ")
            let state = entry.pushed ? "" : Terminal.dim("  (pending)")
            print("#\(entry.seq)  \(entry.hlc.physical)  \(Terminal.pad(entry.op.rawValue, 7))"
                + "\(Terminal.pad(entry.entity.rawValue, 11))\(entry.entityId)  \(Terminal.dim(fields))\(state)")
        }
    }
}
