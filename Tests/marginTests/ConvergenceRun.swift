import Foundation
import MarginCore
import MarginStore
import MarginSync
import MarginTestSupport

/// One device of a randomized run: a store in a folder of its own, synced in process.
final class FuzzDevice: Sendable {
    let name: String
    let store: LibraryStore
    private let folder: URL
    private let token: String
    private let remote: RemoteSettings

    /// A device of the user `token` belongs to, syncing with `url`.
    init(name: String, url: String, token: String) throws {
        self.name = name
        self.token = token
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("margin-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        store = try LibraryStore(path: folder.appendingPathComponent("library.sqlite").path)
        remote = RemoteSettings(url: url, tokenFile: nil, insecure: false)
        try store.setRemote(remote)
    }

    deinit {
        try? FileManager.default.removeItem(at: folder)
    }

    @discardableResult
    func sync(_ options: SyncOptions = SyncOptions()) throws -> SyncReport {
        try SyncEngine(store: store, remote: remote, token: token, options: options).run()
    }

    func state() throws -> LibraryState {
        try LibraryState(store)
    }
}

/// The articles a run imports: the five seeds, each also with one or two paragraphs
/// added (a re-import of changed text is a new article); and the newer texts it gives them.
enum ArticlePool {
    /// What starts the paragraph an update adds.
    static let updateMark = "\n\nCập nhật "

    /// A newer copy of `article`, whose text is `body` with a paragraph naming `word` added:
    /// the same page, updated.
    static func update(of article: Article, body: String, word: String) throws -> SourcedDocument {
        let document = ParsedDocument(
            format: .plainText, title: article.title, published: article.published, body: body + updateMark + word + ".",
            captions: article.captions)
        return try SourcedDocument(document: document, source: article.source ?? "update")
    }

    static let documents: [SourcedDocument] = {
        let folder = URL(fileURLWithPath: MarginProcess.seeds)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()) ?? []
        return names.flatMap { name -> [SourcedDocument] in
            guard let text = try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8) else { return [] }
            return (0..<3).compactMap { variant in
                let changed = text + String(repeating: "\n\nĐoạn bổ sung cho bản cập nhật.", count: variant)
                guard let document = try? DocumentParser.parse(Array(changed.utf8), fileName: name) else { return nil }
                return try? SourcedDocument(document: document, source: name)
            }
        }
    }()
}

/// A seeded sequence of edits and syncs on 3–5 devices of one new user, with the ledger of
/// what they typed. Through a `FaultProxy`, a sync may fail, but only as a network or
/// server failure said in one line; `failedSyncs` counts them. With `pauses`, time also
/// passes now and then (two seconds), so that a server that purges tombstones soon resets
/// devices that fell behind; `resets` counts them.
struct ConvergenceRun {
    private let server: ServerProcess
    private let url: String
    private let faulty: Bool
    private let pauses: Bool
    /// Whether articles' texts are updated too.
    private let updates: Bool
    private let seed: UInt64
    private var random: SeededGenerator
    private var devices: [FuzzDevice] = []
    private var ledger = EditLedger()
    private var words = 0
    /// The operations played, for a failure message.
    private(set) var trace: [String] = []
    /// The errors of the syncs that failed, by message.
    private(set) var failedSyncs: [String: Int] = [:]
    /// How many syncs were resets (the server had purged history past the device's cursor).
    private(set) var resets = 0

    /// A run on `server`, its devices syncing directly or through `proxy`.
    init(server: ServerProcess, seed: UInt64, through proxy: FaultProxy? = nil, pauses: Bool = false, updates: Bool = false) throws {
        self.server = server
        self.seed = seed
        self.pauses = pauses
        self.updates = updates
        url = proxy?.url ?? server.url
        faulty = proxy != nil
        random = SeededGenerator(seed: seed)
        let user = "fuzz-\(seed)"
        let count = Int.random(in: 3...5, using: &random)
        for index in 0..<count {
            let token = index == 0 ? try server.addUser(user) : try server.issueToken(user)
            devices.append(try FuzzDevice(name: "d\(index)", url: url, token: token))
        }
    }

    /// Plays `rounds` random operations.
    mutating func play(rounds: Int) throws {
        for round in 0..<rounds {
            let device = devices.randomElement(using: &random)!
            let operation = random.weighted([
                (6, "import"), (10, "annotate"), (16, "note"), (8, "tags"), (4, "color"), (4, "title"),
                (4, "delete annotation"), (1, "delete article"), (2, "restore"), (22, "sync"), (5, "sync together"),
                (updates ? 4 : 0, "update"),
                (pauses ? 10 : 0, "pause"),
            ])
            switch operation {
            case "pause":
                Thread.sleep(forTimeInterval: 2)
                trace.append("\(round): two seconds pass")
            case "sync":
                let outcome = try sync(device, randomOptions())
                trace.append("\(round): \(device.name) sync: \(outcome)")
            case "sync together": try syncTogether(round)
            default:
                let before = try device.state()
                let detail = try edit(device, operation, before)
                trace.append("\(round): \(device.name) \(operation) \(detail)")
                ledger.record(device.name, before: before, after: try device.state())
            }
        }
    }

