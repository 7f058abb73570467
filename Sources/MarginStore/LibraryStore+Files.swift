import Foundation
import MarginCore

/// What `importFiles` did with a batch of files and folders.
public struct FileImportReport: Sendable {
    /// Articles added, with the file each came from.
    public var imported: [(path: String, article: Article)] = []
    /// Files whose body the library already held, with that article's id.
    public var skipped: [(path: String, existingId: String)] = []
    /// Files that could not be imported, each with a one-line reason naming the file.
    public var failures: [(path: String, message: String)] = []
    /// Totals over the margin exports among the files.
    public var exports = ExportImportReport()
}

extension LibraryStore {
    /// Documents written per transaction: bounds memory and keeps each commit large.
    static let importBatchSize = 500

    /// Imports files and folders (recursively, skipping hidden entries): seed files, plain
    /// `.txt`/`.md` text and margin JSON exports. A file that fails is reported and the
    /// rest still import.
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
        var done = 0
        for start in stride(from: 0, to: files.count, by: Self.importBatchSize) {
            let batch = Array(files[start..<min(start + Self.importBatchSize, files.count)])
            var documents: [(path: String, document: SourcedDocument)] = []
            for (path, result) in zip(batch, Self.parse(batch)) {
                switch result {
                case .success(.document(let document)): documents.append((path, document))
                case .success(.export(let export)):
                    do {
                        let exported = try importExport(export)
                        report.exports.importedArticles += exported.importedArticles
                        report.exports.skippedArticles += exported.skippedArticles
                        report.exports.importedAnnotations += exported.importedAnnotations
                        report.exports.skippedAnnotations += exported.skippedAnnotations
                    } catch {
                        report.failures.append((path, "\(path): \(error.message)"))
                    }
                case .failure(let error): report.failures.append((path, error.message))
                }
            }
            for (item, outcome) in zip(documents, try importDocuments(documents.map(\.document))) {
                switch outcome {
                case .imported(let article): report.imported.append((item.path, article))
                case .skipped(let existingId): report.skipped.append((item.path, existingId))
                }
            }
            done += batch.count
            progress(done, files.count)
        }
        return report
    }

    private enum ParsedFile: Sendable {
        case document(SourcedDocument)
        case export(LibraryExport)
    }

    /// Reads and parses files on every core; results keep the order of `paths`.
    private static func parse(_ paths: [String]) -> [Result<ParsedFile, MarginError>] {
        let results = ResultSlots<Result<ParsedFile, MarginError>>(count: paths.count)
        DispatchQueue.concurrentPerform(iterations: paths.count) { index in
            results[index] = parseFile(paths[index])
        }
        return results.values
    }

    private static func parseFile(_ path: String) -> Result<ParsedFile, MarginError> {
        guard let data = FileManager.default.contents(atPath: path) else {
            return .failure(MarginError(.io, "\(path): cannot be read; check that it exists and its permissions"))
        }
        let bytes = [UInt8](data)
        let name = (path as NSString).lastPathComponent
        do throws(MarginError) {
            if name.lowercased().hasSuffix(".json") || LibraryExport.isJSONObject(bytes) {
                return .success(.export(try LibraryExport.decode(bytes, fileName: path)))
            }
            let document = try DocumentParser.parse(bytes, fileName: path)
            return .success(.document(SourcedDocument(document: document, source: name)))
        } catch {
            return .failure(error)
        }
    }

    /// The regular files at `path`: itself, or everything under it, sorted, hidden entries skipped.
    private static func expand(_ path: String) throws(MarginError) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw MarginError(.notFound, "\(path): no such file or folder")
        }
        guard isDirectory.boolValue else { return [path] }
        guard let enumerator = FileManager.default.enumerator(
            at: URL(fileURLWithPath: path), includingPropertiesForKeys: [.isRegularFileKey],
            options: [.skipsHiddenFiles])
        else { throw MarginError(.io, "\(path): the folder cannot be read") }
        var files: [String] = []
        for case let url as URL in enumerator
        where (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
            files.append(url.path)
        }
        return files.sorted()
    }
}

/// Slots written by index from concurrent iterations, each slot by exactly one.
private final class ResultSlots<Value>: @unchecked Sendable {
    // Safe: `concurrentPerform` gives each index to one iteration, so no slot is written
    // twice, and `values` is read only after every iteration has returned. A raw buffer
    // (not an Array) so concurrent writes to different slots share no bookkeeping.
    private let slots: UnsafeMutableBufferPointer<Value?>

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

    var values: [Value] { slots.map { $0! } }
}
