import ArgumentParser
import MarginServer

struct CompactCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract: "Purges the deleted records kept longer than --tombstone-retention, now.",
        discussion: """
            Running servers do the same on their own, at start and then every tenth of the \
            retention window; this does it at once, beside them (for example before a backup). \
            A device whose last sync is older than what this purges pulls its library again at \
            its next sync.
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var retention: RetentionOptions

    func run() async throws {
        let cutoff = MarginServerCommand.now - retention.tombstoneRetention * 1_000
        let purged = try await database.withRepository { repository in try await repository.compact(deletedBefore: cutoff) }
        print("purged \(purged) deleted records")
    }
}