    /// Syncs every device twice with no edits in between, then a new device once; returns
    /// what differs from that new device's library (the server's) and what was lost.
    mutating func settle() throws -> [String] {
        for _ in 0..<2 {
            for device in devices { trace.append("settle: \(device.name) sync: \(try sync(device, randomOptions()))") }
        }
        let fresh = try FuzzDevice(name: "new", url: url, token: try server.issueToken("fuzz-\(seed)"))
        try fresh.sync(randomOptions())
        let final = try fresh.state()
        var failures: [String] = []
        for device in devices + [fresh] {
            let state = try device.state()
            if state != final {
                failures.append("\(device.name) differs from the server:")
                failures += state.differences(from: final).map { "  " + $0 }
            }
            let pending = try device.store.syncStatus().pendingChanges
            if pending != 0 { failures.append("\(device.name) still has \(pending) pending changes") }
            if try device.store.hasParkedRecords() { failures.append("\(device.name) has annotations waiting for their article") }
            let integrity = try device.store.integrityCheck()
            if integrity != ["ok"] { failures.append("\(device.name) integrity_check: \(integrity)") }
        }
        failures += ledger.check(final)
        return failures
    }

    // MARK: - Operations

    private mutating func randomOptions() -> SyncOptions {
        var options = SyncOptions()
        // Through faults, a delayed reply outlasts a request and a sync gives up soon.
        options.timeout = faulty ? .seconds(4) : .seconds(30)
        if faulty { options.requestTimeout = .seconds(1) }
        if random.chance(50) { options.pushBatchCount = Int.random(in: 1...6, using: &random) }
        if random.chance(50) { options.pullPageCount = Int.random(in: 1...6, using: &random) }
        return options
    }

    /// Two or more devices sync at the same moment, each on a thread of its own.
    private mutating func syncTogether(_ round: Int) throws {
        let group = Array(devices.shuffled(using: &random).prefix(Int.random(in: 2...devices.count, using: &random)))
        let options = group.map { _ in randomOptions() }
        let outcomes = Locked<[Int: Result<SyncReport, any Error>]>([:])
        DispatchQueue.concurrentPerform(iterations: group.count) { index in
            let outcome = Result { try group[index].sync(options[index]) }
            outcomes.withLock { $0[index] = outcome }
        }
        let all = outcomes.withLock { $0 }
        var lines: [String] = []
        for index in group.indices { lines.append("\(group[index].name) \(try judge(all[index]!))") }
        trace.append("\(round): sync together: \(lines.joined(separator: "; "))")
    }

    /// Syncs `device`, saying what happened.
    private mutating func sync(_ device: FuzzDevice, _ options: SyncOptions) throws -> String {
        try judge(Result { try device.sync(options) })
    }

    /// What a sync did, or its error when the network may fail and the error is one it
    /// may end with (a network or server failure, said in one line); else throws.
    private mutating func judge(_ outcome: Result<SyncReport, any Error>) throws -> String {
        switch outcome {
        case .success(let report):
            if report.reset { resets += 1 }
            return Self.describe(report)
        case .failure(let error as SyncError) where faulty && [.network, .server].contains(error.code) && !error.message.contains("\n"):
            failedSyncs[error.message, default: 0] += 1
            return "failed: \(error.message)"
        case .failure(let error):
            throw FuzzFailure(description: "a sync failed: \(error)")
        }
    }

