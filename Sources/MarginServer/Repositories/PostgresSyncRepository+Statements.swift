import PostgresNIO

/// The statements every request runs, prepared once per connection: PostgreSQL parses
/// and plans them once instead of on every request (parsing and planning were most of its
/// work for a no-op pull).
extension PostgresSyncRepository {
    /// The active token with hash `tokenHash`, as `TokenUse`.
    struct TokenQuery: PostgresPreparedStatement {
        static let sql = """
            SELECT t.user_id, t.device_id, t.last_used_at FROM tokens t JOIN users u ON u.id = t.user_id \
            WHERE t.hash = $1 AND t.revoked_at IS NULL AND u.revoked_at IS NULL
            """
        var tokenHash: String

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings()
            bindings.append(tokenHash)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> TokenUse {
            let (userId, deviceId, lastUsedAt) = try row.decode((Int64, String?, Int64?).self)
            return TokenUse(userId: userId, deviceId: deviceId, lastUsedAt: lastUsedAt)
        }
    }

    /// What a pull reads first (`PullHead`) for the device `deviceId` of the library
    /// `userId` at `cursor`: one row, or none when the library is gone.
    struct PullHeadQuery: PostgresPreparedStatement {
        static let sql = """
            SELECT u.last_seq, u.horizon, \
            (SELECT last_applied_seq FROM devices WHERE user_id = u.id AND device_id = $2), \
            c.first_seq, c.last_seq, c.history, c.committed_at \
            FROM users u LEFT JOIN LATERAL (\
            SELECT first_seq, last_seq, history, committed_at FROM commits \
            WHERE user_id = u.id AND last_seq >= $3 AND $3 > 0 ORDER BY last_seq LIMIT 1) c ON true \
            WHERE u.id = $1
            """
        var userId: Int64
        var deviceId: String
        var cursor: Int64

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings()
            bindings.append(userId)
            bindings.append(deviceId)
            bindings.append(cursor)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> PullHead {
            let (lastSeq, horizon, lastApplied, first, last, history, committedAt) = try row.decode(
                (Int64, Int64, Int64?, Int64?, Int64?, String?, Int64?).self)
            var commit: Commit?
            if let first, let last, let history, let committedAt {
                commit = Commit(holding: cursor, firstSeq: first, lastSeq: last, history: history, committedAt: committedAt)
            }
            return PullHead(lastSeq: lastSeq, horizon: horizon, lastApplied: lastApplied ?? 0, commit: commit)
        }
    }
}
