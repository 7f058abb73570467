import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import MarginCore
import MarginWire
import Testing

@testable import MarginServer

/// `/v1`'s guard, through the router alone (HummingbirdTesting, no socket): each refusal
/// with its status and code, and what an address that keeps failing gets.
@Suite struct AuthenticationMiddlewareTests {
    static let device = "01900000-0000-7000-8000-0000000000d1"

    /// A router over a new SQLite store holding one user; runs `body` with a client and
    /// the user's token.
    func withRouter(
        failedAuthenticationLimit: Int = 20, _ body: @Sendable (any TestClientProtocol, String) async throws -> Void
    ) async throws {
        try await withTemporaryStore { repository, _ in
            let token = DeviceToken.make()
            try await repository.addUser(name: "ada", tokenHash: DeviceToken.hash(token), now: 0)
            let router = buildRouter(
                ServerConfiguration(failedAuthenticationLimit: failedAuthenticationLimit), repository: repository,
                metrics: ServerMetrics())
            try await Application(router: router).test(.router) { client in try await body(client, token) }
        }
    }

    /// A reply's status and, for an error, its code.
    struct Reply: Equatable {
        var status: HTTPResponse.Status
        var code: String?

        init(_ status: HTTPResponse.Status, _ code: String? = nil) {
            self.status = status
            self.code = code
        }
    }

    /// POSTs a pull from nothing with `headers`.
    static func pull(_ client: any TestClientProtocol, _ headers: HTTPFields) async throws -> Reply {
        try await client.execute(uri: "/v1/pull", method: .post, headers: headers, body: ByteBuffer(string: #"{"cursor": 0}"#)) {
            response in Reply(response.status, try? ErrorResponse(jsonBytes: Array(response.body.readableBytesView)).error.code)
        }
    }

    static func headers(token: String?, version: String? = String(SyncProtocol.version), device: String? = device) -> HTTPFields {
        var fields: HTTPFields = [.contentType: "application/json"]
        if let version { fields[HTTPField.Name(SyncProtocol.versionHeader)!] = version }
        if let device { fields[HTTPField.Name(SyncProtocol.deviceHeader)!] = device }
        if let token { fields[.authorization] = "Bearer \(token)" }
        return fields
    }

    @Test func eachMissingOrWrongPartIsRefusedWithItsOwnStatus() async throws {
        try await withRouter { client, token in
            var reply = try await Self.pull(client, Self.headers(token: token, version: nil))
            #expect(reply == Reply(.badRequest, "bad_request"))
            reply = try await Self.pull(client, Self.headers(token: token, version: "1"))
            #expect(reply == Reply(.upgradeRequired, "upgrade_required"))
            reply = try await Self.pull(client, Self.headers(token: nil))
            #expect(reply == Reply(.unauthorized, "unauthorized"))
            reply = try await Self.pull(client, Self.headers(token: "mgn_not-a-token"))
            #expect(reply == Reply(.unauthorized, "unauthorized"))
            reply = try await Self.pull(client, Self.headers(token: token, device: "../etc"))
            #expect(reply == Reply(.badRequest, "bad_request"))
            reply = try await Self.pull(client, Self.headers(token: token))
            #expect(reply == Reply(.ok))
            // The token is now bound to that device: another device id is refused.
            let other = "01900000-0000-7000-8000-0000000000d2"
            reply = try await Self.pull(client, Self.headers(token: token, device: other))
            #expect(reply == Reply(.forbidden, "forbidden"))
        }
    }

    @Test func anAddressThatKeepsFailingIsRefusedEvenWithAGoodToken() async throws {
        try await withRouter(failedAuthenticationLimit: 3) { client, token in
            for _ in 0..<3 {
                let reply = try await Self.pull(client, Self.headers(token: "mgn_wrong"))
                #expect(reply == Reply(.unauthorized, "unauthorized"))
            }
            let reply = try await Self.pull(client, Self.headers(token: token))
            #expect(reply == Reply(.tooManyRequests, "rate_limited"))
        }
    }
}
