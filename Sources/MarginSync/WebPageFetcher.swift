import CCurl
import Foundation
import MarginCore
import MarginExtract

/// A web page as fetched: the address it ended up at after redirects, its `Content-Type`,
/// what it holds and its bytes.
public struct FetchedPage: Sendable {
    public var url: String
    public var contentType: String?
    public var kind: WebPage.Kind
    public var body: [UInt8]

    /// A page from `url` (empty when unknown, as for a page on standard input).
    public init(url: String, contentType: String?, kind: WebPage.Kind = .html, body: [UInt8]) {
        self.url = url
        self.contentType = contentType
        self.kind = kind
        self.body = body
    }
}

/// Fetches web pages over libcurl (`CurlTransport`): redirects followed (at most 10,
/// http and https only), compressed responses, a connect and a total time-out, proxies from
/// the environment as curl reads them (`https_proxy`, `no_proxy`…), TLS peers verified
/// unless `insecure`, a size cap, and a User-Agent that says who is asking. Anything but an
/// HTML page or plain text is refused with one line naming the address and the cause.
///
/// Owned by one thread at a time; not `Sendable` (its transport is not).
public final class WebPageFetcher {
    /// The most a page may weigh.
    public static let maximumBytes = 10 * 1024 * 1024
    public static let userAgent = "Mozilla/5.0 (compatible; margin/\(Release.version); Marginalia reading library)"

    private let transport: CurlTransport
    private let timeout: Duration

    /// A fetcher; `timeout` bounds each page, redirects included.
    public init(insecure: Bool, timeout: Duration = .seconds(30)) throws(MarginError) {
        do {
            transport = try CurlTransport(insecure: insecure, connectTimeout: min(timeout, .seconds(10)))
        } catch {
            throw MarginError(.io, "cannot start libcurl: \(error.message)")
        }
        self.timeout = timeout
    }

    /// The page at `url`, or a one-line error naming it and what went wrong.
    public func fetch(_ url: String) throws(MarginError) -> FetchedPage {
        let reply: HTTPReply
        do {
            reply = try transport.get(
                url: url,
                headers: [
                    "User-Agent: \(Self.userAgent)", "Accept: text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
                    "Accept-Language: *",
                ],
                timeout: timeout, maximumBytes: Self.maximumBytes)
        } catch {
            throw MarginError(.io, "\(url): \(Self.reason(error))")
        }
        let final = reply.url.isEmpty ? url : reply.url
        guard (200..<300).contains(reply.status) else {
            throw MarginError(.io, "\(url): the server answered HTTP \(reply.status)\(Self.statusText(reply.status))")
        }
        guard let kind = WebPage.Kind(contentType: reply.contentType, body: reply.body) else {
            throw MarginError(.unsupportedFile, "\(url): not an HTML page (\(WebPage.mediaType(reply.contentType) ?? "no content type"))")
        }
        return FetchedPage(url: final, contentType: reply.contentType, kind: kind, body: reply.body)
    }

    private static func reason(_ error: CurlError) -> String {
        switch error.code {
        case CURLE_COULDNT_RESOLVE_HOST.rawValue: "cannot resolve the host name; check the address"
        case CURLE_COULDNT_RESOLVE_PROXY.rawValue: "cannot resolve the proxy's host name; check https_proxy"
        case CURLE_COULDNT_CONNECT.rawValue: "cannot connect to the server"
        case CURLE_OPERATION_TIMEDOUT.rawValue: "no complete answer in time (timed out)"
        case CURLE_TOO_MANY_REDIRECTS.rawValue: "too many redirects (a redirect loop?)"
        case CURLE_FILESIZE_EXCEEDED.rawValue: "the page is larger than \(maximumBytes >> 20) MiB"
        case CURLE_PEER_FAILED_VERIFICATION.rawValue, CURLE_SSL_CONNECT_ERROR.rawValue, CURLE_SSL_CACERT_BADFILE.rawValue:
            "the TLS connection failed (\(error.detail.isEmpty ? error.message : error.detail)); --insecure skips the checks"
        case CURLE_UNSUPPORTED_PROTOCOL.rawValue, CURLE_URL_MALFORMAT.rawValue: "not an http or https address"
        default: error.detail.isEmpty ? error.message : error.detail
        }
    }

    private static func statusText(_ status: Int) -> String {
        switch status {
        case 401, 403: " (access denied)"
        case 404: " (not found)"
        case 410: " (gone)"
        case 429: " (too many requests)"
        case 500...599: " (server error)"
        default: ""
        }
    }
}
