import Synchronization

/// Generates record ids: UUIDv7 (RFC 9562), time-ordered, in canonical lowercase form.
///
/// Ids made by one process are strictly increasing: within one millisecond the 12-bit
/// `rand_a` field counts up from a random start (RFC 9562, method 1).
///
/// For example:
/// ```swift
/// let id = Identifier.make()   // "019a4f0c-3b1e-7a42-9c1d-5e2f7a9b0c3d"
/// ```
public enum Identifier {
    private struct State {
        var milliseconds: Int64 = 0
        var counter: UInt16 = 0
    }

    private static let state = Mutex(State())

    /// A new id for a record created at `time`.
    public static func make(at time: Timestamp = .now()) -> String {
        var random = SystemRandomNumberGenerator()
        let (milliseconds, counter) = state.withLock { state -> (Int64, UInt16) in
            if time.milliseconds > state.milliseconds {
                state.milliseconds = time.milliseconds
                state.counter = UInt16.random(in: 0..<0x800, using: &random)
            } else if state.counter < 0xFFF {
                state.counter += 1
            } else {
                state.milliseconds += 1
                state.counter = 0
            }
            return (state.milliseconds, state.counter)
        }
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<6 {
            bytes[index] = UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - index)))
        }
        bytes[6] = 0x70 | UInt8(counter >> 8)
        bytes[7] = UInt8(truncatingIfNeeded: counter)
        var tail = random.next()
        for index in 8..<16 {
            bytes[index] = UInt8(truncatingIfNeeded: tail)
            tail >>= 8
        }
        bytes[8] = 0x80 | (bytes[8] & 0x3F)
        return format(bytes)
    }

    /// The id of a record brought in from elsewhere under `key`: a UUIDv7 with the time
    /// `time` and the rest from the SHA-256 of `key`, so that importing the same thing again,
    /// on any machine, names the same record.
    public static func derived(from key: String, at time: Timestamp) -> String {
        let digest = Array(ContentHash.of(key).utf8)
        func byte(_ index: Int) -> UInt8 {
            func value(_ digit: UInt8) -> UInt8 { digit <= UInt8(ascii: "9") ? digit - UInt8(ascii: "0") : digit - UInt8(ascii: "a") + 10 }
            return value(digest[2 * index]) << 4 | value(digest[2 * index + 1])
        }
        var bytes = [UInt8](repeating: 0, count: 16)
        let milliseconds = max(0, time.milliseconds)
        for index in 0..<6 {
            bytes[index] = UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - index)))
        }
        for index in 6..<16 { bytes[index] = byte(index) }
        bytes[6] = 0x70 | (bytes[6] & 0x0F)
        bytes[8] = 0x80 | (bytes[8] & 0x3F)
        return format(bytes)
    }

    /// Whether `text` is a canonical lowercase UUID (any version).
    public static func isValid(_ text: String) -> Bool {
        let utf8 = Array(text.utf8)
        guard utf8.count == 36 else { return false }
        for (index, byte) in utf8.enumerated() {
            if [8, 13, 18, 23].contains(index) {
                guard byte == UInt8(ascii: "-") else { return false }
            } else {
                guard isLowerHex(byte) else { return false }
            }
        }
        return true
    }

    /// The canonical form of a short id typed by a user: lowercase, with the hyphens of a
    /// canonical UUID inserted at their places, or `nil` if it cannot begin any id.
    ///
    /// For example, `"019A4F0C3B"` and `"019a4f0c-3b"` both give `"019a4f0c-3b"`.
    public static func canonicalPrefix(_ text: String) -> String? {
        var hex: [UInt8] = []
        for byte in text.lowercased().utf8 where byte != UInt8(ascii: "-") {
            guard isLowerHex(byte) else { return nil }
            hex.append(byte)
        }
        guard hex.count <= 32 else { return nil }
        var result: [UInt8] = []
        for (index, byte) in hex.enumerated() {
            if [8, 12, 16, 20].contains(index) { result.append(UInt8(ascii: "-")) }
            result.append(byte)
        }
        return String(decoding: result, as: UTF8.self)
    }

    private static func isLowerHex(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }

    private static func format(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(36)
        for (index, byte) in bytes.enumerated() {
            if [4, 6, 8, 10].contains(index) { text.append(UInt8(ascii: "-")) }
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
