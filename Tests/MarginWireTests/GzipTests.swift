import MarginCore
import MarginWire
import Testing

@Suite struct GzipTests {
    @Test func compressedBytesDecompressToTheOriginal() throws {
        let text = Array(String(repeating: "Đàm phán hạt nhân Nga–Mỹ. ", count: 500).utf8)
        let compressed = Gzip.compress(text)
        #expect(compressed.starts(with: [0x1F, 0x8B]))  // the gzip magic number
        #expect(compressed.count < text.count / 10)
        #expect(Gzip.decompress(compressed, limit: text.count) == text)
    }

    @Test func decompressionStopsAtTheLimit() {
        let bomb = Gzip.compress([UInt8](repeating: 0, count: 1_000_000))
        #expect(Gzip.decompress(bomb, limit: 100_000) == nil)
    }

    @Test func damagedOrTruncatedStreamsAreRefused() {
        let compressed = Gzip.compress(Array("hello, world".utf8))
        #expect(Gzip.decompress(Array(compressed.prefix(compressed.count - 4)), limit: 1_000) == nil)
        #expect(Gzip.decompress([0x1F, 0x8B, 1, 2, 3], limit: 1_000) == nil)
    }
}
