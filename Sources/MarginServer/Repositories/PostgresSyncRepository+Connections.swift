import Foundation
import Logging
import MarginCore
import MarginSchema
import NIOSSL
import PostgresNIO

/// Pooled connections, transactions, timeouts, and PostgreSQL's errors as the server's.
extension PostgresSyncRepository {
    /// Runs `body` on a pooled connection in a transaction, committed when it returns and
    /// rolled back when it throws. A serialization failure or deadlock is retried (up to
    /// five times); every other error is reported as a `ServerError`.
    func transaction<Result: Sendable>(
        isolation: String = "READ COMMITTED", timeout: Duration? = .zero,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await bounded(timeout: timeout) { connection in
            var attempt = 1
            while true {
                try await connection.query(PostgresQuery(unsafeSQL: "BEGIN ISOLATION LEVEL \(isolation)"), logger: self.logger)
                do {
                    let result = try await body(connection)
                    try await connection.query("COMMIT", logger: self.logger)
                    return result
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: self.logger)
                    let failure = self.serverError(error)
                    guard ["40001", "40P01"].contains(failure.sqlState), attempt < 5 else { throw failure }
                    attempt += 1
                }
            }
        }
    }

    /// Runs `body` on a pooled connection, giving up with `unavailable` when the pool has
    /// no connection to lend or the work does not finish within `timeout` (`.zero`: the
    /// settings' timeout; nil: none), for PostgreSQL down or unreachable: the request
    /// fails instead of hanging.
    func bounded<Result: Sendable>(
        timeout: Duration? = .zero, _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        guard let limit = timeout else {
            do {
                return try await client.withConnection { connection in try await body(connection) }
            } catch {
                throw serverError(error)
            }
        }
        let timeout = limit == .zero ? settings.timeout : limit
        let outcome = try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask { try await self.client.withConnection { connection in try await body(connection) } }
            // A little longer than the statement timeout, so that PostgreSQL reports its own first.
            group.addTask {
                try await Task.sleep(for: timeout + .seconds(1))
                return nil
            }
            defer { group.cancelAll() }
            do {
                return try await group.next()!
            } catch {
                throw serverError(error)
            }
        }
        guard let outcome else {
            throw ServerError(
                .unavailable,
                "PostgreSQL at \(settings.description) did not answer within \(timeout) (is it running and reachable?); try again later")
        }
        return outcome
    }

    /// `error` as the server reports it: PostgreSQL's failures become `unavailable` when
    /// the database cannot be reached or gave up on a statement, `internalError`
    /// otherwise, keeping their SQLSTATE (never the statement or its values).
    func serverError(_ error: any Error) -> ServerError {
        if let error = error as? ServerError { return error }
        guard let error = error as? PSQLError else {
            return ServerError(.internalError, "the database failed: \(type(of: error))")
        }
        if error.code == .server, let state = error.serverInfo?[.sqlState] {
            let message = error.serverInfo?[.message] ?? "no message"
            // 57014: statement timeout; 57P0x: server shutting down; 53xxx: out of resources; 08xxx: connection.
            let unavailable = state == "57014" || state.hasPrefix("57P") || state.hasPrefix("53") || state.hasPrefix("08")
            var failure = ServerError(
                unavailable ? .unavailable : .internalError, "PostgreSQL refused the request (\(state): \(message))", cause: error)
            failure.sqlState = state
            return failure
        }
        return ServerError(
            .unavailable, "PostgreSQL at \(settings.description) is unreachable (\(error.code)); try again later", cause: error)
    }
}

extension AsyncSequence {
    /// The first element, or nil for an empty sequence (a query's first row).
    func first() async throws -> Element? {
        try await first { _ in true }
    }
}
