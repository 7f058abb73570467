import GRDB
import GRDBSQLite

/// A value bound with SQLite's C API by `Statement.execute(bound:)`.
public enum BoundValue: Sendable {
    case integer(Int64)
    case text(String)
    case null

    public init(_ text: String?) {
        self = text.map(BoundValue.text) ?? .null
    }

    public init(_ integer: Int64?) {
        self = integer.map(BoundValue.integer) ?? .null
    }
}

extension Statement {
    /// Runs this statement once with `values`, bound through SQLite's C API.
    ///
    /// For the writes run hundreds of thousands of times — a first sync or an import in
    /// the client store, pushed records on the server: there, building
    /// `StatementArguments` and binding through GRDB cost about as much as SQLite's own
    /// work on the row (measured on a first sync of 100,000 annotations). Everywhere
    /// else, statements take `StatementArguments`.
    public func execute(bound values: [BoundValue]) throws {
        let handle = sqliteStatement
        sqlite3_reset(handle)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch value {
            case .integer(let integer):
                code = sqlite3_bind_int64(handle, index, integer)
            case .null:
                code = sqlite3_bind_null(handle, index)
            case .text(var text):
                code = text.withUTF8 { utf8 in
                    // An empty buffer may have no address; SQLite reads a NULL pointer as NULL, not ''.
                    let start = UnsafeRawPointer(utf8.baseAddress ?? emptyText.utf8Start).assumingMemoryBound(to: CChar.self)
                    return sqlite3_bind_text(handle, index, start, Int32(utf8.count), sqliteTransient)
                }
            }
            guard code == SQLITE_OK else { throw failure(code) }
        }
        let code = sqlite3_step(handle)
        defer { sqlite3_reset(handle) }
        guard code == SQLITE_DONE else { throw failure(code) }
    }

    private func failure(_ code: Int32) -> DatabaseError {
        DatabaseError(
            resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(sqlite3_db_handle(sqliteStatement))),
            sql: sql)
    }
}

private let emptyText: StaticString = ""

/// `SQLITE_TRANSIENT`: SQLite copies the bound text before the call returns.
private let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
