import ArgumentParser
import MarginCore
import MarginStore

struct UndoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "undo", abstract: "Take back the last change made on this device (or change #SEQ) as a new change, which syncs.",
        discussion: """
            Without --change, the last change not undone yet: repeated, it walks back through \
            the log. An edit gets its earlier values back, a new annotation is deleted, a deleted \
            annotation is made again (under a new id), an imported article without annotations \
            is deleted. A record changed since in the same fields is refused, saying which: undo \
            the later change first. --change of an undo makes the change again.
            """)

    @OptionGroup var library: LibraryOptions
    @Option(name: .customLong("change"), help: "The change to take back: #SEQ as margin log and margin history show it.")
    var seq: String?
    @Flag(help: "Print what was undone as JSON.") var json = false

    func validate() throws {
        if let seq, Self.number(seq) == nil { throw ValidationError("--change takes a change number, such as 12 or #12") }
    }

    static func number(_ text: String) -> Int64? {
        Int64(text.hasPrefix("#") ? String(text.dropFirst()) : text).flatMap { $0 > 0 ? $0 : nil }
    }

    func run() throws {
        let store = try library.open()
        let result = try store.undo(seq: seq.flatMap(Self.number))
        if json { return try Terminal.printJSON(UndoOutput(result)) }
        let undone = result.undone
        let logged = result.changes.count == 1 ? "#\(result.changes.lowerBound)" : "#\(result.changes.lowerBound)–#\(result.changes.upperBound)"
        let copy = result.recordId == undone.entityId ? "" : "; it is \(undone.entity.rawValue) \(result.recordId) now"
        print("undid #\(undone.seq) (\(HistoryCommand.verb(undone.op)) \(undone.entity.rawValue) \(undone.entityId))\(copy); "
            + "logged as \(logged), it syncs at the next margin sync")
    }
}

/// `margin undo --json`.
private struct UndoOutput: Encodable {
    var undone: ChangeEntry
    var recordId: String
    var changes: [Int64]

    init(_ result: UndoResult) {
        undone = result.undone
        recordId = result.recordId
        changes = Array(result.changes)
    }
}
