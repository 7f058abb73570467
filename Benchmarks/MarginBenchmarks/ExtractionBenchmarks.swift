import Foundation
import MarginCore
import MarginExtract
import MarginTestSupport

/// How well and how fast `WebPage.read` finds the article in a folder of pages
/// (`Tests/WebPages` unless `--pages` names another, laid out the same way): word-level F1
/// of each page's text against the expected text, and pages read per second (decoding,
/// parsing, extracting; in process), on one core and on every core at once.
struct ExtractionBenchmarks {
    let rounds: Int
    let folder: URL

    func run() throws {
        let corpus = try WebPageCorpus(folder: folder)
        print("web page extraction (\(corpus.pages.count) pages of \(folder.path)):")
        print("  page                  words   precision  recall   F1")
        var scores: [Double] = []
        for page in corpus.pages {
            let label = "  " + page.name.padding(toLength: max(22, page.name.count + 1), withPad: " ", startingAt: 0)
            do {
                let document = try WebPage.read(page.html, contentType: nil, url: nil)
                if page.expected == nil, page.metadata.isEmpty {
                    print(label + "\(document.body.split(separator: " ").count) words read (no NAME.txt or NAME.json: not scored)")
                    continue
                }
                guard let expected = page.expected else {
                    print(label + "found text where there is none (\(document.body.split(separator: " ").count) words)")
                    scores.append(0)
                    continue
                }
                let score = WebPageCorpus.score(extracted: document.body, expected: expected)
                scores.append(score.f1)
                print(label + String(format: "%5d   %6.3f     %6.3f   %6.3f", expected.split(separator: " ").count, score.precision, score.recall, score.f1))
            } catch {
                if page.expected == nil, page.metadata.isEmpty {
                    print(label + "no article found (\(error.message); not scored)")
                } else if page.expected == nil {
                    print(label + "no article, as expected (\(error.message))")
                } else {
                    print(label + "failed: \(error.message)")
                    scores.append(0)
                }
            }
        }
        if scores.isEmpty {
            print("  no page scored (the folder holds no expected texts)")
        } else {
            let mean = scores.reduce(0, +) / Double(scores.count)
            print(String(format: "  mean F1 %.3f over the %d article pages scored   [target ≥ 0.95]", mean, scores.count))
        }

        let bytes = corpus.pages.reduce(0) { $0 + $1.html.count }
        let start = DispatchTime.now().uptimeNanoseconds
        var read = 0
        for _ in 0..<rounds {
            for page in corpus.pages {
                _ = try? WebPage.read(page.html, contentType: nil, url: nil)
                read += 1
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print(String(
            format: "  %.0f pages/s on one core (%d pages, average %.0f KB)",
            Double(read) / seconds, read, Double(bytes) / Double(corpus.pages.count) / 1024))

        // As `margin import` reads saved pages: on every core at once.
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let pages = corpus.pages
        let everyCore = DispatchTime.now().uptimeNanoseconds
        DispatchQueue.concurrentPerform(iterations: rounds * pages.count) { index in
            _ = try? WebPage.read(pages[index % pages.count].html, contentType: nil, url: nil)
        }
        let together = Double(DispatchTime.now().uptimeNanoseconds - everyCore) / 1e9
        print(String(
            format: "  %.0f pages/s on %d cores, as margin import reads saved pages   [target ≥ 500/s]\n",
            Double(rounds * pages.count) / together, cores))
    }
}
