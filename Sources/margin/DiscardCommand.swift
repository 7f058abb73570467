import ArgumentParser
import MarginCore
import MarginStore

struct DiscardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "discard",
        abstract: "Give up a change the server refused (see margin log --rejected).",
        discussion: """
            A refused edit or delete is forgotten: the record already shows what the server holds. \
            A refused create deletes the record from this device, which the server never had.
            """)

    @OptionGroup var library: LibraryOptions
    @Argument(help: "The refused change's number (#N in margin log --rejected).") var seq: Int64

    func run() throws {
        let rejected = try reportingUsageErrors { () throws(MarginError) in try library.open().discardRejected(seq: seq) }
        let change = rejected.change
        print(change.op == .create
            ? "discarded #\(seq): deleted \(change.entity.rawValue) \(change.entityId), which the server never had"
            : "discarded #\(seq), the refused \(change.op.rawValue) of \(change.entity.rawValue) \(change.entityId)")
    }
}
