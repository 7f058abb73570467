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
}
