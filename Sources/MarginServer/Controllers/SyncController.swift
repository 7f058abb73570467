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

    func addRoutes(to group: RouterGroup<AuthenticatedRequestContext>) {
        group.post("push", use: push)
        group.post("pull", use: pull)
        group.post("bodies", use: bodies)
        group.get("openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: EmbeddedSchema.openAPI)))
        }
    }

    @Sendable func push(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSONReply {
        let push = try CheckedPush(try await JSONBody.decode(PushRequest.self, from: request))
        let outcome = try await repository.push(
            push, userId: context.userId, deviceId: context.deviceId, now: Timestamp.now().milliseconds)
        metrics.changesApplied.increment(by: Int64(outcome.applied))
        metrics.conflicts.increment(by: Int64(outcome.conflicts))
        context.logger.debug(
            "push", metadata: ["sync.push.count": "\(push.request.changes.count)", "sync.push.applied": "\(outcome.applied)",
                               "sync.push.conflicts": "\(outcome.conflicts)", "sync.push.rejected": "\(push.refusals.count)"])
        return JSONReply(outcome.response)
    }

    @Sendable func pull(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSONReply {
        var pull = try await JSONBody.decode(PullRequest.self, from: request)
        // Before protocol 6 every pull from cursor 0 is a snapshot, asked for or not.
        if pull.cursor == 0, context.protocolVersion < SyncProtocol.plainPullFromZeroVersion { pull.snapshot = true }
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
        let page = try await repository.pull(pull, userId: context.userId, deviceId: context.deviceId, byteLimit: pageBytes)
        return JSONReply(bytes: page.jsonBytes(protocolVersion: context.protocolVersion))
    }

    @Sendable func bodies(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSONReply {
        let wanted = try await JSONBody.decode(BodiesRequest.self, from: request)
        guard wanted.hashes.count <= SyncProtocol.maximumBatchCount else {
            throw ServerError(.badRequest, "ask for at most \(SyncProtocol.maximumBatchCount) bodies at a time")
        }
        if let index = wanted.hashes.firstIndex(where: { !ContentHash.isValid($0) }) {
            throw ServerError(.badRequest, "hashes[\(index)]: must be 64 lowercase hexadecimal digits")
        }
        let bodies = try await repository.bodies(wanted.hashes, userId: context.userId, byteLimit: pageBytes)
        return JSONReply(BodiesResponse(bodies: bodies))
    }
}
