import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTLS
import Logging
import MarginCore
import MarginWire
import NIOSSL
import SwiftASN1
import Synchronization
import X509

/// A web server on 127.0.0.1 for the tests that fetch pages: Hummingbird, over plain HTTP
/// or over TLS with a self-signed certificate (which a client that verifies refuses). It
/// serves the pages of `Tests/WebPages` at `/pages/NAME.html`, what a test adds with
/// `serve`, and the ways the web misbehaves:
///
/// - `/redirect/N/PATH`: N redirects (302), then `PATH`; `/loop`: redirects to itself.
/// - `/slow/MS/PATH`: `PATH` after MS milliseconds.
/// - `/gzip/PATH`: `PATH` gzip-compressed (`Content-Encoding: gzip`).
/// - `/status/CODE`: an HTML page with that status.
/// - `/endless`: an HTML page that never ends (256 KiB every millisecond or so).
///
/// Every request is counted by path (`requests(of:)`), and its headers kept (`header(_:ofLastRequestFor:)`).
///
/// For example:
/// ```swift
/// let server = try await WebServer.start()
/// defer { server.stop() }
/// server.serve("/report.pdf", Array("%PDF-1.7".utf8), contentType: "application/pdf")
/// // fetch server.url + "/pages/blog-post.html", server.url + "/report.pdf"…
/// ```
public final class WebServer: Sendable {
    /// A canned answer.
    public struct Answer: Sendable {
        public var status: Int
        public var contentType: String?
        public var body: [UInt8]

        public init(status: Int = 200, contentType: String?, body: [UInt8]) {
            self.status = status
            self.contentType = contentType
            self.body = body
        }
    }

    /// What the server answers, and the requests it had.
    private final class Site: Sendable {
        let state: Mutex<(answers: [String: Answer], counts: [String: Int], headers: [String: HTTPFields])>

        init(answers: [String: Answer]) {
            state = Mutex((answers, [:], [:]))
        }
    }

    /// `http://127.0.0.1:PORT`, or `https://…` over TLS.
    public let url: String
    private let site: Site
    private let task = Mutex<Task<Void, any Error>?>(nil)

    private init(url: String, site: Site) {
        self.url = url
        self.site = site
    }

    /// Starts a server with the pages of `Tests/WebPages`; over TLS when `tls`.
    public static func start(tls: Bool = false) async throws -> WebServer {
        var answers: [String: Answer] = [:]
        for page in try WebPageCorpus().pages {
            answers["/pages/\(page.name).html"] = Answer(contentType: "text/html", body: page.html)
        }
        let site = Site(answers: answers)
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let responder = CallbackResponder { (request: Request, _: BasicRequestContext) in
            site.state.withLock { $0.headers[request.uri.path] = request.headers }
            return try await Self.respond(to: request.uri.path, site: site)
        }
        var logger = Logger(label: "WebServer")
        logger.logLevel = .critical
        let app = Application(
            responder: responder,
            server: tls ? try .tls(.http1(), tlsConfiguration: try selfSignedConfiguration()) : .http1(),
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "WebServer"),
            onServerRunning: { channel in
                portSink.yield(channel.localAddress?.port ?? 0)
                portSink.finish()
            },
            logger: logger)
        let running = Task { try await app.runService(gracefulShutdownSignals: []) }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            running.cancel()
            throw ServerProcessError(description: "the test web server did not start")
        }
        let server = WebServer(url: "\(tls ? "https" : "http")://127.0.0.1:\(port)", site: site)
        server.task.withLock { $0 = running }
        return server
    }

    /// Stops the server.
    public func stop() {
        task.withLock { $0?.cancel() }
    }

    /// Serves `body` at `path` from now on.
    public func serve(_ path: String, _ body: [UInt8], contentType: String?, status: Int = 200) {
        site.state.withLock { $0.answers[path] = Answer(status: status, contentType: contentType, body: body) }
    }

    /// How many requests `path` has had.
    public func requests(of path: String) -> Int {
        site.state.withLock { $0.counts[path, default: 0] }
    }

    /// The value of header `name` in the last request for `path`.
    public func header(_ name: String, ofLastRequestFor path: String) -> String? {
        site.state.withLock { state in HTTPField.Name(name).flatMap { state.headers[path]?[$0] } }
    }

    // MARK: - Answers

    private static func respond(to path: String, site: Site) async throws -> Response {
        site.state.withLock { $0.counts[path, default: 0] += 1 }
        let parts = path.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: true).map(String.init)
        switch parts.first {
        case "redirect" where parts.count == 3:
            let remaining = (Int(parts[1]) ?? 0) - 1
            let target = remaining > 0 ? "/redirect/\(remaining)/\(parts[2])" : "/\(parts[2])"
            return Response(status: .found, headers: [.location: target])
        case "loop":
            return Response(status: .found, headers: [.location: "/loop"])
        case "slow" where parts.count == 3:
            try await Task.sleep(for: .milliseconds(Int(parts[1]) ?? 0))
            return try await respond(to: "/" + parts[2], site: site)
        case "gzip" where parts.count >= 2:
            let rest = "/" + parts.dropFirst().joined(separator: "/")
            guard let answer = site.state.withLock({ $0.answers[rest] }) else { return page(status: 404) }
            var response = response(answer, body: Gzip.compress(answer.body))
            response.headers[HTTPField.Name("Content-Encoding")!] = "gzip"
            return response
        case "status" where parts.count == 2:
            return page(status: Int(parts[1]) ?? 500)
        case "endless":
            var headers = HTTPFields()
            headers[.contentType] = "text/html; charset=utf-8"
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                let chunk = ByteBuffer(bytes: Array("<p>\(String(repeating: "endless text ", count: 20_160))</p>\n".utf8))
                try await writer.write(ByteBuffer(string: "<!doctype html><title>Endless</title>\n"))
                while true {
                    try await writer.write(chunk)
                    try await Task.sleep(for: .milliseconds(1))
                }
            })
        default:
            guard let answer = site.state.withLock({ $0.answers[path] }) else { return page(status: 404) }
            return response(answer, body: answer.body)
        }
    }

    private static func response(_ answer: Answer, body: [UInt8]) -> Response {
        var headers = HTTPFields()
        if let contentType = answer.contentType { headers[.contentType] = contentType }
        return Response(status: .init(code: answer.status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    private static func page(status: Int) -> Response {
        let response = HTTPResponse.Status(code: status)
        return Self.response(
            Answer(status: status, contentType: "text/html; charset=utf-8", body: Array("<h1>\(status) \(response.reasonPhrase)</h1>".utf8)),
            body: Array("<!doctype html><title>\(status)</title><h1>\(status) \(response.reasonPhrase)</h1>".utf8))
    }

    /// A server configuration with a fresh self-signed certificate for 127.0.0.1.
    private static func selfSignedConfiguration() throws -> TLSConfiguration {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName("127.0.0.1") }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now - 3_600, notValidAfter: now + 86_400, issuer: name, subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                SubjectAlternativeNames([.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))])
            },
            issuerPrivateKey: .init(key))
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: serializer.serializedBytes, format: .der))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(key.derRepresentation), format: .der)))
    }
}
