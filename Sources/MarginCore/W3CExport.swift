/// Annotations as a W3C Web Annotation Data Model `AnnotationCollection` (JSON-LD), with
/// `TextQuoteSelector` and `TextPositionSelector` counted in code points of the NFC body.
public enum W3CExport {
    /// The JSON-LD document for `annotations`, a collection identified by `urn:uuid:id` with
    /// one page (`…#page-1`, part of it); `articles` gives each target's title, and its
    /// address when the article came from the web (the target's `source` is then that
    /// address; otherwise the article's `urn:uuid:`).
    public static func document(annotations: [Annotation], articles: [String: Article], id: String) -> JSONValue {
        let collection = "urn:uuid:\(id)"
        return .object([
            "@context": .string("http://www.w3.org/ns/anno.jsonld"),
            "id": .string(collection),
            "type": .string("AnnotationCollection"),
            "label": .string("Marginalia annotations"),
            "total": .number(Double(annotations.count)),
            "first": .object([
                "id": .string(collection + "#page-1"),
                "type": .string("AnnotationPage"),
                "partOf": .string(collection),
                "startIndex": .number(0),
                "items": .array(annotations.map { item($0, article: articles[$0.articleId]) }),
            ]),
        ])
    }

    private static func item(_ annotation: Annotation, article: Article?) -> JSONValue {
        var bodies: [JSONValue] = []
        if !annotation.note.isEmpty {
            bodies.append(.object([
                "type": .string("TextualBody"), "purpose": .string("commenting"),
                "format": .string("text/plain"), "value": .string(annotation.note),
            ]))
        }
        for tag in annotation.tags {
            bodies.append(.object(["type": .string("TextualBody"), "purpose": .string("tagging"), "value": .string(tag)]))
        }
        var source: [String: JSONValue] = [
            "id": .string(article?.url ?? "urn:uuid:\(annotation.articleId)"), "type": .string("Text"),
        ]
        if let article { source["title"] = .string(article.title) }
        if let language = article?.language { source["language"] = .string(language) }
        var object: [String: JSONValue] = [
            "id": .string("urn:uuid:\(annotation.id)"),
            "type": .string("Annotation"),
            "motivation": .string(annotation.note.isEmpty ? "highlighting" : "commenting"),
            "created": .string(annotation.createdAt.iso8601),
            "modified": .string(annotation.updatedAt.iso8601),
            "stylesheet": .object([
                "type": .string("CssStylesheet"),
                "value": .string(".\(annotation.color.rawValue) { background-color: \(annotation.color.rawValue); }"),
            ]),
            "target": .object([
                "source": .object(source),
                "styleClass": .string(annotation.color.rawValue),
                "selector": .array([
                    .object([
                        "type": .string("TextQuoteSelector"), "exact": .string(annotation.selectors.exact),
                        "prefix": .string(annotation.selectors.prefix), "suffix": .string(annotation.selectors.suffix),
                    ]),
                    .object([
                        "type": .string("TextPositionSelector"),
                        "start": .number(Double(annotation.selectors.start)),
                        "end": .number(Double(annotation.selectors.end)),
                    ]),
                ]),
            ]),
        ]
        if !bodies.isEmpty { object["body"] = bodies.count == 1 ? bodies[0] : .array(bodies) }
        return .object(object)
    }
}

/// A JSON value, for documents whose shape is not a Swift type.
public enum JSONValue: Sendable, Hashable, Encodable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value):
            if value == value.rounded(), abs(value) < 9e15 { try container.encode(Int64(value)) } else { try container.encode(value) }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}
