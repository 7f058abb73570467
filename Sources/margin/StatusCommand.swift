import ArgumentParser
import MarginStore

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the library's size, its pending changes and its sync state.")

    @OptionGroup var library: LibraryOptions
    @Flag(help: "Print the status as JSON.") var json = false

    func run() throws {
        let store = try library.open()
        let statistics = try store.statistics()
        if json {
            try Terminal.printJSON(Merged(base: statistics, extra: ["store": store.path]))
            return
        }
        print("library:  \(store.path)")
        print("device:   \(statistics.deviceId)")
        print("articles: \(statistics.articles), annotations: \(statistics.annotations) (\(statistics.orphans) orphaned)")
        print("pending:  \(statistics.pendingChanges) change(s) not yet synced")
        print("remote:   none set")
    }
}
