import MarginCore
import MarginWire

/// A push whose changes were checked against the rulebook (`RecordRules`): a change that
/// breaks the protocol's shape refuses the whole request (400), one that breaks a rule is
/// refused on its own (`rejected`, with the reason) and the rest apply. A body that breaks
/// a rule is dropped, and the creates of its article are refused with its reason.
public struct CheckedPush: Sendable {
    public var request: PushRequest
    /// The reasons of the changes refused, by sequence number.
    public var refusals: [Int64: String]

    public init(_ request: PushRequest) throws(ServerError) {
        guard request.changes.count <= SyncProtocol.maximumBatchCount else {
            throw ServerError(.badRequest, "a push carries at most \(SyncProtocol.maximumBatchCount) changes; send smaller batches")
        }
        guard (request.after ?? 0) >= 0 else { throw ServerError(.badRequest, "after cannot be negative") }
        var refusals: [Int64: String] = [:]
        for (index, change) in request.changes.enumerated() {
            do throws(MarginError) {
                try RecordRules.checkShape(change)
            } catch {
                throw ServerError(.badRequest, "changes[\(index)]: \(error.message)")
            }
            do throws(MarginError) {
                try RecordRules.check(change.entity, change.op, fields: change.fields)
            } catch {
                refusals[change.seq] = error.message
            }
        }
        var refusedBodies: [String: String] = [:]
        for (index, body) in request.bodies.enumerated() {
            guard ContentHash.isValid(body.hash) else {
                throw ServerError(.badRequest, "bodies[\(index)].hash: must be 64 lowercase hexadecimal digits")
            }
            do throws(MarginError) {
                try RecordRules.check(body: body.text)
            } catch {
                refusedBodies[body.hash] = error.message
            }
        }
        if !refusedBodies.isEmpty {
            for change in request.changes where refusals[change.seq] == nil {
                if let hash = change.bodyHash, let reason = refusedBodies[hash] {
                    refusals[change.seq] = reason
                }
            }
        }
        var request = request
        request.bodies.removeAll { refusedBodies[$0.hash] != nil }
        self.request = request
        self.refusals = refusals
    }
}

/// What a push did, for the reply and the server's metrics.
public struct PushOutcome: Sendable {
    public var response: PushResponse
    /// Changes applied, merged or turned into conflicts in this push.
    public var applied: Int
    public var conflicts: Int
}
