/// Two values encoded as one JSON object: `base`'s members followed by `extra`'s, for
/// listings that add a few fields to a model (`annotationCount` to an article).
struct Merged<Base: Encodable, Extra: Encodable>: Encodable {
    var base: Base
    var extra: Extra

    func encode(to encoder: any Encoder) throws {
        try base.encode(to: encoder)
        try extra.encode(to: encoder)
    }
}
