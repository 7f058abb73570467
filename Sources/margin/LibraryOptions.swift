import ArgumentParser
import Foundation
import MarginCore
import MarginStore

/// The options every command shares: where the library is.
struct LibraryOptions: ParsableArguments {
    @Option(name: .long, help: "The library file (default: $MARGIN_STORE, else $XDG_DATA_HOME/marginalia/library.sqlite).")
    var store: String?

    /// The store path the options and environment select.
    var storePath: String {
        if let store { return store }
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["MARGIN_STORE"], !path.isEmpty { return path }
        let dataHome = environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.local/share"
        return dataHome + "/marginalia/library.sqlite"
    }

    func open() throws(MarginError) -> LibraryStore {
        try LibraryStore(path: storePath)
    }

    /// Resolves an id prefix typed by the user to an article or annotation.
    func resolve(_ store: LibraryStore, _ prefix: String, kinds: Set<ChangeEntry.Entity>) throws -> ResolvedRecord {
        try reportingUsageErrors { () throws(MarginError) in try store.resolve(prefix, kinds: kinds) }
    }
}

/// Runs `body`, turning its invalid-input errors into usage errors (exit code 2): the user
/// typed something that cannot be right, as opposed to something that failed.
func reportingUsageErrors<T>(_ body: () throws(MarginError) -> T) throws -> T {
    do {
        return try body()
    } catch {
        if error.code == .invalidInput { throw ValidationError(error.message) }
        throw error
    }
}
