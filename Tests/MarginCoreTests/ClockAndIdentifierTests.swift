import Foundation
import MarginCore
import Testing

@Suite struct TimestampTests {
    @Test func iso8601RoundTripsMilliseconds() {
        let time = Timestamp(milliseconds: 1_761_206_130_123)
        #expect(time.iso8601 == "2025-10-23T07:55:30.123Z")
        #expect(Timestamp(iso8601: time.iso8601) == time)
        #expect(Timestamp(iso8601: "2025-10-23T07:55:30Z") == Timestamp(milliseconds: 1_761_206_130_000))
    }

    @Test(arguments: ["2025-10-23", "2025-10-23T25:00:00Z", "2025-02-30T00:00:00Z", "2025-10-23T07:55:30.1Z", "garbage"])
    func malformedTimesAreRejected(_ text: String) {
        #expect(Timestamp(iso8601: text) == nil)
    }

    @Test func calendarDatesMustExist() {
        #expect(CalendarDate("2024-02-29") != nil)
        #expect(CalendarDate("2025-02-29") == nil)
        #expect(CalendarDate("2025-13-01") == nil)
        #expect(CalendarDate("1969-12-31")?.daysSinceEpoch == -1)
    }
}

@Suite struct HybridLogicalClockTests {
    @Test func readingsIncreaseWhenTheWallClockStallsOrStepsBack() {
        var clock = HybridLogicalClock()
        let first = clock.tick(now: Timestamp(milliseconds: 1000))
        let second = clock.tick(now: Timestamp(milliseconds: 1000))
        let third = clock.tick(now: Timestamp(milliseconds: 400))
        #expect(first < second && second < third)
        #expect(third.physical.milliseconds == 1000)
        #expect(clock.tick(now: Timestamp(milliseconds: 2000)) == HybridTimestamp(physical: Timestamp(milliseconds: 2000), logical: 0))
    }

    @Test func receivingALaterReadingMovesTheClockPastIt() {
        var clock = HybridLogicalClock()
        let remote = HybridTimestamp(physical: Timestamp(milliseconds: 9000), logical: 7)
        clock.receive(remote)
        #expect(clock.tick(now: Timestamp(milliseconds: 10)) > remote)
    }
}

@Suite struct IdentifierTests {
    @Test func idsAreCanonicalUUIDv7AndStrictlyIncreasing() {
        let time = Timestamp(milliseconds: 1_761_206_130_123)
        let ids = (0..<5000).map { _ in Identifier.make(at: time) }
        for id in ids {
            #expect(Identifier.isValid(id))
            #expect(Array(id)[14] == "7")
            #expect("89ab".contains(Array(id)[19]))
        }
        #expect(ids == ids.sorted())
        #expect(Set(ids).count == ids.count)
        // The first 48 bits are the creation time in milliseconds (never earlier than asked:
        // ids made earlier in this process at a later time keep the sequence increasing).
        let millis = Int64(ids[0].replacingOccurrences(of: "-", with: "").prefix(12), radix: 16)!
        #expect(millis >= time.milliseconds)
    }

    @Test func typedPrefixesAreCanonicalized() {
        #expect(Identifier.canonicalPrefix("019A1005F6") == "019a1005-f6")
        #expect(Identifier.canonicalPrefix("019a1005-f6cb-7") == "019a1005-f6cb-7")
        #expect(Identifier.canonicalPrefix("zz12") == nil)
    }
}

@Suite struct HandleTests {
    @Test func aHandleIsTwelveCharactersOfCrockfordsBase32DerivedFromTheIdAlone() {
        let id = "019a4f0c-3b1e-7a42-9c1d-5e2f7a9b0c3d"
        let handle = Handle.of(id)

        #expect(handle.count == Handle.length)
        #expect(handle.allSatisfy { "0123456789abcdefghjkmnpqrstvwxyz".contains($0) })
        #expect(Handle.of(id) == handle)
        // Ids made in the same millisecond share their start; their handles do not.
        let sameMillisecond = (0..<1_000).map { _ in Identifier.make(at: Timestamp(milliseconds: 1_700_000_000_000)) }
        #expect(Set(sameMillisecond.map { String(Handle.of($0).prefix(Handle.minimumLength)) }).count > 900)
    }

    @Test func typedHandlesAreReadAsCrockfordReadsThem() {
        #expect(Handle.canonicalPrefix("K3X") == "k3x")
        #expect(Handle.canonicalPrefix("kiLo") == "k110")
        #expect(Handle.canonicalPrefix("ab") == nil)
        #expect(Handle.canonicalPrefix("k3u") == nil)
        #expect(Handle.canonicalPrefix("019a4f0c-3b") == nil)
        #expect(Handle.canonicalPrefix(String(repeating: "a", count: 13)) == nil)
    }
}
