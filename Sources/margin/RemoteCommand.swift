import ArgumentParser
import Foundation
import MarginStore

struct RemoteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remote", abstract: "Set or show the sync server this library uses.",
        subcommands: [Set.self, Show.self], defaultSubcommand: Show.self)

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set", abstract: "Set the sync server.",
            discussion: "The device token is read from $MARGIN_TOKEN, else from --token-file (which must be mode 600).")

        @OptionGroup var library: LibraryOptions
        @Argument(help: "The server's URL, e.g. https://sync.example.org.") var url: String
        @Option(help: "A file holding this device's token.") var tokenFile: String?
        @Flag(help: "Do not verify the server's TLS certificate (for testing only).") var insecure = false

        func validate() throws {
            guard let parsed = URLComponents(string: url), ["http", "https"].contains(parsed.scheme ?? ""),
                  parsed.host?.isEmpty == false, parsed.user == nil, parsed.query == nil
            else { throw ValidationError("'\(url)' is not a server URL; give http(s)://HOST[:PORT][/PATH]") }
        }

        func run() throws {
            let tokenFile = self.tokenFile.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            if let tokenFile, !FileManager.default.isReadableFile(atPath: tokenFile) {
                throw ValidationError("cannot read the token file \(tokenFile)")
            }
            let store = try library.open()
            try store.setRemote(RemoteSettings(url: url, tokenFile: tokenFile, insecure: insecure))
            print("remote set to \(url)" + (insecure ? " (TLS certificates not verified)" : ""))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show the sync server.")
        @OptionGroup var library: LibraryOptions
        @Flag(help: "Print the remote as JSON (null when none is set).") var json = false

        func run() throws {
            let remote = try library.open().syncStatus().remote
            if json { return try Terminal.printJSON(remote) }
            guard let remote else { return print("no remote set; use margin remote set URL") }
            print("\(remote.url)\ttoken: \(remote.tokenFile ?? "$MARGIN_TOKEN")\(remote.insecure ? "\tinsecure" : "")")
        }
    }
}
