// Benchmarks for the local library, run against the release `margin` binary as a user
// runs it: whole processes, from start to exit.
//
//   swift build -c release --static-swift-stdlib --product margin
//   swift build -c release --static-swift-stdlib --product MarginBenchmarks
//   .build/release/MarginBenchmarks [--runs N] [--articles N] [--only import|local|handles|extract|server|sync|articles|noop-pulls|backends]
//                                   [--rounds N] [--pages FOLDER]
//   (MARGIN_BENCH_KEEP=1 keeps the generated files and libraries for inspection)
//
// Scenarios (targets as in the README, "Benchmarks"):
//   import      10,000 synthetic seed-like articles into an empty library (target ≥ 5,000/s)
//   local       annotate, show and status on libraries of 100 and 100,000 annotations
//               (target: median ≤ 15 ms, and no slower on the large library)
//   handles     the length of the handles listings show, at 1,000, 10,000 and 100,000
//               records (target: 3–5 characters for thousands, at most 7 at 100,000)
//   extract     word F1 of the article text found in the pages of Tests/WebPages (or of
//               --pages FOLDER, laid out the same way), and pages read per second over
//               --rounds rounds (target F1 ≥ 0.95, ≥ 500 pages/s)
//   sync        first sync, no-op sync and concurrent push against the release
//               margin-server (see SyncBenchmarks.swift); needs
//               swift build -c release --static-swift-stdlib --product margin-server
//   articles    5,000 seed-sized article files: importing them against a new device's first
//               sync of them from the release margin-server (target: no slower than importing)
//   backends    push throughput and first sync on SQLite and on PostgreSQL with one and
//               three server processes (only with --only backends; needs PostgreSQL 15)
import Foundation
import MarginCore
import MarginStore
import MarginTestSupport

let arguments = CommandLine.arguments
func option(_ name: String, _ fallback: Int) -> Int {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count, let value = Int(arguments[index + 1])
    else { return fallback }
    return value
}

