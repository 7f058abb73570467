import ArgumentParser
import Foundation
import MarginCore
import MarginStore
import MarginSync
import MarginWire

struct SyncCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync", abstract: "Push local changes to the server, then pull until up to date.",
        discussion: """
            Exit codes: 0 synced, 1 failure (no remote, no token, store error), 2 usage error, \
            3 server unreachable or timed out, 4 token refused, 5 server error or invalid reply, \
            6 another sync is running, 7 protocol mismatch (upgrade margin), \
            8 synced, but the server refused changes: they are parked (margin log --rejected) \
            and everything else synced.
            """)

    /// The exit status of a sync that parked changes the server refused.
    static let parkedExitStatus: Int32 = 8

    @OptionGroup var library: LibraryOptions
    @Flag(name: [.short, .long], help: "Print nothing on success (for cron).") var quiet = false
    @Option(help: "Give up after this many seconds, retries included.") var timeout: Int = 60
    @Flag(help: "Print what the sync did as JSON.") var json = false

    func validate() throws {
        guard (1...86_400).contains(timeout) else { throw ValidationError("--timeout must be 1 to 86400 seconds") }
    }

    func run() throws {
        let store = try library.open()
        guard let remote = try store.syncStatus().remote else {
            throw MarginError(.invalidInput, "no remote set; run margin remote set URL --token-file FILE")
        }
        var options = SyncOptions()
        options.timeout = .seconds(timeout)
        if !quiet, Terminal.stderrIsTTY {
            options.progress = { line in FileHandle.standardError.write(Data("\r\(line)\u{1B}[K".utf8)) }
        }
        let token = try DeviceCredentials.token(for: remote, environment: ProcessInfo.processInfo.environment)
        let report = try SyncEngine(store: store, remote: remote, token: token, options: options).run()
        if options.progress != nil, report.pushed + report.pulled > 0 { FileHandle.standardError.write(Data("\n".utf8)) }
        if json {
            try Terminal.printJSON(SyncResult(report))
        } else if !quiet {
            try printSummary(report, store: store)
        }
        // Refusals never stop a sync, but cron must notice them: one line and status 8.
        if let first = report.parked.first {
            let more = report.parked.count > 1 ? " (and \(report.parked.count - 1) more)" : ""
            Terminal.printError(
                "the server refused \(report.parked.count) change(s), parked: #\(first.change.seq): \(first.reason)\(more); "
                    + "see margin log --rejected")
            throw ExitCode(Self.parkedExitStatus)
        }
    }

    private func printSummary(_ report: SyncReport, store: LibraryStore) throws {
        let outcomes = ChangeResult.Outcome.allCases.compactMap { outcome in
            report.outcomes[outcome].map { "\(outcome.rawValue.replacingOccurrences(of: "_", with: " ")) \($0)" }
        }
        print("pushed \(report.pushed) change(s)" + (outcomes.isEmpty ? "" : " (" + outcomes.joined(separator: ", ") + ")")
            + ", pulled \(report.pulled) record(s)"
            + (report.restored ? " (the server was restored from a backup: what it lacked was sent again)"
                : report.reset ? " (full reset)" : ""))
        try printNewConflicts(report.newConflicts, store: store)
    }

    /// The conflicts this sync brought, a line each (as `margin conflicts` lists them), at
    /// most `shown` of them.
    private func printNewConflicts(_ conflicts: [ConflictRecord], store: LibraryStore, shown: Int = 10) throws {
        guard !conflicts.isEmpty else { return }
        print("\(conflicts.count) new conflict(s): the losing values are kept; see margin conflicts")
        let ids = conflicts.map(\.id)
        let records = try store.shortIds(conflicts.map(\.recordId))
        for conflict in conflicts.prefix(shown) { print("  " + ConflictsCommand.summary(conflict, among: ids, records: records)) }
        if conflicts.count > shown { print("  and \(conflicts.count - shown) more") }
    }
}

/// `margin sync --json`.
struct SyncResult: Encodable {
    var pushed: Int
    var outcomes: [String: Int]
    var pulled: Int
    var bodiesFetched: Int
    var requests: Int
    var reset: Bool
    var restored: Bool
    /// The changes this sync parked: `{"seq", "reason"}`.
    var parked: [Parked]
    /// The conflicts this sync brought, as `margin conflicts --json` gives them.
    var newConflicts: [ConflictRecord]

    struct Parked: Encodable {
        var seq: Int64
        var reason: String
    }

    init(_ report: SyncReport) {
        pushed = report.pushed
        outcomes = Dictionary(uniqueKeysWithValues: report.outcomes.map { ($0.key.rawValue, $0.value) })
        pulled = report.pulled
        bodiesFetched = report.bodiesFetched
        requests = report.requests
        reset = report.reset
        restored = report.restored
        parked = report.parked.map { Parked(seq: $0.change.seq, reason: $0.reason) }
        newConflicts = report.newConflicts
    }
}
