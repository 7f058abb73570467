/// A hybrid-logical-clock reading: wall-clock milliseconds in the high 48 bits and a
/// logical counter in the low 16, so readings order by time first and never repeat.
public struct HybridTimestamp: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var rawValue: Int64

    /// A reading from its packed form.
    public init(rawValue: Int64) {
        self.rawValue = rawValue
    }

    /// A reading from its wall-clock and logical parts (the counter is kept to 16 bits).
    public init(physical: Timestamp, logical: Int64) {
        rawValue = physical.milliseconds << 16 | (logical & 0xFFFF)
    }

    /// The wall-clock part.
    public var physical: Timestamp { Timestamp(milliseconds: rawValue >> 16) }

    /// The logical counter that orders readings within one millisecond.
    public var logical: Int64 { rawValue & 0xFFFF }

    public static func < (lhs: HybridTimestamp, rhs: HybridTimestamp) -> Bool {
        lhs.rawValue < rhs.rawValue
    }

    /// `2025-10-23T08:15:30.123Z+2`: the physical time and the logical counter.
    public var description: String { "\(physical)+\(logical)" }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// A hybrid logical clock (Kulkarni et al.): readings follow the wall clock but stay
/// strictly increasing when the wall clock stalls or steps back, and move past any
/// reading received from another device.
public struct HybridLogicalClock: Sendable {
    /// The last reading handed out or received.
    public private(set) var last: HybridTimestamp

    /// A clock that continues after `last` (the reading stored with the change log).
    public init(last: HybridTimestamp = HybridTimestamp(rawValue: 0)) {
        self.last = last
    }

    /// A new reading for a local event at wall-clock time `now`.
    public mutating func tick(now: Timestamp) -> HybridTimestamp {
        if now.milliseconds > last.physical.milliseconds {
            last = HybridTimestamp(physical: now, logical: 0)
        } else {
            last = HybridTimestamp(rawValue: last.rawValue + 1)
        }
        return last
    }

    /// Moves the clock past a reading seen in a change from another device.
    public mutating func receive(_ remote: HybridTimestamp) {
        if remote > last { last = remote }
    }
}
