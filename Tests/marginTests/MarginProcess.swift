import Foundation

/// Output that is not the JSON shape a test expected.
struct OutputShapeError: Error, CustomStringConvertible {
    var description: String
}

/// Runs the built `margin` executable as a user would, in a temporary folder of its own.
final class MarginProcess: Sendable {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String

        /// Standard output parsed as JSON.
        func json() throws -> Any {
            try JSONSerialization.jsonObject(with: Data(stdout.utf8))
        }

        /// Standard output parsed as JSON of the shape `shape` (`[String: Any]`,
        /// `[[String: Any]]`, …): output of another shape fails the test, saying what it was,
        /// where a forced cast would end the whole test run.
        func json<Shape>(_ shape: Shape.Type) throws -> Shape {
            guard let value = try json() as? Shape else {
                throw OutputShapeError(description: "expected \(Shape.self) on stdout, got: \(stdout.prefix(300))")
            }
            return value
        }

        /// Standard output decoded as `shape` (one of the typed shapes below, or an array of
        /// them); output of another shape fails the test, saying what it was.
        func decoded<Shape: Decodable>(_ shape: Shape.Type) throws -> Shape {
            do {
                return try JSONDecoder().decode(Shape.self, from: Data(stdout.utf8))
            } catch {
                throw OutputShapeError(description: "expected \(Shape.self) on stdout (\(error)), got: \(stdout.prefix(300))")
            }
        }
    }

    /// An article as `list --json` shows it: the keys the tests read.
    struct ListedArticle: Decodable {
        var id, title, contentHash: String
        var source: String?
    }

    /// An annotation as `annotations --json` lists it: the keys the tests read.
    struct ListedAnnotation: Decodable {
        struct Quote: Decodable { var exact: String }
        struct Range: Decodable { var start, end: Int }
        var id, state, note: String
        var quote: Quote
        var anchor: Range?
        var basis: String?
    }

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let seeds = repositoryRoot.appendingPathComponent("seeds").path

    /// The `margin` binary built beside the test bundle.
    static let executable: URL = {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        return beside.appendingPathComponent("margin")
    }()

    let directory: URL
    var store: String { directory.appendingPathComponent("library.sqlite").path }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("margin-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs `margin --store STORE ARGUMENTS…` (no `--store` when `useStoreOption` is false),
    /// with `input` on its standard input.
    @discardableResult
    func run(
        _ arguments: [String], environment: [String: String] = [:], useStoreOption: Bool = true, input: [UInt8]? = nil
    ) throws -> Result {
        try Self.launch(
            Self.executable.path, (useStoreOption ? ["--store", store] : []) + arguments, environment: environment, input: input)
    }

    /// Starts `margin --store STORE ARGUMENTS…` without waiting for it (its output is
    /// discarded), to stop or kill it part way.
    func start(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = ["--store", store] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Runs `margin` under a pseudo-terminal (util-linux `script`), so it sees a TTY.
    func runInTerminal(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let command = ([Self.executable.path, "--store", store] + arguments).map { "'\($0)'" }.joined(separator: " ")
        return try Self.launch("/usr/bin/script", ["-qec", command, "/dev/null"], environment: environment)
    }

    static func launch(
        _ path: String, _ arguments: [String], environment: [String: String] = [:], in directory: URL? = nil,
        input: [UInt8]? = nil
    ) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        var base = ProcessInfo.processInfo.environment
        for key in ["NO_COLOR", "MARGIN_STORE", "XDG_DATA_HOME", "MARGIN_TOKEN"] { base[key] = nil }
        // Tests talk to servers on 127.0.0.1 directly, unless a test names a proxy.
        for key in ["http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"] { base[key] = nil }
        process.environment = base.merging(environment) { $1 }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        let inputPipe = input.map { _ in Pipe() }
        process.standardInput = inputPipe ?? FileHandle.nullDevice
        try process.run()
        if let input, let inputPipe {
            // Written on a thread of its own: the child may not read it all before it answers.
            Thread.detachNewThread {
                try? inputPipe.fileHandleForWriting.write(contentsOf: input)
                try? inputPipe.fileHandleForWriting.close()
            }
        }
        // Read both pipes to the end before waiting, so a large output cannot block the child.
        let errorData = ErrorCollector(errors.fileHandleForReading)
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: outputData, as: UTF8.self),
            stderr: String(decoding: errorData.wait(), as: UTF8.self))
    }
}

/// Reads a pipe to its end on a thread of its own.
private final class ErrorCollector: @unchecked Sendable {
    // Safe: `data` is written once by the reading thread before `done` is signalled and
    // read only after `wait()` has seen that signal.
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    func wait() -> Data {
        done.wait()
        return data
    }
}

extension MarginProcess {
    /// `run`, waited for away from the test's own thread pool, so that a server running in
    /// the test process (such as `WebServer`) keeps answering while the test waits.
    func runDetached(_ arguments: [String], environment: [String: String] = [:], input: [UInt8]? = nil) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Swift.Result { try self.run(arguments, environment: environment, input: input) })
            }
        }
    }
}
