import Foundation
import MarginCore
import MarginExtract
import MarginStore
import Synchronization

/// Imports web pages by their address: each is fetched (`WebPageFetcher`, a few at a time),
/// its article read (`WebPage`), and the articles added to the store a batch at a time, so
/// that an interrupted import keeps what it finished. A page that fails is reported with
/// its address and the cause; the others still import. An address already in the library
/// (its canonical address) is skipped when its text is the same; when it is not, the
/// article takes the new text (`LibraryStore.importDocuments`).
public struct WebImporter: Sendable {
    /// Pages fetched at the same time.
    public static let concurrentFetches = 4
    /// Pages written to the store per transaction.
    static let batchSize = 16

    private let insecure: Bool
    private let timeout: Duration

    /// An importer; `timeout` bounds each page, `insecure` skips TLS checks (explicitly only).
    public init(insecure: Bool, timeout: Duration) {
        self.insecure = insecure
        self.timeout = timeout
    }

    /// Fetches and imports `urls` into `store`. `progress` is called as each page is read,
    /// from the thread that read it (one call at a time), with (pages done, pages in all).
    public func importPages(
        _ urls: [String], into store: LibraryStore, progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }
    ) throws(MarginError) -> FileImportReport {
        try read(urls, progress: progress) { _, documents throws(MarginError) in try store.importDocuments(documents) }
    }

    /// Fetches each article's page again (`articles` pairs ids with their addresses) and
    /// gives the article the page's text when it changed (`LibraryStore.refresh`).
    public func refresh(
        _ articles: [(id: String, url: String)], in store: LibraryStore,
        progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }
    ) throws(MarginError) -> FileImportReport {
        try read(articles.map(\.url), progress: progress) { indices, documents throws(MarginError) in
            try store.refresh(Array(zip(indices.map { articles[$0].id }, documents)))
        }
    }

    /// Fetches and reads `urls` a batch at a time, writing each batch's documents with
    /// `write` (given their indices in `urls`) before the next is fetched.
    private func read(
        _ urls: [String], progress: @escaping @Sendable (Int, Int) -> Void,
        write: ([Int], [SourcedDocument]) throws(MarginError) -> [ImportOutcome]
    ) throws(MarginError) -> FileImportReport {
        var report = FileImportReport()
        let done = Mutex(0)
        for start in stride(from: 0, to: urls.count, by: Self.batchSize) {
            let batch = start..<min(start + Self.batchSize, urls.count)
            let results = fetchAndRead(Array(urls[batch])) {
                done.withLock { count in
                    count += 1
                    progress(count, urls.count)
                }
            }
            var read: [(index: Int, document: SourcedDocument)] = []
            for (index, result) in zip(batch, results) {
                switch result {
                case .success(let document): read.append((index, document))
                case .failure(let error): report.failures.append((urls[index], error.message))
                }
            }
            let outcomes = try write(read.map(\.index), read.map(\.document))
            for (index, outcome) in zip(read.map(\.index), outcomes) { report.record(outcome, path: urls[index]) }
        }
        return report
    }

    /// The article of a page fetched from (or saved from) `page.url`, ready to import, or
    /// why there is none, naming the address.
    public static func document(_ page: FetchedPage, requested: String) throws(MarginError) -> SourcedDocument {
        do throws(MarginError) {
            let address = page.url.isEmpty ? nil : page.url
            let document = try WebPage.read(page.body, kind: page.kind, contentType: page.contentType, url: address)
            return try SourcedDocument(document: document, source: address ?? requested)
        } catch {
            throw MarginError(error.code, "\(requested): \(error.message)")
        }
    }

    /// Fetches and reads `urls` on `concurrentFetches` threads, each with a fetcher of its
    /// own, calling `finished` after each page; the results come in the order of `urls`.
    private func fetchAndRead(_ urls: [String], finished: @escaping @Sendable () -> Void) -> [Result<SourcedDocument, MarginError>] {
        let state = Mutex((next: 0, results: [Result<SourcedDocument, MarginError>?](repeating: nil, count: urls.count)))
        let group = DispatchGroup()
        for _ in 0..<min(Self.concurrentFetches, urls.count) {
            group.enter()
            Thread.detachNewThread { [insecure, timeout] in
                defer { group.leave() }
                let fetcher: Result<WebPageFetcher, MarginError> = Result { () throws(MarginError) in
                    try WebPageFetcher(insecure: insecure, timeout: timeout)
                }
                while true {
                    guard let index = state.withLock({ state -> Int? in
                        guard state.next < urls.count else { return nil }
                        defer { state.next += 1 }
                        return state.next
                    }) else { return }
                    let url = urls[index]
                    let result = Result { () throws(MarginError) -> SourcedDocument in
                        try Self.document(try fetcher.get().fetch(url), requested: url)
                    }
                    state.withLock { $0.results[index] = result }
                    finished()
                }
            }
        }
        group.wait()
        return state.withLock { $0.results.map { $0! } }
    }
}
