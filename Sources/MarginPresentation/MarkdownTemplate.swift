import Foundation
import MarginCore

/// A value a template names: text (empty counts as absent in a section), or a list whose
/// items a section repeats, each with its own variables.
public enum TemplateValue: Sendable, Hashable {
    case text(String)
    case list([[String: TemplateValue]])

    /// Whether a section shows: non-empty text, or a list with items.
    var isPresent: Bool {
        switch self {
        case .text(let text): !text.isEmpty
        case .list(let items): !items.isEmpty
        }
    }
}

/// A Mustache-style template for Markdown exports, a small and strict subset:
///
/// - `{{name}}` writes a variable as it is (Markdown is not escaped);
/// - `{{#name}}…{{/name}}` repeats its content for each item of a list, or shows it once when
///   text is not empty; `{{^name}}…{{/name}}` shows its content when the value is absent or empty;
/// - `{{! comment }}` writes nothing;
/// - a line holding nothing but a section tag, a closing tag or a comment leaves no line behind.
///
/// Inside a section, a name is looked up in the item first, then outside it. Names the
/// export does not know, and sections left open or closed twice, are refused with their line.
///
/// For example:
/// ```swift
/// let template = try MarkdownTemplate("{{#items}}- {{word}}\n{{/items}}", variables: ["items", "word"])
/// template.render(["items": .list([["word": .text("a")], ["word": .text("b")]])])  // "- a\n- b\n"
/// ```
public struct MarkdownTemplate: Sendable, Hashable {
    indirect enum Node: Sendable, Hashable {
        case text(String)
        case variable(String)
        case section(String, inverted: Bool, [Node])
    }

    let nodes: [Node]

    /// Parses `source`, refusing a name not in `variables`.
    public init(_ source: String, variables: Set<String>) throws(MarginError) {
        var parser = Parser(
            source: Self.withoutStandaloneTagLines(source.replacingOccurrences(of: "\r\n", with: "\n")), variables: variables)
        nodes = try parser.parse()
    }

    /// The text for `values` (variables absent from `values` write nothing).
    public func render(_ values: [String: TemplateValue]) -> String {
        var output = ""
        Self.render(nodes, scopes: [values], into: &output)
        return output
    }

    private static func render(_ nodes: [Node], scopes: [[String: TemplateValue]], into output: inout String) {
        func lookup(_ name: String) -> TemplateValue? { scopes.reversed().lazy.compactMap { $0[name] }.first }
        for node in nodes {
            switch node {
            case .text(let text):
                output += text
            case .variable(let name):
                switch lookup(name) {
                case .text(let text)?: output += text
                case .list(let items)?: output += String(items.count)
                case nil: break
                }
            case .section(let name, let inverted, let children):
                let value = lookup(name)
                if inverted {
                    if !(value?.isPresent ?? false) { render(children, scopes: scopes, into: &output) }
                } else if case .list(let items)? = value {
                    for item in items { render(children, scopes: scopes + [item], into: &output) }
                } else if value?.isPresent == true {
                    render(children, scopes: scopes, into: &output)
                }
            }
        }
    }

    /// Stands for the line break of a line holding only a section, closing or comment tag:
    /// counted as a line, written as nothing.
    static let droppedLineBreak: Character = "\u{1}"

    /// `source` with each line that holds only one section, closing or comment tag (and
    /// spaces) reduced to that tag and `droppedLineBreak`.
    static func withoutStandaloneTagLines(_ source: String) -> String {
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        var output = ""
        for (index, rawLine) in lines.enumerated() {
            let line = rawLine.trimmingSpaces()
            let inner = line.dropFirst(2).dropLast(2)
            let standalone = line.hasPrefix("{{") && line.hasSuffix("}}") && line.count >= 5
                && inner.first.map { "#^/!".contains($0) } == true && !inner.contains("{{") && !inner.contains("}}")
            output += standalone ? line : String(rawLine)
            if index < lines.count - 1 { output.append(standalone ? droppedLineBreak : "\n") }
        }
        return output
    }

    private struct Parser {
        let source: String
        let variables: Set<String>
        var index: String.Index
        var line = 1

        init(source: String, variables: Set<String>) {
            self.source = source
            self.variables = variables
            index = source.startIndex
        }

        mutating func parse() throws(MarginError) -> [Node] {
            let (nodes, closing) = try parseNodes()
            if let closing { throw error("{{/\(closing)}} closes no section") }
            return nodes
        }

        /// Nodes up to a closing tag (whose name is returned) or the end.
        private mutating func parseNodes() throws(MarginError) -> ([Node], closing: String?) {
            var nodes: [Node] = []
            while index < source.endIndex {
                guard let open = source.range(of: "{{", range: index..<source.endIndex) else {
                    nodes.append(.text(advance(to: source.endIndex)))
                    break
                }
                if open.lowerBound > index { nodes.append(.text(advance(to: open.lowerBound))) }
                guard let close = source.range(of: "}}", range: open.upperBound..<source.endIndex) else {
                    throw error("a tag opened with {{ is not closed with }}")
                }
                let tag = String(source[open.upperBound..<close.lowerBound]).trimmingSpaces()
                _ = advance(to: close.upperBound)
                let tagLine = line
                switch tag.first {
                case "!":
                    continue
                case "#", "^":
                    let name = try checkedName(tag.dropFirst())
                    let (children, closing) = try parseNodes()
                    guard closing == name else {
                        throw MarginError(.invalidInput, "template line \(tagLine): the section {{\(tag)}} is not closed with {{/\(name)}}")
                    }
                    nodes.append(.section(name, inverted: tag.first == "^", children))
                case "/":
                    return (nodes, try checkedName(tag.dropFirst()))
                default:
                    nodes.append(.variable(try checkedName(Substring(tag))))
                }
            }
            return (nodes, nil)
        }

        private func checkedName(_ text: Substring) throws(MarginError) -> String {
            let name = String(text).trimmingSpaces()
            guard variables.contains(name) else {
                throw error(
                    name.isEmpty ? "a tag names no variable" : "unknown variable '\(name)'; the variables are listed in the README (Markdown templates)")
            }
            return name
        }

        private mutating func advance(to end: String.Index) -> String {
            let text = source[index..<end]
            line += text.count { $0 == "\n" || $0 == MarkdownTemplate.droppedLineBreak }
            index = end
            return String(text.filter { $0 != MarkdownTemplate.droppedLineBreak })
        }

        private func error(_ message: String) -> MarginError {
            MarginError(.invalidInput, "template line \(line): \(message)")
        }
    }
}
