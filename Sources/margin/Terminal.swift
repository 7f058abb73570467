import Foundation
import MarginCore

/// Where output goes and how it looks: colors only on a TTY without `NO_COLOR`.
enum Terminal {
    static let stdoutIsTTY = isatty(STDOUT_FILENO) == 1
    static let stderrIsTTY = isatty(STDERR_FILENO) == 1

    /// Whether to color standard output (https://no-color.org).
    static let colorsEnabled: Bool = {
        let environment = ProcessInfo.processInfo.environment
        return stdoutIsTTY && environment["NO_COLOR"].map(\.isEmpty) != false && environment["TERM"] != "dumb"
    }()

    /// Writes `text` with a trailing newline to standard error.
    static func printError(_ message: String) {
        FileHandle.standardError.write(Data("margin: \(message)\n".utf8))
    }

    /// Reports progress on standard error, only when it is a TTY.
    static func progress(_ label: String, done: Int, total: Int) {
        guard stderrIsTTY else { return }
        let end = done == total ? "\n" : ""
        FileHandle.standardError.write(Data("\r\(label) \(done)/\(total)\(end)".utf8))
    }

    /// Prints `value` as pretty JSON with sorted keys.
    static func printJSON(_ value: some Encodable) throws {
        var data = try JSONEncoder.marginOutput.encode(value)
        data.append(UInt8(ascii: "\n"))
        FileHandle.standardOutput.write(data)
    }

    static func bold(_ text: String) -> String { colorsEnabled ? "\u{1B}[1m\(text)\u{1B}[0m" : text }
    static func dim(_ text: String) -> String { colorsEnabled ? "\u{1B}[2m\(text)\u{1B}[0m" : text }

    /// The width of an id column: the longest short id and two spaces.
    static func idWidth(_ shortIds: [String: String]) -> Int {
        (shortIds.values.map(\.count).max() ?? 8) + 2
    }

    /// Pads `text` with spaces to `width` characters.
    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}
