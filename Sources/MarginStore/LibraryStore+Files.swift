import Foundation
import MarginCore
import MarginExtract

/// What `importFiles` did with a batch of files and folders. It keeps a few strings per
/// file, not the articles, so that importing many files needs little memory.
public struct FileImportReport: Sendable {
    /// Articles added: the file each came from, its id and title.
    public var imported: [(path: String, id: String, title: String)] = []
    /// Files whose body the library already held, with that article's id.
    public var skipped: [(path: String, existingId: String)] = []
    /// Pages from an address the library held with another text: the articles updated,
    /// with how their annotations stand in the new text.
    public var updated: [(path: String, id: String, title: String, annotations: AnchorCounts)] = []
    /// Files that could not be imported, each with a one-line reason naming the file.
    public var failures: [(path: String, message: String)] = []
    /// Totals over the margin exports among the files.
    public var exports = ExportImportReport()
    /// Totals over the files of highlights from other tools.
    public var highlights = HighlightImportReport()

    public init() {}

    /// Adds the counts of another import to these.
    public mutating func merge(_ other: FileImportReport) {
        imported += other.imported
        skipped += other.skipped
        updated += other.updated
        failures += other.failures
        exports.add(other.exports)
        highlights.add(other.highlights)
    }

    /// Counts what importing the article read from `path` (a file or an address) did.
    public mutating func record(_ outcome: ImportOutcome, path: String) {
        switch outcome {
        case .imported(let article): imported.append((path, article.id, article.title))
        case .skipped(let existingId): skipped.append((path, existingId))
        case .updated(let article, let annotations): updated.append((path, article.id, article.title, annotations))
        }
    }
}

extension LibraryStore {
    /// Files parsed at a time (while the previous batch is written): bounds memory.
    static let importBatchSize = 500
    /// Parsed batches written per transaction: large commits keep the search index from
    /// merging many small segments; smaller ones would hold the write lock for less time.
    static let batchesPerTransaction = 4

    /// Imports files and folders (recursively, skipping hidden entries): seed files, plain
    /// `.txt`/`.md` text, saved web pages (`.html`, `.htm`, `.xhtml`: their article, as
    /// `WebPage` reads it), margin JSON exports, and highlights from other tools
    /// (`ForeignHighlights`: Hypothesis and W3C JSON, Readwise CSV), added after the articles.
    /// A file that fails is reported and the rest still import.
    ///
    /// - Parameter progress: called after each batch with (files done, files in all).
    public func importFiles(
        _ paths: [String], progress: (Int, Int) -> Void = { _, _ in }
    ) throws(MarginError) -> FileImportReport {
        var report = FileImportReport()
        var files: [String] = []
        for path in paths {
            do {
                files += try Self.expand(path)
            } catch {
                report.failures.append((path, error.message))
            }
        }
        // Batches are parsed on every core while the previous batch is being written.
        let batches = stride(from: 0, to: files.count, by: Self.importBatchSize).map {
            Array(files[$0..<min($0 + Self.importBatchSize, files.count)])
        }
        var done = 0
        var highlightFiles: [(path: String, highlights: ForeignHighlights)] = []
        var next = batches.first.map(Self.parseInBackground)
        for group in stride(from: 0, to: batches.count, by: Self.batchesPerTransaction) {
            var exports: [(path: String, export: LibraryExport)] = []
            var failures: [(path: String, message: String)] = []
            var outcomes: [(path: String, outcome: ImportOutcome)] = []
            let time = now()
            try mutate { db, recorder in
                for index in group..<min(group + Self.batchesPerTransaction, batches.count) {
                    let parsed = next!.wait()
                    next = index + 1 < batches.count ? Self.parseInBackground(batches[index + 1]) : nil
                    var documents: [(path: String, document: SourcedDocument)] = []
                    for (path, result) in zip(batches[index], parsed) {
                        switch result {
                        case .success(.document(let document)): documents.append((path, document))
                        case .success(.export(let export)): exports.append((path, export))
                        case .success(.highlights(let highlights)): highlightFiles.append((path, highlights))
                        case .failure(let error): failures.append((path, error.message))
                        }
                    }
                    let inserted = try Self.insert(documents.map(\.document), db, &recorder, time: time)
                    outcomes += zip(documents, inserted).map { ($0.path, $1) }
                    done += batches[index].count
                    progress(done, files.count)
                }
            }
            // Counted only once committed.
            for (path, outcome) in outcomes { report.record(outcome, path: path) }
            report.failures += failures
            for (path, export) in exports {
                do {
                    report.exports.add(try importExport(export))
                } catch {
                    report.failures.append((path, "\(path): \(error.message)"))
                }
            }
        }
        // After every article, so that highlights find those imported with them.
        for (path, file) in highlightFiles {
            do {
                report.highlights.add(try importHighlights(file.byDocument))
                report.highlights.unquoted += file.unquoted
            } catch {
                report.failures.append((path, "\(path): \(error.message)"))
            }
        }
        return report
    }