    private static func describe(_ report: SyncReport) -> String {
        let outcomes = report.outcomes.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }
        return "pushed \(report.pushed) (\(outcomes.joined(separator: ", "))), pulled \(report.pulled)\(report.reset ? ", reset" : "")"
    }

    private mutating func word() -> String {
        words += 1
        return "w\(seed % 1000)x\(words)"
    }

    /// Makes one edit on `device` and says what it did.
    private mutating func edit(_ device: FuzzDevice, _ operation: String, _ state: LibraryState) throws -> String {
        let store = device.store
        let articles = state.articles.keys.sorted()
        let annotations = state.annotations.keys.sorted()
        switch operation {
        case "import":
            let outcome = try store.importDocuments([ArticlePool.documents.randomElement(using: &random)!])
            return "\(outcome)"
        case "annotate":
            guard let articleId = articles.randomElement(using: &random) else { return "nothing to annotate" }
            let length = state.articles[articleId]!.body.unicodeScalars.count
            let start = Int.random(in: 0..<(length - 30), using: &random)
            let note = (0..<Int.random(in: 0...2, using: &random)).map { _ in word() }.joined(separator: "\n")
            let tags = random.chance(50) ? [word()] : []
            let annotation = try store.annotate(
                articleId: articleId, target: .range(start..<(start + Int.random(in: 3...25, using: &random))), note: note,
                tags: tags, color: HighlightColor.allCases.randomElement(using: &random)!)
            return "\(annotation.id) on \(articleId): note \(note.debugDescription), tags \(tags), \(annotation.color)"
        case "note":
            guard let id = annotations.randomElement(using: &random) else { return "nothing to edit" }
            var lines = state.annotations[id]!.note.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if lines == [""] { lines = [] }
            switch (Int.random(in: 0..<5, using: &random), lines.isEmpty) {
            case (0, false): lines[Int.random(in: 0..<lines.count, using: &random)] = word()
            case (1, false): lines.remove(at: Int.random(in: 0..<lines.count, using: &random))
            case (2, false): lines.insert(word(), at: Int.random(in: 0...lines.count, using: &random))
            case (3, false):
                // A word added to a line: edits of different words of one line merge.
                let index = Int.random(in: 0..<lines.count, using: &random)
                lines[index] += " " + word()
            default: lines = (0..<Int.random(in: 1...3, using: &random)).map { _ in word() }
            }
            let note = lines.joined(separator: "\n")
            _ = try store.editAnnotation(id: id, AnnotationChanges(note: note))
            return "\(id): \(state.annotations[id]!.note.debugDescription) → \(note.debugDescription)"
        case "tags":
            let onArticle = random.chance(30)
            guard let id = (onArticle ? articles : annotations).randomElement(using: &random) else { return "nothing to edit" }
            let current = onArticle ? state.articles[id]!.article.tags : state.annotations[id]!.tags
            let remove = random.chance(40) ? current.randomElement(using: &random).map { [$0] } ?? [] : []
            let add = random.chance(70) || remove.isEmpty ? [word()] : []
            if onArticle {
                _ = try store.editArticle(id: id, ArticleChanges(addTags: add, removeTags: remove))
            } else {
                _ = try store.editAnnotation(id: id, AnnotationChanges(addTags: add, removeTags: remove))
            }
            return "\(id): +\(add) -\(remove)"
        case "color":
            guard let id = annotations.randomElement(using: &random) else { return "nothing to edit" }
            let color = HighlightColor.allCases.randomElement(using: &random)!
            _ = try store.editAnnotation(id: id, AnnotationChanges(color: color))
            return "\(id): \(color)"
        case "title":
            guard let id = articles.randomElement(using: &random) else { return "nothing to edit" }
            let title = "Title \(word())"
            _ = try store.editArticle(id: id, ArticleChanges(title: title))
            return "\(id): \(title)"
        case "update":
            // A newer copy of the page: a paragraph added after the earlier ones, or, half
            // the time, the earlier update's paragraph replaced (its highlights orphaned).
            guard let id = articles.randomElement(using: &random) else { return "nothing to update" }
            let exported = state.articles[id]!
            var body = exported.body
            if random.chance(50), let mark = body.range(of: ArticlePool.updateMark) { body = String(body[..<mark.lowerBound]) }
            let outcome = try store.refresh([(id, try ArticlePool.update(of: exported.article, body: body, word: word()))])
            return "\(id): \(outcome)"
        case "delete annotation":
            guard let id = annotations.randomElement(using: &random) else { return "nothing to edit" }
            try store.deleteAnnotation(id: id)
            return id
        case "delete article":
            guard let id = articles.randomElement(using: &random) else { return "nothing to edit" }
            try store.deleteArticle(id: id)
            return id
        case "restore":
            guard let conflict = state.conflicts.randomElement(using: &random) else { return "nothing to edit" }
            do {
                _ = try store.restoreConflict(id: conflict.id)
            } catch {
                // Its record is gone here, or the value cannot be put back: nothing changed.
                guard error.code == .notFound || error.code == .invalidInput else { throw error }
                return "\(conflict.id): not restored (\(error.message))"
            }
            return "\(conflict.id) (\(conflict.kind) of \(conflict.recordId) \(conflict.field?.rawValue ?? ""))"
        default:
            preconditionFailure("unknown operation \(operation)")
        }
    }
}

struct FuzzFailure: Error, CustomStringConvertible {
    let description: String
}
