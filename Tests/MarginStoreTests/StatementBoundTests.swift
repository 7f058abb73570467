import Foundation
import GRDB
import MarginSQLite
import Testing

/// `Statement.execute(bound:)`, the C-API binding of the hot inserts, on a real SQLite file.
@Suite struct StatementBoundTests {
    private func queue() throws -> DatabaseQueue {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bound-\(UUID().uuidString).sqlite").path
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, text TEXT NOT NULL, number INTEGER, optional TEXT)")
        }
        return queue
    }

    @Test func everyKindOfValueIsStoredAsBound() throws {
        let queue = try queue()

        try queue.write { db in
            let insert = try db.cachedStatement(sql: "INSERT INTO t (id, text, number, optional) VALUES (?, ?, ?, ?)")
            try insert.execute(bound: [.integer(1), .text(""), .integer(Int64.min), .null])
            try insert.execute(bound: [.integer(2), .text("hội nghị\u{0}đàm phán"), BoundValue(Int64?.none), BoundValue("x")])
        }

        let rows = try queue.read { db in
            try Row.fetchAll(
                db, sql: "SELECT text, number, optional, typeof(text), hex(CAST(text AS BLOB)) FROM t ORDER BY id")
        }
        // The empty string stays an empty text (not NULL); text with a NUL is bound whole.
        #expect(rows[0][0] as String == "")
        #expect(rows[0][3] as String == "text")
        #expect(rows[0][1] as Int64 == Int64.min)
        #expect(rows[0][2] as String? == nil)
        let utf8 = Array("hội nghị\u{0}đàm phán".utf8)
        #expect(rows[1][4] as String == utf8.map { String(format: "%02X", $0) }.joined())
        #expect(rows[1][1] as Int64? == nil)
        #expect(rows[1][2] as String == "x")
    }

    @Test func aFailedStatementThrowsSQLitesErrorAndCanRunAgain() throws {
        let queue = try queue()

        try queue.write { db in
            let insert = try db.cachedStatement(sql: "INSERT INTO t (id, text) VALUES (?, ?)")
            try insert.execute(bound: [.integer(1), .text("first")])
            let error = #expect(throws: DatabaseError.self) { try insert.execute(bound: [.integer(1), .text("again")]) }
            #expect(error?.resultCode == .SQLITE_CONSTRAINT)
            #expect(error?.message?.contains("UNIQUE") == true)
            try insert.execute(bound: [.integer(2), .text("second")])
        }

        #expect(try queue.read { db in try String.fetchAll(db, sql: "SELECT text FROM t ORDER BY id") } == ["first", "second"])
    }
}
