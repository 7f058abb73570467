import Hummingbird
import Logging
import MarginCore
import MarginSchema
import MarginWire

/// The sync protocol's endpoints under `/v1` (authenticated): push, pull, bodies and the
/// protocol's description.
struct SyncController {
    let repository: any SyncRepository
    let metrics: ServerMetrics
    /// How many bytes of records (or bodies) one reply carries at most.
    var pageBytes = 4 * 1024 * 1024

    func addRoutes(to group: RouterGroup<SyncRequestContext>) {
        group.post("push", use: push)
        group.post("pull", use: pull)
        group.post("bodies", use: bodies)
        group.get("openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: EmbeddedSchema.openAPI)))
        }
    }

    @Sendable func push(_ request: Request, context: SyncRequestContext) async throws -> Response {
        let push = try CheckedPush(try await JSONBody.decode(PushRequest.self, from: request))
        let (userId, deviceId) = try identity(context)
        let outcome = try await repository.push(push, userId: userId, deviceId: deviceId, now: Timestamp.now().milliseconds)
        metrics.changesApplied.increment(by: Int64(outcome.applied))
        metrics.conflicts.increment(by: Int64(outcome.conflicts))
        context.logger.debug(
            "push", metadata: ["sync.push.count": "\(push.request.changes.count)", "sync.push.applied": "\(outcome.applied)",
                               "sync.push.conflicts": "\(outcome.conflicts)", "sync.push.rejected": "\(push.refusals.count)"])
        return JSONBody.response(outcome.response.jsonBytes, for: request)
    }

    @Sendable func pull(_ request: Request, context: SyncRequestContext) async throws -> Response {
        let pull = try await JSONBody.decode(PullRequest.self, from: request)
        guard pull.cursor >= 0, (pull.bound ?? 0) >= 0, (pull.pushedSeq ?? 0) >= 0,
              (1...SyncProtocol.maximumBatchCount).contains(pull.limit ?? 1)
        else {
            throw ServerError(
                .badRequest,
                "cursor, bound and pushedSeq cannot be negative, and limit must be from 1 to \(SyncProtocol.maximumBatchCount)")
        }
        // Characters as the protocol's description counts them (JSON Schema's maxLength:
        // code points), not bytes.
        guard (pull.history?.unicodeScalars.count ?? 0) <= 64 else {
            throw ServerError(.badRequest, "history has at most 64 characters")
        }
        let (userId, deviceId) = try identity(context)
        let page = try await repository.pull(pull, userId: userId, deviceId: deviceId, byteLimit: pageBytes)
        return JSONBody.response(page.jsonBytes(protocolVersion: context.protocolVersion), for: request)
    }

    @Sendable func bodies(_ request: Request, context: SyncRequestContext) async throws -> Response {
        let wanted = try await JSONBody.decode(BodiesRequest.self, from: request)
        guard wanted.hashes.count <= SyncProtocol.maximumBatchCount else {
            throw ServerError(.badRequest, "ask for at most \(SyncProtocol.maximumBatchCount) bodies at a time")
        }
        if let index = wanted.hashes.firstIndex(where: { !ContentHash.isValid($0) }) {
            throw ServerError(.badRequest, "hashes[\(index)]: must be 64 lowercase hexadecimal digits")
        }
        let (userId, _) = try identity(context)
        let bodies = try await repository.bodies(wanted.hashes, userId: userId, byteLimit: pageBytes)
        return JSONBody.response(BodiesResponse(bodies: bodies).jsonBytes, for: request)
    }

    private func identity(_ context: SyncRequestContext) throws -> (Int64, String) {
        guard let userId = context.userId, let deviceId = context.deviceId else {
            throw ServerError(.unauthorized, "a bearer token is required")
        }
        return (userId, deviceId)
    }
}
