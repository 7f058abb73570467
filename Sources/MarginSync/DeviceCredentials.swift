import Foundation
import MarginStore

/// The device token a sync sends: `$MARGIN_TOKEN`, else the remote's token file, which
/// must be readable by its owner only (as ssh requires of private keys).
public enum DeviceCredentials {
    public static func token(for remote: RemoteSettings, environment: [String: String]) throws(SyncError) -> String {
        if let token = environment["MARGIN_TOKEN"]?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty {
            return token
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
        return token
    }
}