    private enum ParsedFile: Sendable {
        case document(SourcedDocument)
        case export(LibraryExport)
        case highlights(ForeignHighlights)
    }

    /// Starts reading and parsing `paths` on every core; `wait()` gives the results in
    /// the order of `paths`.
    private static func parseInBackground(_ paths: [String]) -> PendingResults<Result<ParsedFile, MarginError>> {
        let pending = PendingResults<Result<ParsedFile, MarginError>>(count: paths.count)
        DispatchQueue.global().async {
            DispatchQueue.concurrentPerform(iterations: paths.count) { index in
                pending[index] = parseFile(paths[index])
            }
            pending.finish()
        }
        return pending
    }

    private static func parseFile(_ path: String) -> Result<ParsedFile, MarginError> {
        guard let data = FileManager.default.contents(atPath: path) else {
            return .failure(MarginError(.io, "\(path): cannot be read; check that it exists and its permissions"))
        }
        let bytes = [UInt8](data)
        let name = (path as NSString).lastPathComponent
        do throws(MarginError) {
            if let highlights = try ForeignHighlights.read(bytes, fileName: path) { return .success(.highlights(highlights)) }
            if name.lowercased().hasSuffix(".json") || LibraryExport.isJSONObject(bytes) {
                return .success(.export(try LibraryExport.decode(bytes, fileName: path)))
            }
            let fileExtension = (name as NSString).pathExtension.lowercased()
            let document: ParsedDocument
            if WebPage.fileExtensions.contains(fileExtension) {
                do {
                    document = try WebPage.read(bytes, contentType: nil, url: nil)
                } catch {
                    throw MarginError(error.code, "\(path): \(error.message)")
                }
            } else {
                document = try DocumentParser.parse(bytes, fileName: path)
            }
            do {
                return .success(.document(try SourcedDocument(document: document, source: name)))
            } catch {
                return .failure(MarginError(error.code, "\(path): \(error.message)"))
            }
        } catch {
            return .failure(error)
        }
    }

    /// The regular files at `path`: itself, or everything under it, sorted, hidden entries skipped.
    private static func expand(_ path: String) throws(MarginError) -> [String] {
        var info = stat()
        guard stat(path, &info) == 0 else { throw MarginError(.notFound, "\(path): no such file or folder") }
        guard info.st_mode & S_IFMT == S_IFDIR else { return [path] }
        guard let enumerator = FileManager.default.enumerator(atPath: path) else {
            throw MarginError(.io, "\(path): the folder cannot be read")
        }
        let base = path.hasSuffix("/") ? path : path + "/"
        var files: [String] = []
        while let relative = enumerator.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            let full = base + relative
            guard stat(full, &info) == 0 else { continue }
            if name.hasPrefix(".") {
                if info.st_mode & S_IFMT == S_IFDIR { enumerator.skipDescendants() }
                continue
            }
            if info.st_mode & S_IFMT == S_IFREG { files.append(full) }
        }
        return files.sorted()
    }
}

/// Results written by index from concurrent iterations, each slot by exactly one, and read
/// once all are written.
private final class PendingResults<Value>: @unchecked Sendable {
    // Safe: `concurrentPerform` gives each index to one iteration, so no slot is written
    // twice, and the slots are read only after `finish()` has signalled that every
    // iteration has returned. A raw buffer (not an Array) so concurrent writes to
    // different slots share no bookkeeping.
    private let slots: UnsafeMutableBufferPointer<Value?>
    private let finished = DispatchSemaphore(value: 0)

    init(count: Int) {
        slots = .allocate(capacity: count)
        slots.initialize(repeating: nil)
    }

    deinit {
        slots.deinitialize()
        slots.deallocate()
    }

    subscript(index: Int) -> Value? {
        get { slots[index] }
        set { slots[index] = newValue }
    }

    func finish() {
        finished.signal()
    }

    /// Blocks until every slot is written, then returns them in order.
    func wait() -> [Value] {
        finished.wait()
        return slots.map { $0! }
    }
}
