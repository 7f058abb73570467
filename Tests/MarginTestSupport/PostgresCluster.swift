import Foundation

#if canImport(Testing)
import Testing
#endif

/// A throwaway PostgreSQL cluster for tests and benchmarks: `initdb` into a temporary
/// folder (as the `postgres` user when running as root), `pg_ctl` on 127.0.0.1 and a free
/// port, trust authentication over TCP. A watchdog process stops the cluster and removes
/// its folder when this process ends, however it ends.
public final class PostgresCluster: @unchecked Sendable {
    // Safe: every property is set in `init` and never changed.

    /// Why PostgreSQL cannot run here (no binaries, no `postgres` user).
    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    /// The cluster the tests of one process share, started at first use.
    public static let shared = Result { try PostgresCluster() }

    public let port: Int
    private let directory: String
    private let binaries: String
    private let asPostgres: [String]
    private let fsync: Bool

    /// Starts a new cluster with fsync off (its data is thrown away), or throws
    /// `Unavailable` when this machine has no PostgreSQL.
    public init(fsync: Bool = false) throws {
        let environment = ProcessInfo.processInfo.environment
        guard let binaries = environment["MARGIN_POSTGRES_BIN"] ?? Self.installedBinaries() else {
            throw Unavailable(description: "PostgreSQL is not installed (no initdb under /usr/lib/postgresql/*/bin; set MARGIN_POSTGRES_BIN)")
        }
        self.binaries = binaries
        self.fsync = fsync
        if geteuid() == 0 {
            guard getpwnam("postgres") != nil else { throw Unavailable(description: "running as root and there is no postgres user for initdb") }
            asPostgres = ["/usr/sbin/runuser", "-u", "postgres", "--"]
        } else {
            asPostgres = []
        }
        directory = NSTemporaryDirectory() + "margin-postgres-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if geteuid() == 0 { try FileManager.default.setAttributes([.ownerAccountName: "postgres"], ofItemAtPath: directory) }
        port = try Self.freePort()
        do {
            try run(asPostgres + [
                binaries + "/initdb", "-D", directory + "/data", "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C",
                "--no-sync",
            ])
            try start(fsync: fsync)
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        // Stops the cluster once this process is gone, even if it was killed.
        let watchdog = Process()
        watchdog.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        let stop = (asPostgres + [binaries + "/pg_ctl", "-D", directory + "/data", "-m", "immediate", "stop"]).joined(separator: " ")
        watchdog.arguments = [
            "sh", "-c", "while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; \(stop); rm -rf \(directory)",
        ]
        watchdog.standardOutput = FileHandle.nullDevice
        watchdog.standardError = FileHandle.nullDevice
        try watchdog.run()
    }

    deinit {
        _ = try? run(asPostgres + [binaries + "/pg_ctl", "-D", directory + "/data", "-m", "immediate", "stop"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A new, empty database on the cluster, as `margin-server --database` takes it.
    public func createDatabase() throws -> String {
        let name = "margin_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try run([binaries + "/createdb", "-h", "127.0.0.1", "-p", String(port), "-U", "postgres", name])
        return "postgres://postgres@127.0.0.1:\(port)/\(name)?sslmode=disable"
    }

    /// Copies the database `source` into `target` (both as `createDatabase()` gives them),
    /// replacing what `target` held: a backup, or its restore. Nothing may be connected to
    /// either.
    public func copy(_ source: String, to target: String) throws {
        let maintenance = "postgres://postgres@127.0.0.1:\(port)/postgres"
        try psql(maintenance, "DROP DATABASE IF EXISTS \(Self.name(target))")
        try psql(maintenance, "CREATE DATABASE \(Self.name(target)) TEMPLATE \(Self.name(source))")
    }

    /// The database name in a `postgres://` address.
    private static func name(_ database: String) -> String {
        String(database.split(separator: "/").last!.split(separator: "?").first!)
    }

    /// Runs SQL on `database` with `psql` and returns its unaligned, tuples-only output.
    @discardableResult
    public func psql(_ database: String, _ sql: String) throws -> String {
        try run([
            binaries + "/psql", "-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", Self.name(database), "-At",
            "-v", "ON_ERROR_STOP=1", "-c", sql,
        ])
    }

    /// Stops the server (a fast shutdown: sessions are disconnected).
    public func stop() throws {
        try run(asPostgres + [binaries + "/pg_ctl", "-D", directory + "/data", "-m", "fast", "-w", "stop"])
    }

    /// Starts the server again after `stop()`.
    public func start() throws { try start(fsync: fsync) }

    private func start(fsync: Bool) throws {
        let options = "-c listen_addresses=127.0.0.1 -p \(port) -k \(directory) -c max_connections=300 -c fsync=\(fsync ? "on" : "off")"
        try run(asPostgres + [
            binaries + "/pg_ctl", "-D", directory + "/data", "-l", directory + "/log", "-o", options, "-w", "-t", "60", "start",
        ])
    }

    /// Runs `command` and returns its output. posix_spawn and waitpid rather than
    /// Foundation's `Process`, whose exit monitoring can miss a child whose own child
    /// (`pg_ctl`'s server) lives on.
    @discardableResult
    private func run(_ command: [String]) throws -> String {
        let log = NSTemporaryDirectory() + "margin-postgres-command-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: log) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var arguments = command.map { strdup($0) } + [nil]
        defer { for argument in arguments { free(argument) } }
        var child: pid_t = 0
        let spawned = posix_spawn(&child, command[0], &actions, nil, &arguments, environ)
        guard spawned == 0 else { throw Unavailable(description: "cannot run \(command[0]): error \(spawned)") }
        var status: Int32 = 0
        while waitpid(child, &status, 0) == -1, errno == EINTR {}
        let text = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        // WIFEXITED && WEXITSTATUS == 0
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw Unavailable(description: "\(command.joined(separator: " ")) failed: \(text)")
        }
        return text
    }

    private static func installedBinaries() -> String? {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return versions.compactMap(Int.init).sorted(by: >).map { "\(root)/\($0)/bin" }
            .first { FileManager.default.isExecutableFile(atPath: $0 + "/initdb") }
    }

    /// A port nobody listens on now, from the kernel.
    public static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw Unavailable(description: "cannot open a socket") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(socket, address, length) == 0 && getsockname(socket, address, &length) == 0
            }
        }
        guard bound else { throw Unavailable(description: "cannot bind a socket on 127.0.0.1") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

#if canImport(Testing)
/// Runs `body`; when it finds no PostgreSQL on this machine, the current test (case) is
/// cancelled — reported as skipped — with the reason, except in CI (`CI` set), where it fails.
public func cancelledWithoutPostgres<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as PostgresCluster.Unavailable where ProcessInfo.processInfo.environment["CI"] == nil {
        try Test.cancel("\(error)")
    }
}

extension ServerProcess {
    /// A new database on the shared PostgreSQL cluster, cancelling the test like
    /// `cancelledWithoutPostgres` when there is none.
    public static func postgresDatabase() throws -> String {
        try cancelledWithoutPostgres { try PostgresCluster.shared.get().createDatabase() }
    }
}
#endif
