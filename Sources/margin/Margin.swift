import ArgumentParser
import Foundation
import MarginCore
import MarginSync

/// The `margin` command: a local library of articles and annotations.
@main
struct Margin: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "margin",
        abstract: "Read, annotate and search articles in a local library.",
        discussion: """
            The library is --store, else $MARGIN_STORE, else $XDG_DATA_HOME/marginalia/library.sqlite.
            Exit codes: 0 success, 1 failure, 2 usage error; margin sync adds 3 to 8 (see margin sync --help).
            """,
        version: Release.version,
        subcommands: [
            ImportCommand.self, RefreshCommand.self, ListCommand.self, ShowCommand.self, SearchCommand.self, AnnotateCommand.self,
            AnnotationsCommand.self, EditCommand.self, DeleteCommand.self, ExportCommand.self, LogCommand.self,
            HistoryCommand.self, UndoCommand.self, DiscardCommand.self, StatusCommand.self, RemoteCommand.self, SyncCommand.self,
            ConflictsCommand.self,
        ]
    )

    @OptionGroup var library: LibraryOptions

    /// Runs the command line, mapping failures to one line on stderr and the documented
    /// exit codes: 1 for failures, 2 for usage errors.
    static func main() {
        if CommandLine.arguments.dropFirst().contains(SyncCommand.configuration.commandName!) { CurlTransport.preload() }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as MarginError {
            Terminal.printError(error.message)
            Foundation.exit(1)
        } catch let error as SyncError {
            Terminal.printError(error.message)
            Foundation.exit(syncExitStatus(error.code))
        } catch let error as ExitCode {
            Foundation.exit(error.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            let message = message(for: error).split(whereSeparator: \.isNewline).joined(separator: " ")
            let hint = code == .validationFailure && !(error is ValidationError) ? " (see 'margin --help')" : ""
            Terminal.printError(message + hint)
            Foundation.exit(code == .validationFailure ? 2 : 1)
        }
    }

    /// `margin sync`'s exit statuses, one per kind of failure (documented in its help).
    static func syncExitStatus(_ code: SyncError.Code) -> Int32 {
        switch code {
        case .configuration, .store: 1
        case .network: 3
        case .authentication: 4
        case .server, .restoredServer: 5
        case .alreadyRunning: 6
        case .protocolMismatch: 7
        }
    }
}
