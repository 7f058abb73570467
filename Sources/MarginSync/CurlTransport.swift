import CCurl
import Foundation

/// A failed transfer: libcurl's code, its description (`curl_easy_strerror`) and the
/// details it wrote to `CURLOPT_ERRORBUFFER`.
public struct CurlError: Error, Sendable, CustomStringConvertible {
    public var code: UInt32
    public var message: String
    public var detail: String

    /// Failures worth retrying: the server could not be reached or did not answer in time.
    public var isTransient: Bool {
        [CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY,
         CURLE_GOT_NOTHING, CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_PARTIAL_FILE]
            .map(\.rawValue).contains(code)
    }

    public var description: String {
        "curl error \(code): \(message)" + (detail.isEmpty || detail == message ? "" : " (\(detail))")
    }
}

/// An HTTP response: status and (decompressed) body; for a GET, the address it ended up
/// at after redirects and its `Content-Type`.
public struct HTTPReply: Sendable {
    public var status: Int
    public var body: [UInt8]
    public var url: String = ""
    public var contentType: String?
    /// How long the server asked to wait before trying again (`Retry-After`, in seconds or
    /// as a date), when it said.
    public var retryAfter: Duration?
}

/// HTTP over one libcurl easy handle (libcurl is loaded on first use, see `CCurl`), reused for every request of a sync so that the
/// connection is kept alive. Responses are decompressed by libcurl (gzip, deflate);
/// proxies come from the usual environment variables, as curl reads them; TLS peers
/// are verified unless `insecure` is set explicitly.
///
/// Owned by one task at a time; not `Sendable`.
public final class CurlTransport {
    private let handle: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private let response = ResponseBuffer()
    private let api: UnsafePointer<ccurl_api>

    /// libcurl, loaded and initialized once per process (`nil` if it is not installed).
    private static let library: CurlLibrary? = {
        let api = UnsafeMutablePointer<ccurl_api>.allocate(capacity: 1)
        guard ccurl_load(api) == 0, api.pointee.global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK else { return nil }
        return CurlLibrary(api: UnsafePointer(api))
    }()

    /// Starts loading libcurl on a background thread, so that its ~6 ms of loading and
    /// initialization overlap the caller's own start-up (argument parsing, opening the
    /// store). A transport made before the load finishes waits for it.
    public static func preload() {
        Thread.detachNewThread { _ = library }
    }

