/// The parts two versions of a text share, found by Myers' diff over words, spaces and
/// punctuation, so that a position in one can be carried to the other.
///
/// Common runs that are coincidences are treated as changed too (see `withoutCoincidences`):
/// a lone space or "the" that two rewritten sentences happen to share says nothing about
/// where a passage went. Differences too large to compute within `maximumEdits` token edits
/// leave the middle of the texts (after their common start and end) unmatched. The result
/// depends on the two texts alone, so every machine computes the same one.
struct TextDiff {
    /// A run of `count` scalars at `old` in the old text and at `new` in the new one.
    struct Run: Hashable {
        var old: Int
        var new: Int
        var count: Int
    }

    static let minimumRun = 12
    static let maximumEdits = 4_000

    /// The shared runs, in order in both texts.
    let runs: [Run]
    /// The length of the new text.
    let newCount: Int

    init(old: [Unicode.Scalar], new: [Unicode.Scalar]) {
        newCount = new.count
        let oldTokens = Token.split(old)
        let newTokens = Token.split(new)
        var ids: [ArraySlice<Unicode.Scalar>: Int] = [:]
        func id(_ scalars: ArraySlice<Unicode.Scalar>) -> Int {
            if let id = ids[scalars] { return id }
            ids[scalars] = ids.count
            return ids.count - 1
        }
        let a = oldTokens.map { id(old[$0]) }
        let b = newTokens.map { id(new[$0]) }
        var runs: [Run] = []
        for (i, j) in Self.matches(a, b) {
            let o = oldTokens[i], n = newTokens[j]
            if let last = runs.last, last.old + last.count == o.lowerBound, last.new + last.count == n.lowerBound {
                runs[runs.count - 1].count += o.count
            } else {
                runs.append(Run(old: o.lowerBound, new: n.lowerBound, count: o.count))
            }
        }
        self.runs = Self.withoutCoincidences(runs, oldCount: old.count, newCount: new.count)
    }

    /// `runs` without those that are coincidences: a run between two changes that is no
    /// longer than the text changed on either side of it (as diff-match-patch's semantic
    /// clean-up judges them), or shorter than `minimumRun`.
    private static func withoutCoincidences(_ runs: [Run], oldCount: Int, newCount: Int) -> [Run] {
        var runs = runs
        var changed = true
        while changed {
            changed = false
            var index = 0
            while index < runs.count {
                let run = runs[index]
                let previous = index > 0 ? runs[index - 1] : Run(old: 0, new: 0, count: 0)
                let next = index + 1 < runs.count ? runs[index + 1] : Run(old: oldCount, new: newCount, count: 0)
                let before = max(run.old - (previous.old + previous.count), run.new - (previous.new + previous.count))
                let after = max(next.old - (run.old + run.count), next.new - (run.new + run.count))
                let atStart = run.old == 0 && run.new == 0
                let atEnd = run.old + run.count == oldCount && run.new + run.count == newCount
                let coincidence = !atStart && !atEnd
                    && (run.count < minimumRun || (run.count <= before && run.count <= after))
                if coincidence {
                    runs.remove(at: index)
                    changed = true
                } else {
                    index += 1
                }
            }
        }
        return runs
    }

    /// Where old position `position` is in the new text, when that scalar survived.
    func newPosition(ofOld position: Int) -> Int? {
        guard let run = run(containing: position, \.old) else { return nil }
        return run.new + position - run.old
    }

    /// Where new position `position` was in the old text, when that scalar was there.
    func oldPosition(ofNew position: Int) -> Int? {
        guard let run = run(containing: position, \.new) else { return nil }
        return run.old + position - run.new
    }

    /// How many scalars of `range` (old positions) survived into the new text.
    func survivors(of range: Range<Int>) -> Int {
        runs.reduce(0) { total, run in
            total + max(0, min(range.upperBound, run.old + run.count) - max(range.lowerBound, run.old))
        }
    }

    /// The new range that holds what became of old `range`: its ends carried over, or, where
    /// an end fell in a change, the edge of what replaced that change.
    func window(for range: Range<Int>) -> Range<Int> {
        let start = newPosition(ofOld: range.lowerBound) ?? runs.last { $0.old + $0.count <= range.lowerBound }.map { $0.new + $0.count } ?? 0
        let end = range.isEmpty ? start : newPosition(ofOld: range.upperBound - 1).map { $0 + 1 }
            ?? runs.first { $0.old >= range.upperBound }?.new ?? newCount
        return start..<max(start, end)
    }

    private func run(containing position: Int, _ side: KeyPath<Run, Int>) -> Run? {
        var low = 0, high = runs.count
        while low < high {
            let middle = (low + high) / 2
            if runs[middle][keyPath: side] + runs[middle].count <= position { low = middle + 1 } else { high = middle }
        }
        guard low < runs.count, runs[low][keyPath: side] <= position else { return nil }
        return runs[low]
    }

