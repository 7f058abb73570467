import Foundation
import MarginStore

/// The device token a sync sends: `$MARGIN_TOKEN`, else the remote's token file, which
/// must be readable by its owner only (as ssh requires of private keys).
public enum DeviceCredentials {
    public static func token(for remote: RemoteSettings, environment: [String: String]) throws(SyncError) -> String {
        if let token = environment["MARGIN_TOKEN"]?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty {
            return try checked(token, from: "MARGIN_TOKEN")
        }
        guard let file = remote.tokenFile else {
            throw SyncError(
                .configuration,
                "no device token: set MARGIN_TOKEN or run margin remote set URL --token-file FILE")
        }
        var info = stat()
        guard stat(file, &info) == 0 else {
            throw SyncError(.configuration, "cannot read the token file \(file): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw SyncError(.configuration, "the token file \(file) is readable by others; run chmod 600 \(file)")
        }
        guard let contents = FileManager.default.contents(atPath: file),
              let token = String(data: contents, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines),
              !token.isEmpty
        else { throw SyncError(.configuration, "the token file \(file) is empty or not text") }
        return try checked(token, from: "the token file \(file)")
    }

    /// A token is one word of printable ASCII (what margin-server prints); anything else
    /// would corrupt the request's headers.
    private static func checked(_ token: String, from source: String) throws(SyncError) -> String {
        guard token.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw SyncError(.configuration, "\(source) does not hold a token: it must be the one line margin-server printed")
        }
        return token
    }
}
