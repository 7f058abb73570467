import Hummingbird
import MarginCore
import MarginWire

/// Reading the protocol's JSON request bodies: plain or gzip, size limits before and after
/// decompression, strict UTF-8, and decoding errors that say where.
enum JSONBody {
    static func decode<Value: WireMessage>(_ type: Value.Type, from request: Request) async throws -> Value {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: SyncProtocol.maximumRequestBytes)
        } catch {
            throw ServerError(.tooLarge, "the request body is larger than \(SyncProtocol.maximumRequestBytes >> 20) MiB; send smaller batches")
        }
        if let contentType = request.headers[.contentType], !contentType.hasPrefix("application/json") {
            throw ServerError(.unsupportedMediaType, "the request body must be JSON (Content-Type: application/json)")
        }
        var bytes = Array(buffer.readableBytesView)
        switch request.headers[.contentEncoding]?.lowercased() {
        case nil, "identity":
            break
        case "gzip":
            guard let inflated = Gzip.decompress(bytes, limit: SyncProtocol.maximumRequestBytes) else {
                throw ServerError(
                    .badRequest, "the gzip request body is damaged or inflates beyond \(SyncProtocol.maximumRequestBytes >> 20) MiB")
            }
            bytes = inflated
        default:
            throw ServerError(.unsupportedMediaType, "request bodies may be sent plain or gzip-compressed only")
        }
        // The reader checks UTF-8 as it reads strings (outside them only ASCII is valid JSON).
        do {
            return try Value(jsonBytes: bytes)
        } catch {
            throw ServerError(.badRequest, "invalid request: \(error.message)")
        }
    }

}

/// A reply of the protocol: its JSON, gzip-compressed when it is larger than
/// `compressionThreshold` and the client accepts gzip.
struct JSONReply: ResponseGenerator {
    /// Replies larger than this are compressed.
    static let compressionThreshold = 1_400

    let bytes: [UInt8]

    init(_ message: some WireMessage) {
        bytes = message.jsonBytes
    }

    /// A reply already written (a pull page is written for the version the request speaks).
    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    func response(from request: Request, context: some RequestContext) -> Response {
        var bytes = bytes
        var headers: HTTPFields = [.contentType: "application/json"]
        if bytes.count > Self.compressionThreshold, request.headers[.acceptEncoding]?.contains("gzip") == true {
            bytes = Gzip.compress(bytes, level: 1)
            headers[.contentEncoding] = "gzip"
        }
        // One buffer, written at once: a reply split over two writes can wait out the
        // client's delayed ACK (Nagle's algorithm) before its second part leaves.
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
