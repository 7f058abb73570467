import Foundation

/// Secrets margin-server takes as files (the PostgreSQL password, the metrics token), so
/// that they never show in process lists or shell history.
public enum SecretFile {
    /// The first line of the file at `path`, without its line ending (LF or CRLF); nil
    /// when the file cannot be read as UTF-8 text.
    public static func firstLine(of path: String) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).first.map(String.init) ?? ""
    }
}
