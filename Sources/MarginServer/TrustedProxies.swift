#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MarginCore

/// The reverse proxies (`margin-server serve --trusted-proxy`) whose `X-Forwarded-For`
/// the server believes, to learn the address of the client behind them — the address the
/// failed-authentication limit counts. Without any, the header is ignored: anyone can
/// write it.
///
/// A proxy appends the address it received the request from to the header, so the client
/// is the rightmost address that is not itself a trusted proxy; addresses further left
/// came from the client and may be forged.
///
/// For example:
/// ```swift
/// let proxies = try TrustedProxies(["127.0.0.1", "10.0.0.0/8"])
/// proxies.clientAddress(peer: "127.0.0.1", forwardedFor: ["198.51.100.7, 10.1.2.3"])  // "198.51.100.7"
/// ```
public struct TrustedProxies: Sendable, Hashable {
    /// One address (IPv4 or IPv6) with the number of leading bits that must match.
    struct Network: Sendable, Hashable {
        let bytes: [UInt8]
        let prefixLength: Int

        func contains(_ address: [UInt8]) -> Bool {
            guard address.count == bytes.count else { return false }
            var remaining = prefixLength
            for (ours, theirs) in zip(bytes, address) where remaining > 0 {
                let mask: UInt8 = remaining >= 8 ? 0xFF : ~(0xFF >> UInt8(remaining))
                if ours & mask != theirs & mask { return false }
                remaining -= 8
            }
            return true
        }
    }

    let networks: [Network]

    private init(networks: [Network]) {
        self.networks = networks
    }

    /// Parses addresses and networks: `127.0.0.1`, `::1`, `10.0.0.0/8`, `fd00::/8`.
    public init(_ specifications: [String]) throws(ServerError) {
        self.init(networks: try specifications.map { specification throws(ServerError) in
            let parts = specification.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            guard let bytes = Self.bytes(of: String(parts[0])) else {
                throw ServerError(.badRequest, "'\(specification)' is not an IP address or ADDRESS/PREFIX network")
            }
            let length = parts.count == 2 ? Int(parts[1]) : bytes.count * 8
            guard let length, (0...bytes.count * 8).contains(length) else {
                throw ServerError(.badRequest, "'\(specification)' has a prefix length outside 0 to \(bytes.count * 8)")
            }
            return Network(bytes: bytes, prefixLength: length)
        })
    }

    /// No proxy trusted: the peer is the client.
    public static let none = TrustedProxies(networks: [])

    /// Whether `address` (text) is one of the trusted proxies.
    public func contains(_ address: String) -> Bool {
        guard let bytes = Self.bytes(of: address) else { return false }
        return networks.contains { $0.contains(bytes) }
    }

    /// The client's address: `peer` unless `peer` is a trusted proxy; then the rightmost
    /// address of the `X-Forwarded-For` values (in the order the headers came) that is not
    /// a trusted proxy, or the leftmost when all are.
    public func clientAddress(peer: String, forwardedFor values: [String]) -> String {
        guard contains(peer) else { return peer }
        let chain = values.flatMap { $0.split(separator: ",") }.map { $0.trimmingSpaces() }.filter { !$0.isEmpty }
        return chain.last { !contains($0) } ?? chain.first ?? peer
    }

    /// The address's bytes (4 for IPv4, and for IPv4 mapped into IPv6 as a dual-stack
    /// socket reports it; 16 for IPv6), or nil when it is not an address.
    static func bytes(of address: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, address, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        let mappedPrefix: [UInt8] = Array(repeating: 0, count: 10) + [0xFF, 0xFF]
        return bytes.starts(with: mappedPrefix) ? Array(bytes[12...]) : bytes
    }
}
