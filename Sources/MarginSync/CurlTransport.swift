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

/// An HTTP response: status and (decompressed) body.
public struct HTTPReply: Sendable {
    public var status: Int
    public var body: [UInt8]
}

/// HTTP over one libcurl easy handle, reused for every request of a sync so that the
/// connection is kept alive. Responses are decompressed by libcurl (gzip, deflate);
/// proxies come from the usual environment variables, as curl reads them; TLS peers
/// are verified unless `insecure` is set explicitly.
///
/// Owned by one task at a time; not `Sendable`.
public final class CurlTransport {
    private let handle: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private let response = ResponseBuffer()

    private static let globalInitialization: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

    /// A transport; `connectTimeout` bounds each connection attempt.
    public init(insecure: Bool, connectTimeout: Duration = .seconds(10)) throws(CurlError) {
        guard Self.globalInitialization == CURLE_OK, let handle = curl_easy_init() else {
            throw CurlError(code: CURLE_FAILED_INIT.rawValue, message: "libcurl could not be initialized", detail: "")
        }
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        ccurl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
        ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        ccurl_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, "")
        ccurl_setopt_long(handle, CURLOPT_TCP_NODELAY, 1)
        ccurl_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1)
        ccurl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https")
        ccurl_setopt_string(handle, CURLOPT_USERAGENT, "margin/1")
        ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(connectTimeout / .milliseconds(1)))
        ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, insecure ? 0 : 1)
        ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, insecure ? 0 : 2)
        ccurl_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            guard let data, let context else { return 0 }
            let buffer = Unmanaged<ResponseBuffer>.fromOpaque(context).takeUnretainedValue()
            let length = size * count
            data.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
                buffer.bytes.append(contentsOf: UnsafeBufferPointer(start: bytes, count: length))
            }
            return length
        }
        ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, Unmanaged.passUnretained(response).toOpaque())
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// POSTs `body` to `url` with `headers` ("Name: value"), waiting at most `timeout`.
    public func post(url: String, headers: [String], body: [UInt8], timeout: Duration) throws(CurlError) -> HTTPReply {
        response.bytes.removeAll(keepingCapacity: true)
        errorBuffer[0] = 0
        var list: UnsafeMutablePointer<curl_slist>?
        for header in headers { list = curl_slist_append(list, header) }
        defer { curl_slist_free_all(list) }
        ccurl_setopt_string(handle, CURLOPT_URL, url)
        ccurl_setopt_slist(handle, CURLOPT_HTTPHEADER, list)
        ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, max(1, Int(timeout / .milliseconds(1))))
        ccurl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, body.count)
        body.withUnsafeBytes { bytes in
            _ = ccurl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
        }
        let code = curl_easy_perform(handle)
        guard code == CURLE_OK else {
            throw CurlError(
                code: code.rawValue, message: String(cString: curl_easy_strerror(code)), detail: String(cString: errorBuffer))
        }
        var status = 0
        ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPReply(status: status, body: response.bytes)
    }
}

/// Where the write callback collects a response body.
private final class ResponseBuffer {
    var bytes: [UInt8] = []
}
