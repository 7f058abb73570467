import Foundation
import MarginCore
import MarginSync
import MarginTestSupport
import MarginWire
import Testing

extension ServerProcess {
    /// The `margin-server` built beside the tests.
    static let executable = MarginProcess.executable.deletingLastPathComponent().appendingPathComponent("margin-server")

    /// A server on a fresh store of `backend`. Without PostgreSQL on this machine a
    /// PostgreSQL case is cancelled (reported as skipped) with the reason, except in CI
    /// (`CI` set), which must run it.
    static func start(
        _ backend: Backend = .sqlite, arguments: [String] = [], logLevel: String = "warning", log: URL? = nil
    ) throws -> ServerProcess {
        try cancelledWithoutPostgres {
            try ServerProcess(binary: executable, backend: backend, arguments: arguments, logLevel: logLevel, log: log)
        }
    }

    /// A server on an existing `database`.
    static func start(database: String, arguments: [String] = []) throws -> ServerProcess {
        try ServerProcess(binary: executable, database: database, arguments: arguments)
    }

    /// A laptop and a desktop of the new user `name`.
    func twoDevices(of name: String) throws -> (laptop: MarginProcess, desktop: MarginProcess) {
        (try device(token: try addUser(name)), try device(token: try issueToken(name)))
    }

    /// A laptop and a desktop of the new user `name` holding the seeds: the laptop imported
    /// and pushed them, then the desktop pulled them.
    func twoDevicesWithTheSeeds(of name: String) throws -> (laptop: MarginProcess, desktop: MarginProcess) {
        let (laptop, desktop) = try twoDevices(of: name)
        try laptop.run(["import", MarginProcess.seeds])
        try laptop.syncQuietly()
        try desktop.syncQuietly()
        return (laptop, desktop)
    }

    /// A `margin` device with its own store, its token in a 0600 file and this server as its remote.
    func device(token: String) throws -> MarginProcess {
        let device = try MarginProcess()
        let tokenFile = device.directory.appendingPathComponent("token").path
        _ = FileManager.default.createFile(atPath: tokenFile, contents: Data(token.utf8), attributes: [.posixPermissions: 0o600])
        try device.run(["remote", "set", url, "--token-file", tokenFile])
        return device
    }

    /// `margin-server user list --json`.
    func users() throws -> [[String: Any]] {
        try listing(["user", "list"])
    }

    /// `margin-server device list USER --json`.
    func devices(of user: String) throws -> [[String: Any]] {
        try listing(["device", "list", user])
    }

    /// The objects `margin-server ARGUMENTS… --json` lists.
    private func listing(_ arguments: [String]) throws -> [[String: Any]] {
        let output = try administer(arguments + ["--json"]).stdout
        return try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]], "\(output)")
    }

    /// POSTs raw bytes to `/v1/<endpoint>` as a device would, with extra or replaced headers.
    func post(
        _ endpoint: String, body: [UInt8], token: String, deviceId: String, headers: [String]? = nil
    ) throws -> HTTPReply {
        let transport = try CurlTransport(insecure: false)
        let standard = [
            "Content-Type: application/json", "Authorization: Bearer \(token)", "Margin-Protocol: \(SyncProtocol.version)", "Margin-Device: \(deviceId)",
        ]
        return try transport.post(url: url + "/v1/" + endpoint, headers: headers ?? standard, body: body, timeout: .seconds(10))
    }
}
