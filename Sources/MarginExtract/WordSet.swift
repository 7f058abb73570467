/// Words looked for inside class names and ids (`comment` in `article-comments`): all of
/// them in one pass over the name, with the words indexed by their first byte.
struct WordSet: Sendable {
    private let words: [[UInt8]]
    /// For each byte, the indices in `words` of the words that start with it.
    private let byFirstByte: [[Int]]

    init(_ words: [String]) {
        self.words = words.map { Array($0.utf8) }
        var index = [[Int]](repeating: [], count: 256)
        for (position, word) in self.words.enumerated() {
            if let first = word.first { index[Int(first)].append(position) }
        }
        byFirstByte = index
    }

    /// Whether one of the words occurs in `name`.
    func occurs(in name: ArraySlice<UInt8>) -> Bool {
        guard !name.isEmpty else { return false }
        return name.withUnsafeBufferPointer { bytes in
            for start in 0..<bytes.count {
                for candidate in byFirstByte[Int(bytes[start])] {
                    let word = words[candidate]
                    guard word.count <= bytes.count - start else { continue }
                    var matched = true
                    for offset in 1..<word.count where bytes[start + offset] != word[offset] {
                        matched = false
                        break
                    }
                    if matched { return true }
                }
            }
            return false
        }
    }
}
