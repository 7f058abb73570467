import Testing

@testable import MarginServer

@Suite struct TrustedProxiesTests {
    @Test func addressesAndNetworksOfBothFamiliesAreTrusted() throws {
        let proxies = try TrustedProxies(["127.0.0.1", "10.0.0.0/8", "192.168.1.128/25", "fd00::/8", "::1"])

        #expect(proxies.contains("127.0.0.1") && !proxies.contains("127.0.0.2"))
        #expect(proxies.contains("10.255.1.2") && !proxies.contains("11.0.0.1"))
        #expect(proxies.contains("192.168.1.200") && !proxies.contains("192.168.1.127"))
        #expect(proxies.contains("fd12:3456::1") && !proxies.contains("fe80::1"))
        #expect(proxies.contains("::1") && proxies.contains("::ffff:10.1.2.3"))
        #expect(!proxies.contains("not an address") && !proxies.contains(""))
    }

    @Test func specificationsThatAreNotAddressesAreRefused() {
        for bad in ["localhost", "10.0.0.0/33", "10.0.0.0/", "::1/129", "1.2.3", "10.0.0.0/-1", ""] {
            #expect(throws: ServerError.self, "\(bad)") { try TrustedProxies([bad]) }
        }
    }

    /// The client is the rightmost address a trusted proxy did not add itself; what the
    /// client wrote further left is never believed, and nothing is believed from a peer
    /// that is not a trusted proxy.
    @Test func theClientIsTheRightmostAddressThatIsNotATrustedProxy() throws {
        let proxies = try TrustedProxies(["127.0.0.1", "10.0.0.0/8"])

        #expect(proxies.clientAddress(peer: "127.0.0.1", forwardedFor: ["198.51.100.7"]) == "198.51.100.7")
        #expect(proxies.clientAddress(peer: "127.0.0.1", forwardedFor: ["1.1.1.1, 198.51.100.7, 10.0.0.5"]) == "198.51.100.7")
        #expect(proxies.clientAddress(peer: "127.0.0.1", forwardedFor: ["1.1.1.1", "198.51.100.7 ,10.0.0.5"]) == "198.51.100.7")
        #expect(proxies.clientAddress(peer: "127.0.0.1", forwardedFor: ["10.0.0.9, 10.0.0.5"]) == "10.0.0.9")
        #expect(proxies.clientAddress(peer: "127.0.0.1", forwardedFor: []) == "127.0.0.1")
        #expect(proxies.clientAddress(peer: "203.0.113.1", forwardedFor: ["198.51.100.7"]) == "203.0.113.1")
        #expect(TrustedProxies.none.clientAddress(peer: "127.0.0.1", forwardedFor: ["198.51.100.7"]) == "127.0.0.1")
    }
}
