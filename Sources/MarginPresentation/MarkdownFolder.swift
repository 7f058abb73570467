import Foundation
import MarginCore

/// A folder of Markdown files, one per article (`margin export --per-article`), that
/// exports write again and again. A file is found by the article id in its front matter,
/// whatever the user renamed it to; a new one is named `MarkdownExport.fileName`. Only
/// the marked block and the export's front matter keys are rewritten (`MarkdownExport.updated`);
/// a file whose block markers are gone is left as it is and reported. Each file is
/// replaced atomically and flushed to disk, so a crash leaves the old file or the new one.
public struct MarkdownFolder: Sendable {
    /// What an export did, file names in the folder.
    public struct Report: Sendable, Hashable {
        public var created: [String] = []
        public var updated: [String] = []
        public var unchanged: [String] = []
        /// Files left as they were, and why.
        public var skipped: [Skipped] = []
    }

    /// A file an export left as it was.
    public struct Skipped: Sendable, Hashable {
        public var file: String
        public var reason: String
    }

    /// Files larger than this are not read when the folder is indexed (no export writes one).
    static let largestFileRead = 16 * 1024 * 1024

    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// Writes each entry's file, creating the folder (mode 0700) if needed.
    public func export(_ entries: [MarkdownExport.Entry], template: MarkdownTemplate) throws(MarginError) -> Report {
        let files = FileManager.default
        do {
            try files.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw MarginError(.io, "cannot create the folder \(path): \(error.localizedDescription)")
        }
        let existing = try index()
        var report = Report()
        for entry in entries {
            if let name = existing[entry.article.id] {
                let file = url(name)
                guard let text = try? String(contentsOf: file, encoding: .utf8) else {
                    report.skipped.append(Skipped(file: name, reason: "it cannot be read as UTF-8 text"))
                    continue
                }
                guard let new = MarkdownExport.updated(text, with: entry, template: template) else {
                    report.skipped.append(Skipped(
                        file: name,
                        reason: "its block markers are missing or repeated; put back the lines \(MarkdownExport.blockStart) and \(MarkdownExport.blockEnd), or delete the file"))
                    continue
                }
                if new == text {
                    report.unchanged.append(name)
                } else {
                    try replace(name, with: new)
                    report.updated.append(name)
                }
            } else {
                let name = MarkdownExport.fileName(entry.article)
                guard !files.fileExists(atPath: url(name).path) else {
                    report.skipped.append(Skipped(file: name, reason: "a file of that name exists and is not this article's"))
                    continue
                }
                try replace(name, with: MarkdownExport.file(entry, template: template))
                report.created.append(name)
            }
        }
        try flushFolder()
        return report
    }

    /// The article id of each Markdown file in the folder that names one; when several
    /// files name the same article, the first by name.
    func index() throws(MarginError) -> [String: String] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".md") && !$0.hasPrefix(".") }.sorted()
        } catch {
            throw MarginError(.io, "cannot list the folder \(path): \(error.localizedDescription)")
        }
        var index: [String: String] = [:]
        for name in names {
            let file = url(name)
            guard let size = (try? FileManager.default.attributesOfItem(atPath: file.path))?[.size] as? Int,
                  size <= Self.largestFileRead, let text = try? String(contentsOf: file, encoding: .utf8),
                  let id = MarkdownExport.articleId(inFile: text.replacingOccurrences(of: "\r\n", with: "\n")),
                  index[id] == nil
            else { continue }
            index[id] = name
        }
        return index
    }

    private func url(_ name: String) -> URL {
        URL(fileURLWithPath: path).appendingPathComponent(name)
    }

    /// Puts `text` at `name`: written to a temporary file beside it (with the old file's
    /// permissions, else 0600), flushed, then renamed over it.
    private func replace(_ name: String, with text: String) throws(MarginError) {
        let target = url(name).path
        let temporary = url(".\(name).\(UUID().uuidString).tmp").path
        let mode = (try? FileManager.default.attributesOfItem(atPath: target))?[.posixPermissions] as? Int ?? 0o600
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
            throw MarginError(.io, "cannot write in \(path); check the folder is writable")
        }
        do {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
            defer { try? handle.close() }
            try handle.synchronize()
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw MarginError(.io, "cannot flush \(temporary) to disk: \(error.localizedDescription)")
        }
        guard rename(temporary, target) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw MarginError(.io, "cannot replace \(target): \(reason)")
        }
    }

    /// Flushes the folder, so that the renames in it survive a power cut.
    private func flushFolder() throws(MarginError) {
        do {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            try handle.synchronize()
        } catch {
            throw MarginError(.io, "cannot flush the folder \(path) to disk: \(error.localizedDescription)")
        }
    }
}
