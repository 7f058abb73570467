import MarginSync
import MarginTestSupport
import Testing

/// The libcurl transport against a real web server on 127.0.0.1 (`WebServer`).
@Suite struct CurlTransportTests {
    /// libcurl asks for `Expect: 100-continue` on bodies over 1 MB and, from a server that
    /// does not answer it (margin-server does not), waits a second before sending each: a
    /// push of large articles would wait that long per batch.
    @Test func aLargeBodyGoesWithoutAskingToContinue() async throws {
        let server = try await WebServer.start()
        defer { server.stop() }
        server.serve("/v1/push", Array("{}".utf8), contentType: "application/json")
        let body = [UInt8](repeating: UInt8(ascii: "a"), count: 3 * 1024 * 1024)

        let reply = try CurlTransport(insecure: false).post(
            url: server.url + "/v1/push", headers: ["Content-Type: application/json"], body: body, timeout: .seconds(10))

        #expect(reply.status == 200)
        #expect(server.requests(of: "/v1/push") == 1)
        #expect(server.header("Content-Type", ofLastRequestFor: "/v1/push") == "application/json")
        #expect(server.header("Expect", ofLastRequestFor: "/v1/push") == nil)
    }
}