    /// The index pairs of equal tokens on a shortest edit path from `a` to `b`, in order.
    static func matches(_ a: [Int], _ b: [Int]) -> [(Int, Int)] {
        var head = 0
        while head < a.count, head < b.count, a[head] == b[head] { head += 1 }
        var tail = 0
        while tail < a.count - head, tail < b.count - head, a[a.count - 1 - tail] == b[b.count - 1 - tail] { tail += 1 }
        var pairs = (0..<head).map { ($0, $0) }
        let middle = myers(a[head..<a.count - tail], b[head..<b.count - tail]) ?? []
        pairs += middle.map { ($0.0 + head, $0.1 + head) }
        pairs += (0..<tail).map { (a.count - tail + $0, b.count - tail + $0) }
        return pairs
    }

    /// Myers' greedy shortest edit script, positions relative to the slices' starts; `nil`
    /// when it takes more than `maximumEdits` edits.
    private static func myers(_ a: ArraySlice<Int>, _ b: ArraySlice<Int>) -> [(Int, Int)]? {
        let a = Array(a), b = Array(b)
        let n = a.count, m = b.count
        guard n > 0, m > 0 else { return [] }
        let limit = min(n + m, maximumEdits)
        let offset = limit + 1
        var v = [Int](repeating: 0, count: 2 * limit + 3)
        // trace[d]: v over diagonals -d...d before step d.
        var trace: [[Int]] = []
        var found: Int?
        search: for d in 0...limit {
            trace.append(Array(v[offset - d...offset + d]))
            for k in stride(from: -d, through: d, by: 2) {
                var x = k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1]) ? v[offset + k + 1] : v[offset + k - 1] + 1
                var y = x - k
                while x < n, y < m, a[x] == b[y] {
                    x += 1
                    y += 1
                }
                v[offset + k] = x
                if x >= n, y >= m {
                    found = d
                    break search
                }
            }
        }
        guard let edits = found else { return nil }
        var pairs: [(Int, Int)] = []
        var x = n, y = m
        for d in stride(from: edits, through: 0, by: -1) {
            let snapshot = trace[d]
            let k = x - y
            let previousK: Int
            let previousX: Int
            if d == 0 {
                previousK = 0
                previousX = 0
            } else {
                previousK = k == -d || (k != d && snapshot[k - 1 + d] < snapshot[k + 1 + d]) ? k + 1 : k - 1
                previousX = snapshot[previousK + d]
            }
            let previousY = previousX - previousK
            while x > previousX, y > previousY {
                x -= 1
                y -= 1
                pairs.append((x, y))
            }
            x = previousX
            y = previousY
        }
        return pairs.reversed()
    }

    /// Tokens: runs of letters and digits, runs of white space, and any other scalar alone.
    enum Token {
        static func split(_ scalars: [Unicode.Scalar]) -> [Range<Int>] {
            var tokens: [Range<Int>] = []
            var start = 0
            while start < scalars.count {
                let kind = kind(of: scalars[start])
                var end = start + 1
                if kind != 2 {
                    while end < scalars.count, Self.kind(of: scalars[end]) == kind { end += 1 }
                }
                tokens.append(start..<end)
                start = end
            }
            return tokens
        }

        /// 0: letter or digit, 1: white space, 2: anything else.
        private static func kind(of scalar: Unicode.Scalar) -> Int {
            let properties = scalar.properties
            if properties.isAlphabetic || properties.numericType != nil || properties.generalCategory == .nonspacingMark { return 0 }
            return properties.isWhitespace ? 1 : 2
        }
    }
}

/// One stretch of what changed between two versions of a text.
public enum TextEdit: Sendable, Hashable {
    case kept(String)
    case removed(String)
    case added(String)

    /// The stretches that turn `old` into `new`, in order, by the word diff anchoring uses
    /// (so what is shown as changed is what anchoring treats as changed).
    public static func between(_ old: ArticleText, _ new: ArticleText) -> [TextEdit] {
        var edits: [TextEdit] = []
        var oldPosition = 0
        var newPosition = 0
        func emit(upToOld oldEnd: Int, new newEnd: Int) {
            if oldEnd > oldPosition { edits.append(.removed(old.text(in: oldPosition..<oldEnd))) }
            if newEnd > newPosition { edits.append(.added(new.text(in: newPosition..<newEnd))) }
        }
        for run in TextDiff(old: old.scalars, new: new.scalars).runs {
            emit(upToOld: run.old, new: run.new)
            edits.append(.kept(new.text(in: run.new..<run.new + run.count)))
            oldPosition = run.old + run.count
            newPosition = run.new + run.count
        }
        emit(upToOld: old.count, new: new.count)
        return edits
    }
}
