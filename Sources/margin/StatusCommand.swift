import ArgumentParser
import MarginCore
import MarginStore

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the library's size, its pending changes and its sync state.")

    @OptionGroup var library: LibraryOptions
    @Flag(help: "Print the status as JSON.") var json = false

    func run() throws {
        let store = try library.open()
        let statistics = try store.statistics()
        let sync = try store.syncStatus()
        if json {
            return try Terminal.printJSON(Merged(base: statistics, extra: StatusSync(store: store.path, sync)))
        }
        print("library:  \(store.path)")
        print("device:   \(statistics.deviceId)")
        print("articles: \(statistics.articles), annotations: \(statistics.annotations) (\(statistics.orphans) orphaned)")
        print("pending:  \(statistics.pendingChanges) change(s) not yet synced")
        print("conflicts: \(sync.conflicts)")
        if sync.rejected > 0 {
            print("rejected: \(sync.rejected) change(s) refused by the server, parked; see margin log --rejected")
        }
        guard let remote = sync.remote else { return print("remote:   none set; use margin remote set URL") }
        print("remote:   \(remote.url)")
        print("synced:   \(sync.lastSyncAt.map(\.description) ?? "never")")
        if let error = sync.lastError, let at = sync.lastErrorAt, sync.lastSyncAt.map({ $0 < at }) ?? true {
            print("last error (\(at)): \(error)")
        }
    }
}

/// The sync part of `margin status --json`.
struct StatusSync: Encodable {
    var store: String
    var remote: String?
    var cursor: Int64
    var conflicts: Int
    var rejected: Int
    var lastSyncAt: Timestamp?
    var lastError: String?
    var lastErrorAt: Timestamp?

    private enum CodingKeys: String, CodingKey {
        case store, remote, cursor, conflicts, rejected, lastSyncAt, lastError, lastErrorAt
    }

    /// Absent values are written as `null`, so that every key is always there.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(store, forKey: .store)
        try container.encode(remote, forKey: .remote)
        try container.encode(cursor, forKey: .cursor)
        try container.encode(conflicts, forKey: .conflicts)
        try container.encode(rejected, forKey: .rejected)
        try container.encode(lastSyncAt, forKey: .lastSyncAt)
        try container.encode(lastError, forKey: .lastError)
        try container.encode(lastErrorAt, forKey: .lastErrorAt)
    }

    init(store: String, _ sync: SyncStatus) {
        self.store = store
        remote = sync.remote?.url
        cursor = sync.cursor
        conflicts = sync.conflicts
        rejected = sync.rejected
        lastSyncAt = sync.lastSyncAt
        lastError = sync.lastError
        lastErrorAt = sync.lastErrorAt
    }
}
