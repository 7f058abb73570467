import MarginCore

/// Lays highlights over an article body for a terminal: ANSI background colors on a
/// TTY, `[[…]][n]` markers otherwise. Overlapping highlights nest: on a TTY the one that
/// began last shows its color.
public enum HighlightRenderer {
    /// How highlights are drawn: ANSI colors for terminals, `[[…]][n]` markers otherwise.
    public enum Style: Sendable {
        case markers
        case ansi
    }

    /// One highlight: where it is shown, its color and the label its note is listed under.
    public struct Mark: Sendable, Hashable {
        public var range: Range<Int>
        public var color: HighlightColor
        public var label: String

        /// A highlight over `range` (scalar offsets), drawn in `color`, labelled `label`.
        public init(range: Range<Int>, color: HighlightColor, label: String) {
            self.range = range
            self.color = color
            self.label = label
        }
    }

    /// `text` with `marks` drawn in `style`. Marks outside the text are ignored.
    public static func render(_ text: ArticleText, marks: [Mark], style: Style) -> String {
        let marks = marks.filter { $0.range.lowerBound >= 0 && $0.range.upperBound <= text.count && !$0.range.isEmpty }
        var boundaries = Set(marks.flatMap { [$0.range.lowerBound, $0.range.upperBound] })
        boundaries.insert(0)
        boundaries.insert(text.count)
        let points = boundaries.sorted()
        var output = String.UnicodeScalarView()
        var open: [Mark] = []
        for (index, point) in points.enumerated() {
            // Close what ends here (innermost first), then open what starts here.
            let ending = open.filter { $0.range.upperBound == point }.reversed()
            open.removeAll { $0.range.upperBound == point }
            for mark in ending {
                output.append(contentsOf: close(mark, style: style, stillOpen: open).unicodeScalars)
            }
            let starting = marks.filter { $0.range.lowerBound == point }
                .sorted { $0.range.upperBound > $1.range.upperBound }
            for mark in starting {
                open.append(mark)
                output.append(contentsOf: (style == .markers ? "[[" : ansiColor(mark.color)).unicodeScalars)
            }
            guard index + 1 < points.count else { break }
            output.append(contentsOf: text.scalars[point..<points[index + 1]])
        }
        return String(output)
    }

    private static func close(_ mark: Mark, style: Style, stillOpen: [Mark]) -> String {
        switch style {
        case .markers:
            return "]][\(mark.label)]"
        case .ansi:
            let restore = stillOpen.last.map { ansiColor($0.color) } ?? ""
            return "\u{1B}[0m\u{1B}[2m[\(mark.label)]\u{1B}[0m" + restore
        }
    }

    /// The ANSI escape that starts a highlight of `color`.
    public static func ansiColor(_ color: HighlightColor) -> String {
        let code = switch color {
        case .yellow: "43;30"
        case .green: "42;30"
        case .blue: "44;97"
        case .pink: "105;30"
        case .purple: "45;97"
        case .orange: "48;5;214;30"
        case .red: "41;97"
        case .gray: "100;97"
        }
        return "\u{1B}[\(code)m"
    }
}