let runs = option("--runs", 30)
/// `--only import|local|sync` runs one scenario.
let only = arguments.firstIndex(of: "--only").flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
func enabled(_ scenario: String) -> Bool { only == nil || only == scenario }
let articleCount = option("--articles", 10_000)
let binary = URL(fileURLWithPath: arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    .appendingPathComponent("margin").path
let work = FileManager.default.temporaryDirectory.appendingPathComponent("margin-bench-\(getpid())")
try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
let keep = ProcessInfo.processInfo.environment["MARGIN_BENCH_KEEP"] != nil
defer {
    if keep { print("\nkept the benchmark files in \(work.path)") } else { try? FileManager.default.removeItem(at: work) }
}

guard FileManager.default.isExecutableFile(atPath: binary) else {
    FileHandle.standardError.write(Data("MarginBenchmarks: build margin first: no executable at \(binary)\n".utf8))
    exit(1)
}

print("margin benchmarks — \(binary)")
print("runs per local command: \(runs); machine: \(ProcessInfo.processInfo.processorCount) cores\n")

// MARK: - Import

let corpus = SyntheticCorpus(seed: 42)
if enabled("import") {
    let articlesFolder = work.appendingPathComponent("articles")
    try corpus.writeSeedFiles(count: articleCount, to: articlesFolder)
    var importTimes: [Double] = []
    for round in 0..<3 {
        importTimes.append(try Spawn.importing(binary, articlesFolder, into: work.appendingPathComponent("import-\(round).sqlite").path))
    }
    let importMemory = try Spawn.peakMemory(
        binary, ["--store", work.appendingPathComponent("import-memory.sqlite").path, "import", articlesFolder.path])
    let importMedian = importTimes.sorted()[1]
    print("import \(articleCount) seed-like articles (3 rounds, fresh library each):")
    print(String(format: "  median %.2f s → %.0f articles/s; peak memory %@   [target ≥ 5,000/s]\n",
        importMedian, Double(articleCount) / importMedian, Spawn.memoryText(importMemory) as NSString))
}

// MARK: - Local commands on a small and a large library

struct Library {
    var name: String
    var path: String
    var articleId: String
    var articleText: ArticleText
}

func makeLibrary(name: String, articles: Int, annotationsPerArticle: Int) throws -> Library {
    let path = work.appendingPathComponent("\(name).sqlite").path
    let store = try LibraryStore(path: path)
    let export = corpus.export(articles: articles, annotationsPerArticle: annotationsPerArticle)
    _ = try store.importExport(export)
    let first = export.articles[0]
    return Library(name: name, path: path, articleId: first.article.id, articleText: ArticleText(first.body))
}

if enabled("local") {
    let libraries = [
        try makeLibrary(name: "100 annotations", articles: 1, annotationsPerArticle: 100),
        try makeLibrary(name: "100,000 annotations", articles: 1_000, annotationsPerArticle: 100),
    ]

    print("local commands, process start to exit (\(runs) runs each, the two libraries interleaved run by run):")
    print("  command    library               median     p90        peak memory")
    for name in ["annotate", "show", "status"] {
        func arguments(_ library: Library, _ run: Int) -> [String] {
            let prefix = String(library.articleId.prefix(23))
            switch name {
            case "annotate":
                let start = (run * 37) % (library.articleText.count - 20)
                return ["annotate", prefix, "--range", "\(start):\(start + 12)", "--note", "benchmark note \(run)"]
            case "show": return ["show", prefix]
            default: return ["status"]
            }
        }
        var times = Array(repeating: [Double](), count: libraries.count)
        for run in -3..<runs {  // three warm-up rounds
            for (index, library) in libraries.enumerated() {
                let result = try Spawn.run(binary, ["--store", library.path] + arguments(library, run + 3))
                guard result.status == 0 else { fatalError("\(name) failed with status \(result.status)") }
                if run >= 0 { times[index].append(result.seconds * 1000) }
            }
        }
        var medians: [Double] = []
        for (index, library) in libraries.enumerated() {
            let sorted = times[index].sorted()
            medians.append(sorted[sorted.count / 2])
            let memory = try Spawn.peakMemory(binary, ["--store", library.path] + arguments(library, runs + 10))
            let label = "  " + name.padding(toLength: 11, withPad: " ", startingAt: 0)
                + library.name.padding(toLength: 22, withPad: " ", startingAt: 0)
            print(label + String(
                format: "%6.2f ms  %6.2f ms  %@", sorted[sorted.count / 2], sorted[sorted.count * 9 / 10],
                Spawn.memoryText(memory) as NSString))
        }
        print(String(format: "  %@: large/small median ratio %.2f", name, medians[1] / medians[0]))
    }
    print("  [target: median ≤ 15 ms, and no slower on 100,000 annotations than on 100]")
}

// MARK: - Handles

if enabled("handles") {
    print("handles: what listings show of each record (its handle's shortest unique prefix):")
    print("  library                  median  p99  longest  time to list them all")
    for (articles, perArticle) in [(10, 99), (100, 99), (1_000, 99)] {
        let library = try makeLibrary(name: "handles-\(articles)", articles: articles, annotationsPerArticle: perArticle)
        let store = try LibraryStore(path: library.path)
        let ids = try store.articles().map(\.id) + store.annotations().map(\.annotation.id)
        let start = ContinuousClock.now
        let lengths = try store.shortIds(ids).values.map(\.count).sorted()
        let elapsed = ContinuousClock.now - start
        let label = "  \(ids.count.formatted()) records".padding(toLength: 25, withPad: " ", startingAt: 0)
        print(label + String(
            format: "%6d  %3d  %7d  %.2f s", lengths[lengths.count / 2], lengths[lengths.count * 99 / 100], lengths.last!,
            Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
    }
    print("  [target: 3–5 characters for thousands of records, at most 7 at 100,000]\n")
}

// MARK: - Web pages

if enabled("extract") {
    let pages = arguments.firstIndex(of: "--pages").flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
    try ExtractionBenchmarks(
        rounds: option("--rounds", 50),
        folder: pages.map { URL(fileURLWithPath: $0) } ?? WebPageCorpus.folder
    ).run()
}

// MARK: - Sync

let serverBinary = URL(fileURLWithPath: binary).deletingLastPathComponent().appendingPathComponent("margin-server").path
if enabled("server") {
    print("\nsync phases:")
    let phases = SyncBenchmarks(margin: binary, server: "", work: work, corpus: corpus, runs: runs)
    try phases.clientPhases()
    try await phases.serverPhases()
}

if enabled("sync") {
    if FileManager.default.isExecutableFile(atPath: serverBinary) {
        try SyncBenchmarks(margin: binary, server: serverBinary, work: work, corpus: corpus, runs: runs).run()
    } else {
        print("\nsync: skipped — build margin-server first (no executable at \(serverBinary))")
    }
}

if enabled("articles") {
    if FileManager.default.isExecutableFile(atPath: serverBinary) {
        try SyncBenchmarks(margin: binary, server: serverBinary, work: work, corpus: corpus, runs: runs).articles(count: 5_000)
    } else {
        print("\narticles: skipped — build margin-server first (no executable at \(serverBinary))")
    }
}

if enabled("noop-pulls") {
    if FileManager.default.isExecutableFile(atPath: serverBinary), FileManager.default.isExecutableFile(atPath: "/usr/bin/wrk") {
        try NoOpPullBenchmarks(margin: binary, server: serverBinary, work: work, corpus: corpus).run()
    } else {
        print("\nno-op pulls: skipped — build margin-server first, and install wrk (apt-get install wrk)")
    }
}

// Not part of a default run: needs PostgreSQL, and takes a few minutes.
if only == "backends" {
    try SyncBenchmarks(margin: binary, server: serverBinary, work: work, corpus: corpus, runs: runs).backends()
}

// MARK: - Support

/// Runs a program and measures its wall time; `peakMemory` measures its peak resident
/// memory through GNU time, which forks it from a small process. (The rusage of a child
/// spawned from this process would count this process's own memory at exec.)
enum Spawn {
    struct Outcome {
        var status: Int32
        var seconds: Double
    }

    static let gnuTime = "/usr/bin/time"

    /// Peak resident memory of one run in kilobytes, or `nil` without GNU time.
    static func peakMemory(_ path: String, _ arguments: [String]) throws -> Int? {
        guard FileManager.default.isExecutableFile(atPath: gnuTime) else { return nil }
        let report = work.appendingPathComponent("time-\(UUID().uuidString).txt").path
        let outcome = try run(gnuTime, ["-f", "%M", "-o", report, path] + arguments)
        guard outcome.status == 0, let text = try? String(contentsOfFile: report, encoding: .utf8) else { return nil }
        return Int(text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").last ?? "")
    }

    static func memoryText(_ kilobytes: Int?) -> String {
        kilobytes.map { String(format: "%.1f MB", Double($0) / 1024) } ?? "n/a (install GNU time)"
    }

    /// The seconds `margin` (at `path`) takes to import `folder` into a new library at `store`.
    static func importing(_ path: String, _ folder: URL, into store: String) throws -> Double {
        let run = try run(path, ["--store", store, "import", folder.path])
        guard run.status == 0 else { fatalError("import failed with status \(run.status)") }
        return run.seconds
    }

    static func run(_ path: String, _ arguments: [String]) throws -> Outcome {
        var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let start = DispatchTime.now().uptimeNanoseconds
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let exitStatus = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return Outcome(status: exitStatus, seconds: seconds)
    }
}

/// Deterministic Vietnamese-like text from a fixed vocabulary (SplitMix64).
struct SyntheticCorpus {
    private var random: SeededGenerator
    private static let words = """
        người phát ngôn bộ ngoại giao nga mỹ tổng thống hội nghị thượng đỉnh cuộc gặp điện đàm \
        thỏa thuận hòa bình xung đột ukraine đối thoại song phương chuẩn bị budapest alaska moscow \
        washington ngày tháng năm cho biết nhấn mạnh tuyên bố khả năng diễn ra tiếp tục quan hệ \
        đàm phán vòng ấn định chi tiết thảo luận phản hồi đề xuất kế hoạch vũ khí chiến lược \
        lãnh đạo nhà trắng điện kremlin thứ trưởng ngoại trưởng các những một và của trong với
        """.split(separator: " ").map(String.init)

    init(seed: UInt64) {
        random = SeededGenerator(seed: seed)
    }

    private mutating func next() -> UInt64 {
        random.next()
    }

    private mutating func sentence(words count: Int) -> String {
        var words: [String] = []
        for _ in 0..<count { words.append(Self.words[Int(next() % UInt64(Self.words.count))]) }
        let text = words.joined(separator: " ")
        return text.prefix(1).uppercased() + text.dropFirst() + "."
    }

    /// An article of about 3 KB in the seed format: date, caption, twelve paragraphs.
    mutating func seedFile(index: Int) -> String {
        var paragraphs = [" date 2025-\(String(format: "%02d", index % 12 + 1))-\(String(format: "%02d", index % 28 + 1)) "
            + sentence(words: 12).dropLast() + " (Ảnh: Reuters)."]
        for _ in 0..<12 {
            paragraphs.append((0..<3).map { _ in sentence(words: 14) }.joined(separator: " "))
        }
        return paragraphs.joined(separator: "\n\n") + "./.\n"
    }

    func writeSeedFiles(count: Int, to folder: URL) throws {
        var corpus = self
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for index in 0..<count {
            try Data(corpus.seedFile(index: index).utf8)
                .write(to: folder.appendingPathComponent(String(format: "%06d.txt", index)))
        }
    }

    /// Moves the generator on, so that the next export has other texts and ids.
    mutating func advance() {
        _ = next()
    }

    /// A library export with `articles` articles, each with `annotationsPerArticle` highlights.
    func export(articles: Int, annotationsPerArticle: Int) -> LibraryExport {
        var corpus = self
        let time = Timestamp.now()
        var exported: [LibraryExport.ExportedArticle] = []
        var annotations: [Annotation] = []
        for index in 0..<articles {
            let document = try! DocumentParser.parse(Array(corpus.seedFile(index: index).utf8), fileName: "\(index).txt")
            let article = Article(
                id: Identifier.make(at: time), title: document.title, published: document.published, source: "\(index).txt",
                contentHash: document.contentHash, captions: document.captions, tags: [], createdAt: time, updatedAt: time)
            let text = ArticleText(document.body)
            for note in 0..<annotationsPerArticle {
                let start = (note * 29) % (text.count - 30)
                annotations.append(Annotation(
                    id: Identifier.make(at: time), articleId: article.id, selectors: text.selectors(for: start..<start + 24),
                    note: "note \(note) on article \(index)", tags: ["tag\(note % 7)"], color: .yellow,
                    createdAt: time, updatedAt: time))
            }
            exported.append(LibraryExport.ExportedArticle(article: article, body: document.body))
        }
        return LibraryExport(exportedAt: time, articles: exported, annotations: annotations)
    }
}
