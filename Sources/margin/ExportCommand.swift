import ArgumentParser
import Foundation
import MarginCore

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write the whole library as JSON, W3C Web Annotations or Markdown.",
        discussion: "json re-imports with 'margin import' to an identical library; w3c is JSON-LD.")

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case json, w3c, markdown
    }

    @OptionGroup var library: LibraryOptions
    @Option(help: "json, w3c or markdown.") var format: Format = .json
    @Option(name: .shortAndLong, help: "Write to this file (mode 0600) instead of standard output.") var output: String?

    func run() throws {
        let export = try library.open().exportLibrary()
        let data: Data
        switch format {
        case .json:
            data = try export.encoded()
        case .w3c:
            let articles = Dictionary(uniqueKeysWithValues: export.articles.map { ($0.article.id, $0.article) })
            let document = W3CExport.document(annotations: export.annotations, articles: articles, id: Identifier.make())
            data = try JSONEncoder.marginOutput.encode(document)
        case .markdown:
            let grouped = Dictionary(grouping: export.annotations, by: \.articleId)
            data = Data(MarkdownExport.document(articles: export.articles.map(\.article), annotations: grouped).utf8)
        }
        var text = data
        if text.last != UInt8(ascii: "\n") { text.append(UInt8(ascii: "\n")) }
        guard let output else {
            FileHandle.standardOutput.write(text)
            return
        }
        guard FileManager.default.createFile(atPath: output, contents: text, attributes: [.posixPermissions: 0o600]) else {
            throw ExportFailure(path: output)
        }
    }
}

private struct ExportFailure: Error, CustomStringConvertible {
    var path: String
    var description: String { "cannot write \(path); check the folder exists and is writable" }
}
