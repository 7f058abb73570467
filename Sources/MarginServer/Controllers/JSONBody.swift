import Foundation
import Hummingbird
import MarginCore

/// Reading and writing the protocol's JSON bodies: gzip either way, size limits before
/// and after decompression, strict UTF-8, and decoding errors that say where.
enum JSONBody {
    /// Replies larger than this are gzip-compressed when the client accepts it.
    static let compressionThreshold = 1_400

    static func decode<Value: Decodable>(_ type: Value.Type, from request: Request) async throws -> Value {
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
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw ServerError(.badRequest, "the request body is not valid UTF-8")
        }
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch let error as DecodingError {
            throw ServerError(.badRequest, "invalid request: \(describe(error))")
        } catch {
            throw ServerError(.badRequest, "the request body is not valid JSON")
        }
    }

    static func response(_ value: some Encodable, for request: Request) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        var bytes = [UInt8](try encoder.encode(value))
        var headers: HTTPFields = [.contentType: "application/json"]
        if bytes.count > compressionThreshold, request.headers[.acceptEncoding]?.contains("gzip") == true {
            bytes = Gzip.compress(bytes, level: 1)
            headers[.contentEncoding] = "gzip"
        }
        // One buffer, written at once (see DESIGN-NOTES on Nagle and delayed ACKs).
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// "changes[2].fields: expected …" — where the body went wrong and how.
    static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            var text = ""
            for key in codingPath {
                if let index = key.intValue { text += "[\(index)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
            }
            return text.isEmpty ? "the body" : text
        }
        switch error {
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)): expected \(typeName(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)): expected \(typeName(type)), found null"
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])): missing"
        case .dataCorrupted(let context):
            let reason = context.debugDescription.hasPrefix("unknown field") || context.debugDescription.hasPrefix("a field value")
                || context.debugDescription.hasPrefix("Cannot initialize")
                ? context.debugDescription : "not valid here"
            return context.codingPath.isEmpty ? "the body is not valid JSON" : "\(path(context.codingPath)): \(reason)"
        @unknown default:
            return "the body does not match the protocol"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is Bool.Type: "a boolean"
        default: type is any Collection.Type ? "a list" : "an object"
        }
    }
}
