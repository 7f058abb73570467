/// The HTML elements the extractor tells apart; every other element is `.other`.
enum HTMLTag: UInt8, Sendable {
    case text, other
    case html, head, body, title, meta, link, base
    case script, style, noscript, template, svg, math, canvas, iframe, object, embed, video, audio, picture, source, img
    case form, input, button, select, textarea, label, option, fieldset, legend, dialog, menu
    case nav, aside, footer, header, main, article, section, div, address, center, details, summary, hgroup
    case p, span, a, b, strong, i, em, u, s, small, big, sub, sup, mark, abbr, cite, q, code, kbd, samp, `var`, time
    case font, tt, ins, del, bdi, bdo, data, dfn, wbr, nobr
    case br, hr, figure, figcaption
    case h1, h2, h3, h4, h5, h6
    case ul, ol, li, dl, dt, dd, blockquote, pre
    case table, thead, tbody, tfoot, tr, td, th, caption

    /// The tag of an element named `name` (lowercase, as libxml2 gives it).
    init(name: String) {
        self = Self.byName[name] ?? .other
    }

    private static let byName: [String: HTMLTag] = {
        var names: [String: HTMLTag] = [:]
        for raw in UInt8(2)...HTMLTag.caption.rawValue {
            guard let tag = HTMLTag(rawValue: raw) else { continue }
            names[String(describing: tag)] = tag
        }
        return names
    }()

    /// Elements whose content is never article text: code, media, forms and the like.
    var isNeverContent: Bool {
        switch self {
        case .script, .style, .noscript, .template, .svg, .math, .canvas, .iframe, .object, .embed, .video, .audio,
             .input, .button, .select, .textarea, .option, .dialog, .head, .title, .meta, .link, .base, .label, .legend:
            true
        default: false
        }
    }

    /// Elements that flow inside a line of text; every other element starts a block.
    var isInline: Bool {
        switch self {
        case .text, .span, .a, .b, .strong, .i, .em, .u, .s, .small, .big, .sub, .sup, .mark, .abbr, .cite, .q, .code, .kbd,
             .samp, .var, .time, .font, .tt, .ins, .del, .bdi, .bdo, .data, .dfn, .wbr, .nobr, .br, .img, .picture, .source, .label:
            true
        default: false
        }
    }

    /// Headings, which become paragraphs of their own.
    var isHeading: Bool {
        switch self {
        case .h1, .h2, .h3, .h4, .h5, .h6: true
        default: false
        }
    }
}