    /// A transport; `connectTimeout` bounds each connection attempt.
    public init(insecure: Bool, connectTimeout: Duration = .seconds(10)) throws(CurlError) {
        guard let api = Self.library?.api else {
            throw CurlError(
                code: CURLE_FAILED_INIT.rawValue,
                message: "libcurl is not installed (libcurl.so.4); install it (Debian: apt-get install libcurl4)", detail: "")
        }
        guard let handle = api.pointee.easy_init() else {
            throw CurlError(code: CURLE_FAILED_INIT.rawValue, message: "libcurl could not be initialized", detail: "")
        }
        self.api = api
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        ccurl_setopt_pointer(api, handle, CURLOPT_ERRORBUFFER, errorBuffer)
        ccurl_setopt_long(api, handle, CURLOPT_NOSIGNAL, 1)
        ccurl_setopt_string(api, handle, CURLOPT_ACCEPT_ENCODING, "")
        ccurl_setopt_long(api, handle, CURLOPT_TCP_NODELAY, 1)
        ccurl_setopt_long(api, handle, CURLOPT_TCP_KEEPALIVE, 1)
        ccurl_setopt_string(api, handle, CURLOPT_PROTOCOLS_STR, "http,https")
        ccurl_setopt_string(api, handle, CURLOPT_USERAGENT, "margin/1")
        ccurl_setopt_long(api, handle, CURLOPT_CONNECTTIMEOUT_MS, Int(connectTimeout / .milliseconds(1)))
        ccurl_setopt_long(api, handle, CURLOPT_SSL_VERIFYPEER, insecure ? 0 : 1)
        ccurl_setopt_long(api, handle, CURLOPT_SSL_VERIFYHOST, insecure ? 0 : 2)
        ccurl_setopt_data_callback(api, handle, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            guard let data, let context else { return 0 }
            let buffer = Unmanaged<ResponseBuffer>.fromOpaque(context).takeUnretainedValue()
            let length = size * count
            // Over the caller's cap: stop the transfer (libcurl reports a write error).
            guard buffer.bytes.count + length <= buffer.limit else {
                buffer.exceeded = true
                return 0
            }
            data.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
                buffer.bytes.append(contentsOf: UnsafeBufferPointer(start: bytes, count: length))
            }
            return length
        }
        ccurl_setopt_pointer(api, handle, CURLOPT_WRITEDATA, Unmanaged.passUnretained(response).toOpaque())
    }

    deinit {
        api.pointee.easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// POSTs `body` to `url` with `headers` ("Name: value"), waiting at most `timeout`.
    /// Redirects are not followed. The body goes at once: libcurl would otherwise ask for
    /// `Expect: 100-continue` on bodies over 1 MB and, from a server that does not answer
    /// it (margin-server does not), wait a whole second before sending each one.
    public func post(url: String, headers: [String], body: [UInt8], timeout: Duration) throws(CurlError) -> HTTPReply {
        ccurl_setopt_long(api, handle, CURLOPT_FOLLOWLOCATION, 0)
        ccurl_setopt_long(api, handle, CURLOPT_POSTFIELDSIZE, body.count)
        body.withUnsafeBytes { bytes in
            _ = ccurl_setopt_pointer(api, handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
        }
        return try perform(url: url, headers: headers + ["Expect:"], timeout: timeout, maximumBytes: .max)
    }

    /// GETs `url` with `headers`, following at most `maximumRedirects` redirects (http and
    /// https only), waiting at most `timeout` in all; a body over `maximumBytes` stops the
    /// transfer with `CURLE_WRITE_ERROR` (`isTooLarge`).
    public func get(
        url: String, headers: [String], timeout: Duration, maximumBytes: Int, maximumRedirects: Int = 10
    ) throws(CurlError) -> HTTPReply {
        ccurl_setopt_long(api, handle, CURLOPT_HTTPGET, 1)
        ccurl_setopt_long(api, handle, CURLOPT_FOLLOWLOCATION, 1)
        ccurl_setopt_long(api, handle, CURLOPT_MAXREDIRS, maximumRedirects)
        ccurl_setopt_string(api, handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        ccurl_setopt_off_t(api, handle, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(maximumBytes))
        var reply = try perform(url: url, headers: headers, timeout: timeout, maximumBytes: maximumBytes)
        var text: UnsafePointer<CChar>?
        if ccurl_getinfo_string(api, handle, CURLINFO_EFFECTIVE_URL, &text) == CURLE_OK, let text { reply.url = String(cString: text) }
        text = nil
        if ccurl_getinfo_string(api, handle, CURLINFO_CONTENT_TYPE, &text) == CURLE_OK, let text { reply.contentType = String(cString: text) }
        return reply
    }

    private func perform(url: String, headers: [String], timeout: Duration, maximumBytes: Int) throws(CurlError) -> HTTPReply {
        response.bytes.removeAll(keepingCapacity: true)
        response.limit = maximumBytes
        response.exceeded = false
        errorBuffer[0] = 0
        var list: UnsafeMutablePointer<curl_slist>?
        for header in headers { list = api.pointee.slist_append(list, header) }
        defer { api.pointee.slist_free_all(list) }
        ccurl_setopt_string(api, handle, CURLOPT_URL, url)
        ccurl_setopt_slist(api, handle, CURLOPT_HTTPHEADER, list)
        ccurl_setopt_long(api, handle, CURLOPT_TIMEOUT_MS, max(1, Int(timeout / .milliseconds(1))))
        let code = api.pointee.easy_perform(handle)
        guard code == CURLE_OK else {
            let tooLarge = response.exceeded || code == CURLE_FILESIZE_EXCEEDED
            throw CurlError(
                code: tooLarge ? CURLE_FILESIZE_EXCEEDED.rawValue : code.rawValue,
                message: api.pointee.easy_strerror(tooLarge ? CURLE_FILESIZE_EXCEEDED : code).map { String(cString: $0) }
                    ?? "error \(code.rawValue)",
                detail: String(cString: errorBuffer))
        }
        var status = 0
        ccurl_getinfo_long(api, handle, CURLINFO_RESPONSE_CODE, &status)
        var reply = HTTPReply(status: status, body: response.bytes)
        var retryAfter: curl_off_t = 0
        if ccurl_getinfo_off_t(api, handle, CURLINFO_RETRY_AFTER, &retryAfter) == CURLE_OK, retryAfter > 0 {
            reply.retryAfter = .seconds(retryAfter)
        }
        return reply
    }
}

/// libcurl's function table, loaded once.
private final class CurlLibrary: @unchecked Sendable {
    // Safe: the table is filled before this object exists and only read afterwards.
    let api: UnsafePointer<ccurl_api>

    init(api: UnsafePointer<ccurl_api>) {
        self.api = api
    }
}

/// Where the write callback collects a response body, up to `limit` bytes.
private final class ResponseBuffer {
    var bytes: [UInt8] = []
    var limit = Int.max
    /// Whether the body went over `limit` (the transfer was stopped).
    var exceeded = false
}
