/// Three-way merge of note text, as `diff3` does it: the changes each side made to a
/// common base are combined when they touch different parts of it. It tries whole
/// lines first, then words (so that two edits on one line merge when they change
/// different words).
///
/// For example:
/// ```swift
/// TextMerge.merge(base: "a b c", ours: "A b c", theirs: "a b C")  // "A b C"
/// TextMerge.merge(base: "a", ours: "b", theirs: "c")              // nil: both changed "a"
/// ```
public enum TextMerge {
    /// The longest middle section (after common prefix and suffix) compared token by
    /// token; longer differing texts are treated as overlapping.
    static let maximumComparedTokens = 4_000

    /// The merged text, or `nil` when the two sides' changes overlap.
    public static func merge(base: String, ours: String, theirs: String) -> String? {
        if ours == theirs || base == theirs { return ours }
        if base == ours { return theirs }
        for tokenize in [lines, words] {
            if let merged = merge3(base: tokenize(base), ours: tokenize(ours), theirs: tokenize(theirs)) {
                return merged.joined()
            }
        }
        return nil
    }

    /// Lines, each with its line break.
    static func lines(_ text: String) -> [Substring] {
        var tokens: [Substring] = []
        var start = text.startIndex
        for index in text.indices where text[index] == "\n" {
            let end = text.index(after: index)
            tokens.append(text[start..<end])
            start = end
        }
        if start < text.endIndex { tokens.append(text[start...]) }
        return tokens
    }

    /// Alternating runs of white space and of other characters.
    static func words(_ text: String) -> [Substring] {
        var tokens: [Substring] = []
        var start = text.startIndex
        var previousIsSpace: Bool?
        for index in text.indices {
            let isSpace = text[index].isWhitespace
            if let previousIsSpace, previousIsSpace != isSpace {
                tokens.append(text[start..<index])
                start = index
            }
            previousIsSpace = isSpace
        }
        if start < text.endIndex { tokens.append(text[start...]) }
        return tokens
    }

    private static func merge3(base: [Substring], ours: [Substring], theirs: [Substring]) -> [Substring]? {
        guard let toOurs = matching(base, ours), let toTheirs = matching(base, theirs) else { return nil }
        var result: [Substring] = []
        var (b, o, t) = (0, 0, 0)
        var next = 0
        while true {
            // The next base token both sides kept: everything before it is one chunk.
            while next < base.count, toOurs[next] == nil || toTheirs[next] == nil { next += 1 }
            let oursEnd = next < base.count ? toOurs[next]! : ours.count
            let theirsEnd = next < base.count ? toTheirs[next]! : theirs.count
            let baseChunk = base[b..<next]
            let oursChunk = ours[o..<oursEnd]
            let theirsChunk = theirs[t..<theirsEnd]
            if oursChunk.elementsEqual(baseChunk) {
                result += theirsChunk
            } else if theirsChunk.elementsEqual(baseChunk) || oursChunk.elementsEqual(theirsChunk) {
                result += oursChunk
            } else {
                return nil
            }
            guard next < base.count else { return result }
            result.append(base[next])
            (b, o, t) = (next + 1, oursEnd + 1, theirsEnd + 1)
            next += 1
        }
    }

    /// For each token of `base`, the index of the same token in `other` in a longest
    /// common subsequence, or `nil` if it was removed. `nil` overall when too large.
    private static func matching(_ base: [Substring], _ other: [Substring]) -> [Int?]? {
        var result = [Int?](repeating: nil, count: base.count)
        var prefix = 0
        while prefix < base.count, prefix < other.count, base[prefix] == other[prefix] {
            result[prefix] = prefix
            prefix += 1
        }
        var suffix = 0
        while suffix < base.count - prefix, suffix < other.count - prefix,
              base[base.count - 1 - suffix] == other[other.count - 1 - suffix] {
            result[base.count - 1 - suffix] = other.count - 1 - suffix
            suffix += 1
        }
        let rows = base.count - prefix - suffix
        let columns = other.count - prefix - suffix
        guard rows > 0, columns > 0 else { return result }
        guard rows <= maximumComparedTokens, columns <= maximumComparedTokens else { return nil }
        // lengths[i][j]: LCS length of base[prefix + i...] and other[prefix + j...] (middles).
        let width = columns + 1
        var lengths = [Int32](repeating: 0, count: (rows + 1) * width)
        for i in stride(from: rows - 1, through: 0, by: -1) {
            for j in stride(from: columns - 1, through: 0, by: -1) {
                lengths[i * width + j] = base[prefix + i] == other[prefix + j]
                    ? lengths[(i + 1) * width + j + 1] + 1
                    : max(lengths[(i + 1) * width + j], lengths[i * width + j + 1])
            }
        }
        var (i, j) = (0, 0)
        while i < rows, j < columns {
            if base[prefix + i] == other[prefix + j] {
                result[prefix + i] = prefix + j
                i += 1
                j += 1
            } else if lengths[(i + 1) * width + j] >= lengths[i * width + j + 1] {
                i += 1
            } else {
                j += 1
            }
        }
        return result
    }
}
