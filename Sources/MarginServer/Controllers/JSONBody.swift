import Hummingbird
import MarginCore
import MarginWire

/// Reading and writing the protocol's JSON bodies: gzip either way, size limits before
/// and after decompression, strict UTF-8, and decoding errors that say where.
enum JSONBody {
    /// Replies larger than this are gzip-compressed when the client accepts it.
    static let compressionThreshold = 1_400

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

    static func response(_ bytes: [UInt8], for request: Request) -> Response {
        var bytes = bytes
        var headers: HTTPFields = [.contentType: "application/json"]
        if bytes.count > compressionThreshold, request.headers[.acceptEncoding]?.contains("gzip") == true {
            bytes = Gzip.compress(bytes, level: 1)
            headers[.contentEncoding] = "gzip"
        }
        // One buffer, written at once: a reply split over two writes can wait out the
        // client's delayed ACK (Nagle's algorithm) before its second part leaves.
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
