import Foundation
import MarginCore
import MarginSync

/// A real `margin-server` process on 127.0.0.1 and a free port, with its own SQLite
/// store in a temporary folder; stopped when released.
final class ServerProcess {
    static let executable = MarginProcess.executable.deletingLastPathComponent().appendingPathComponent("margin-server")

    let directory: URL
    let database: String
    let url: String
    private let process: Process

    init(tombstoneRetention: Int? = nil) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("margin-server-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        database = "sqlite:" + directory.appendingPathComponent("server.sqlite").path
        process = Process()
        process.executableURL = Self.executable
        process.arguments = ["serve", "--listen", "127.0.0.1:0", "--database", database, "--log-level", "warning"]
            + (tombstoneRetention.map { ["--tombstone-retention", String($0)] } ?? [])
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The server prints "margin-server listening on 127.0.0.1:PORT" once it accepts connections.
        let line = LineReader(output.fileHandleForReading).firstLine(timeout: 30)
        guard let line, let port = line.split(separator: ":").last.map(String.init), Int(port) != nil else {
            process.terminate()
            throw MarginError(.io, "margin-server did not start: \(line ?? "no output")")
        }
        url = "http://127.0.0.1:\(port)"
    }

    /// The server's process id (to kill it in the middle of something).
    var processIdentifier: Int32 { process.processIdentifier }

    deinit {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs `margin-server ARGUMENTS… --database DATABASE`.
    @discardableResult
    func administer(_ arguments: [String]) throws -> MarginProcess.Result {
        try MarginProcess.launch(Self.executable.path, arguments + ["--database", database])
    }

    /// Adds a user and returns their first token.
    func addUser(_ name: String) throws -> String {
        try administer(["user", "add", name]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Issues another device token to `name`.
    func issueToken(_ name: String) throws -> String {
        try administer(["user", "token", name]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A `margin` device with its own store, its token in a 0600 file and this server as its remote.
    func device(token: String) throws -> MarginProcess {
        let device = try MarginProcess()
        let tokenFile = device.directory.appendingPathComponent("token").path
        _ = FileManager.default.createFile(atPath: tokenFile, contents: Data(token.utf8), attributes: [.posixPermissions: 0o600])
        try device.run(["remote", "set", url, "--token-file", tokenFile])
        return device
    }

    /// POSTs raw bytes to `/v1/<endpoint>` as a device would, with extra or replaced headers.
    func post(
        _ endpoint: String, body: [UInt8], token: String, deviceId: String, headers: [String]? = nil
    ) throws -> HTTPReply {
        let transport = try CurlTransport(insecure: false)
        let standard = [
            "Content-Type: application/json", "Authorization: Bearer \(token)", "Margin-Protocol: 1", "Margin-Device: \(deviceId)",
        ]
        return try transport.post(url: url + "/v1/" + endpoint, headers: headers ?? standard, body: body, timeout: .seconds(10))
    }
}

/// Reads a pipe line by line on a thread of its own.
private final class LineReader: @unchecked Sendable {
    // Safe: `line` is written once by the reading thread before `found` is signalled and
    // read only after `firstLine` has seen that signal (or given up, reading nil).
    private var line: String?
    private let found = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            var buffer = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                buffer.append(chunk)
                if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    line = String(decoding: buffer[..<newline], as: UTF8.self)
                    break
                }
            }
            found.signal()
            // Keep draining so the server never blocks on a full pipe.
            while !handle.availableData.isEmpty {}
        }
    }

    func firstLine(timeout: Int) -> String? {
        found.wait(timeout: .now() + .seconds(timeout)) == .success ? line : nil
    }
}
