import Foundation

/// A real `margin-server serve` process on 127.0.0.1 and a free port, stopped when
/// released; for tests and benchmarks.
public final class ServerProcess: @unchecked Sendable {
    // Safe: every property is set in `init` and never changed; `Process` may be queried
    // and terminated from any thread.
    /// The server stores a test or benchmark can run on.
    public enum Backend: String, CaseIterable, Sendable, CustomStringConvertible {
        case sqlite, postgres
        public var description: String { rawValue }
    }

    public let binary: URL
    /// `--database` as the server takes it.
    public let database: String
    public let url: String
    public let port: Int
    /// The temporary folder of a SQLite store, removed with the process.
    private let folder: URL?
    private let process = Process()

    /// A server on a fresh store: a SQLite file in a temporary folder, or a new database on
    /// the shared PostgreSQL cluster (throwing `PostgresCluster.Unavailable` without one).
    public convenience init(
        binary: URL, backend: Backend, arguments: [String] = [], logLevel: String = "warning", log: URL? = nil
    ) throws {
        switch backend {
        case .sqlite:
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("margin-server-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try self.init(
                binary: binary, database: "sqlite:" + folder.appendingPathComponent("server.sqlite").path, folder: folder,
                arguments: arguments, logLevel: logLevel, log: log)
        case .postgres:
            let database = try PostgresCluster.shared.get().createDatabase()
            try self.init(binary: binary, database: database, folder: nil, arguments: arguments, logLevel: logLevel, log: log)
        }
    }

    /// A server on an existing store (PostgreSQL: several processes share one).
    public convenience init(binary: URL, database: String, arguments: [String] = [], logLevel: String = "warning") throws {
        try self.init(binary: binary, database: database, folder: nil, arguments: arguments, logLevel: logLevel, log: nil)
    }

    /// `log`: a file that receives the server's log (standard error); else it is discarded.
    private init(binary: URL, database: String, folder: URL?, arguments: [String], logLevel: String, log: URL?) throws {
        self.binary = binary
        self.database = database
        self.folder = folder
        process.executableURL = binary
        process.arguments = ["serve", "--listen", "127.0.0.1:0", "--database", database, "--log-level", logLevel] + arguments
        let output = Pipe()
        process.standardOutput = output
        if let log {
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: log)
        } else {
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        // The server prints "margin-server listening on 127.0.0.1:PORT" once it accepts connections.
        let line = LineReader(output.fileHandleForReading).firstLine(timeout: 60)
        guard let line, let port = line.split(separator: ":").last.flatMap({ Int($0) }) else {
            process.terminate()
            throw ServerProcessError(description: "margin-server did not start on \(database): \(line ?? "no output")")
        }
        self.port = port
        url = "http://127.0.0.1:\(port)"
    }

    deinit {
        stop()
        if let folder { try? FileManager.default.removeItem(at: folder) }
    }

    /// The server's process id (to kill it in the middle of something).
    public var processIdentifier: Int32 { process.processIdentifier }

    /// Stops the server (SIGTERM) and waits for it to exit.
    public func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    /// The server's peak resident memory so far, in kilobytes (Linux `VmHWM`).
    public func peakMemory() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return nil }
        return Int(line.split(separator: " ").dropFirst().first ?? "")
    }

    /// Runs `margin-server ARGUMENTS… --database DATABASE`; returns its status and output.
    @discardableResult
    public func administer(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let child = Process()
        child.executableURL = binary
        child.arguments = arguments + ["--database", database]
        let output = Pipe()
        let errors = Pipe()
        child.standardOutput = output
        child.standardError = errors
        try child.run()
        let errorReader = LineReader(errors.fileHandleForReading, whole: true)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        child.waitUntilExit()
        return (child.terminationStatus, String(decoding: data, as: UTF8.self), errorReader.firstLine(timeout: 60) ?? "")
    }

    /// Adds a user and returns their first token.
    public func addUser(_ name: String) throws -> String {
        try administer(["user", "add", name]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Issues another device token to `name`.
    public func issueToken(_ name: String) throws -> String {
        try administer(["user", "token", name]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Purges every deleted record now (`margin-server compact --tombstone-retention 0`), as
    /// the server's own compaction does once the retention window has passed; returns how
    /// many were purged.
    @discardableResult
    public func compact() throws -> Int {
        let result = try administer(["compact", "--tombstone-retention", "0"])
        // "purged N deleted records"
        guard result.status == 0, let count = result.stdout.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else {
            throw ServerProcessError(description: "margin-server compact failed (\(result.status)): \(result.stderr)")
        }
        return count
    }
}

public struct ServerProcessError: Error, CustomStringConvertible {
    public let description: String
}

/// Reads a pipe on a thread of its own: its first line (or, `whole`, everything up to
/// the end), then keeps draining it so the writer never blocks on a full pipe.
final class LineReader: @unchecked Sendable {
    // Safe: `text` is written once by the reading thread before `found` is signalled and
    // read only after `firstLine` has seen that signal (or given up, reading nil).
    private var text: String?
    private let found = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle, whole: Bool = false) {
        Thread.detachNewThread { [self] in
            var buffer = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty {
                    if whole { text = String(decoding: buffer, as: UTF8.self) }
                    break
                }
                buffer.append(chunk)
                if !whole, let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    text = String(decoding: buffer[..<newline], as: UTF8.self)
                    break
                }
            }
            found.signal()
            while !handle.availableData.isEmpty {}
        }
    }

    /// The first line (or the whole output), or nil after `timeout` seconds.
    func firstLine(timeout: Int) -> String? {
        found.wait(timeout: .now() + .seconds(timeout)) == .success ? text : nil
    }
}
