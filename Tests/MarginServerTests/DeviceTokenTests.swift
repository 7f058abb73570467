import Testing

@testable import MarginServer

@Suite struct DeviceTokenTests {
    @Test func tokensAreRandomAndStoredOnlyAsTheirHash() {
        let token = DeviceToken.make()
        #expect(token.hasPrefix("mgn_") && token.count == 68)
        #expect(DeviceToken.make() != token)
        #expect(DeviceToken.hash(token).count == 64 && !DeviceToken.hash(token).contains(token.dropFirst(4)))
    }

    /// The comparison hashes both sides to the same length and looks at every digit, so
    /// its time does not depend on where the tokens differ (not measured here: timing
    /// belongs in benchmarks; this checks the answers).
    @Test func matchingComparesWholeTokensWhateverTheirLength() {
        let token = "metrics-" + String(repeating: "a", count: 40)
        #expect(DeviceToken.matches(token, token))
        #expect(!DeviceToken.matches(token.dropLast(), token))
        #expect(!DeviceToken.matches(token + "a", token))
        #expect(!DeviceToken.matches("", token))
        #expect(!DeviceToken.matches("x" + token.dropFirst(), token))
    }

    /// Authentication records a token's use when it is bound, and then at most once a
    /// minute: a device syncing every second does not write on every request.
    @Test func aTokensUseIsRecordedWhenBoundThenAtMostOnceAMinute() async throws {
        let device = "01900000-0000-7000-8000-0000000000d1"
        func uses(_ token: TokenUse, at now: Int64) async throws -> [String] {
            var calls: [String] = []
            _ = try await authenticatedUser(deviceId: device, now: now) {
                calls.append("lookup")
                return token
            } bind: {
                calls.append("bind")
                return device
            } touch: {
                calls.append("touch")
            }
            return calls
        }
        #expect(try await uses(TokenUse(userId: 1, deviceId: nil, lastUsedAt: nil), at: 1_000) == ["lookup", "bind"])
        #expect(try await uses(TokenUse(userId: 1, deviceId: device, lastUsedAt: 1_000), at: 60_999) == ["lookup"])
        #expect(try await uses(TokenUse(userId: 1, deviceId: device, lastUsedAt: 1_000), at: 61_000) == ["lookup", "touch"])
        #expect(try await uses(TokenUse(userId: 1, deviceId: device, lastUsedAt: nil), at: 61_000) == ["lookup", "touch"])
        await #expect(throws: ServerError.self) {
            try await uses(TokenUse(userId: 1, deviceId: "01900000-0000-7000-8000-0000000000d2", lastUsedAt: nil), at: 0)
        }
    }
}
