import Crypto

/// Short handles: what listings show of a record, and what users type, instead of its id.
///
/// A record's handle is derived from its id alone — the SHA-256 of the id in Crockford's
/// base32, lowercase — so every machine holding a record gives it the same handle, and ids
/// made in the same millisecond (which share their first characters) get handles that do
/// not. Listings show the shortest prefix of it that no other record of the library
/// shares, at least `minimumLength` characters: about log₃₂ of the library's size, 3 to 5
/// characters for thousands of records.
///
/// For example:
/// ```swift
/// Handle.of("019a4f0c-3b1e-7a42-9c1d-5e2f7a9b0c3d")   // 12 characters, e.g. "k3x9…"
/// ```
public enum Handle {
    /// The fewest characters a listing shows, or a user may type.
    public static let minimumLength = 3
    /// The characters of a stored handle (60 bits).
    public static let length = 12
    /// Crockford's base32: digits and letters without i, l, o and u.
    private static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)

    /// The handle of the record `id`.
    public static func of(_ id: String) -> String {
        let digest = Array(SHA256.hash(data: Array(id.utf8)))
        var bits: UInt64 = 0
        for byte in digest.prefix(8) { bits = bits << 8 | UInt64(byte) }
        var text: [UInt8] = []
        text.reserveCapacity(length)
        for index in 0..<length { text.append(alphabet[Int(bits >> UInt64(59 - 5 * index) & 0x1F)]) }
        return String(decoding: text, as: UTF8.self)
    }

    /// The canonical form of a handle (or a prefix of one) typed by a user — lowercase,
    /// with the letters Crockford's base32 reads as digits (`i` and `l` as 1, `o` as 0) —
    /// or `nil` if no handle can begin with it.
    public static func canonicalPrefix(_ text: String) -> String? {
        var result: [UInt8] = []
        for byte in text.lowercased().utf8 {
            switch byte {
            case UInt8(ascii: "i"), UInt8(ascii: "l"): result.append(UInt8(ascii: "1"))
            case UInt8(ascii: "o"): result.append(UInt8(ascii: "0"))
            case _ where alphabet.contains(byte): result.append(byte)
            default: return nil
            }
        }
        guard (minimumLength...length).contains(result.count) else { return nil }
        return String(decoding: result, as: UTF8.self)
    }
}
