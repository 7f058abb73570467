import ArgumentParser

/// How long deleted records are kept (`--tombstone-retention`), for the servers that purge
/// them as they run and for `compact`, which purges them at once.
struct RetentionOptions: ParsableArguments {
    @Option(help: "Seconds a deleted record is kept before it is purged.")
    var tombstoneRetention: Int64 = 90 * 86_400

    func validate() throws {
        guard tombstoneRetention >= 0 else { throw ValidationError("--tombstone-retention cannot be negative") }
    }
}
