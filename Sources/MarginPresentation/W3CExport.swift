import MarginCore

/// Annotations as a W3C Web Annotation Data Model `AnnotationCollection` (JSON-LD), with
/// `TextQuoteSelector` and `TextPositionSelector` counted in code points of the NFC body.
/// Each level is a type of its own; encoded with sorted keys, it is the document the model
/// describes.
public enum W3CExport {
    /// The JSON-LD document for `annotations`, a collection identified by `urn:uuid:id` with
    /// one page (`…#page-1`, part of it); `articles` gives each target's title, and its
    /// address when the article came from the web (the target's `source` is then that
    /// address; otherwise the article's `urn:uuid:`).
    public static func document(annotations: [Annotation], articles: [String: Article], id: String) -> Collection {
        let collection = "urn:uuid:\(id)"
        return Collection(
            id: collection, total: annotations.count,
            first: Page(
                id: collection + "#page-1", partOf: collection,
                items: annotations.map { Item($0, article: articles[$0.articleId]) }))
    }

    public struct Collection: Encodable, Sendable {
        enum CodingKeys: String, CodingKey {
            case context = "@context", id, type, label, total, first
        }

        let context = "http://www.w3.org/ns/anno.jsonld"
        let id: String
        let type = "AnnotationCollection"
        let label = "Marginalia annotations"
        let total: Int
        let first: Page
    }

    struct Page: Encodable, Sendable {
        let id: String
        let type = "AnnotationPage"
        let partOf: String
        let startIndex = 0
        let items: [Item]
    }

    struct Item: Encodable, Sendable {
        let id: String
        let type = "Annotation"
        let motivation: String
        let created: String
        let modified: String
        let stylesheet: Stylesheet
        let target: Target
        /// One body alone, several as an array, none left out.
        let body: Bodies?

        init(_ annotation: Annotation, article: Article?) {
            id = "urn:uuid:\(annotation.id)"
            motivation = annotation.note.isEmpty ? "highlighting" : "commenting"
            created = annotation.createdAt.iso8601
            modified = annotation.updatedAt.iso8601
            let color = annotation.color.rawValue
            stylesheet = Stylesheet(value: ".\(color) { background-color: \(color); }")
            target = Target(
                source: Source(
                    id: article?.url ?? "urn:uuid:\(annotation.articleId)", title: article?.title, language: article?.language),
                styleClass: color,
                selector: [
                    .quote(exact: annotation.selectors.exact, prefix: annotation.selectors.prefix, suffix: annotation.selectors.suffix),
                    .position(start: annotation.selectors.start, end: annotation.selectors.end),
                ])
            var bodies: [TextualBody] = []
            if !annotation.note.isEmpty { bodies.append(TextualBody(purpose: "commenting", format: "text/plain", value: annotation.note)) }
            bodies += annotation.tags.map { TextualBody(purpose: "tagging", format: nil, value: $0) }
            body = bodies.isEmpty ? nil : Bodies(bodies)
        }
    }

    struct Stylesheet: Encodable, Sendable {
        let type = "CssStylesheet"
        let value: String
    }

    struct Target: Encodable, Sendable {
        let source: Source
        let styleClass: String
        let selector: [Selector]
    }

    struct Source: Encodable, Sendable {
        let id: String
        let type = "Text"
        let title: String?
        let language: String?
    }

    enum Selector: Encodable, Sendable {
        case quote(exact: String, prefix: String, suffix: String)
        case position(start: Int, end: Int)

        enum CodingKeys: String, CodingKey {
            case type, exact, prefix, suffix, start, end
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            switch self {
            case .quote(let exact, let prefix, let suffix):
                try container.encode("TextQuoteSelector", forKey: .type)
                try container.encode(exact, forKey: .exact)
                try container.encode(prefix, forKey: .prefix)
                try container.encode(suffix, forKey: .suffix)
            case .position(let start, let end):
                try container.encode("TextPositionSelector", forKey: .type)
                try container.encode(start, forKey: .start)
                try container.encode(end, forKey: .end)
            }
        }
    }

    struct TextualBody: Encodable, Sendable {
        let type = "TextualBody"
        let purpose: String
        let format: String?
        let value: String
    }

    struct Bodies: Encodable, Sendable {
        let bodies: [TextualBody]

        init(_ bodies: [TextualBody]) { self.bodies = bodies }

        func encode(to encoder: any Encoder) throws {
            if bodies.count == 1 { try bodies[0].encode(to: encoder) } else { try bodies.encode(to: encoder) }
        }
    }
}
