import MarginCore

/// Device tokens: `mgn_` and 64 hex digits (256 random bits). The server stores only
/// their SHA-256; the token itself is printed once, when issued.
public enum DeviceToken {
    /// A new random token.
    public static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef")
        return "mgn_" + String((0..<64).map { _ in digits[Int(generator.next() % 16)] })
    }

    /// The stored form of a token: lowercase hex SHA-256. A token carries 256 random
    /// bits, so a fast hash suffices, and looking one up by its hash never compares the
    /// secret itself byte by byte.
    public static func hash(_ token: some StringProtocol) -> String {
        ContentHash.of(String(token))
    }

    /// Whether the token `presented` is `expected`, in a time that does not depend on
    /// where they differ: both are hashed to 64 hex digits, and every digit is compared.
    /// (Device tokens are looked up by their hash instead, which never compares the
    /// secret itself.)
    public static func matches(_ presented: some StringProtocol, _ expected: String) -> Bool {
        var difference: UInt8 = 0
        for (left, right) in zip(hash(presented).utf8, hash(expected).utf8) { difference |= left ^ right }
        return difference == 0
    }
}
