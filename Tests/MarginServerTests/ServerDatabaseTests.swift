import Foundation
import MarginSchema
import Testing

@testable import MarginServer

@Suite struct ServerDatabaseTests {
    @Test func sqliteAndPostgresAddressesAreParsedWithTheirDefaults() throws {
        #expect(try ServerDatabase("sqlite:/var/lib/margin/server.sqlite") == .sqlite(path: "/var/lib/margin/server.sqlite"))
        guard case .postgres(let settings) = try ServerDatabase("postgres://margin@db.internal/library?sslmode=require") else {
            Issue.record("not PostgreSQL")
            return
        }
        #expect(settings.host == "db.internal")
        #expect(settings.port == 5432)
        #expect(settings.user == "margin")
        #expect(settings.database == "library")
        #expect(settings.tls == .require)
        #expect(settings.password == nil)
        #expect(settings.description == "postgres://margin@db.internal:5432/library")
    }

    @Test func thePasswordComesFromTheFirstLineOfAFileNeverFromTheAddress() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("password-\(UUID().uuidString)")
        try "s3cret word\nignored\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        guard case .postgres(let settings) = try ServerDatabase("postgres://margin@127.0.0.1:6543/db").readingPassword(from: file.path) else {
            Issue.record("not PostgreSQL")
            return
        }
        #expect(settings.password == "s3cret word")
        #expect(settings.port == 6543)
        #expect(!settings.description.contains("s3cret"))
        // A file written on Windows: the line ends at CRLF too.
        try "s3cret word\r\nignored\r\n".write(to: file, atomically: true, encoding: .utf8)
        guard case .postgres(let crlf) = try ServerDatabase("postgres://margin@127.0.0.1/db").readingPassword(from: file.path) else {
            Issue.record("not PostgreSQL")
            return
        }
        #expect(crlf.password == "s3cret word")
        let forSQLite = #expect(throws: ServerError.self) { try ServerDatabase("sqlite:server.sqlite").readingPassword(from: file.path) }
        #expect(forSQLite?.message == "a password file is only for a postgres:// database")

        let inAddress = #expect(throws: ServerError.self) { try ServerDatabase("postgres://margin:s3cret@127.0.0.1/db") }
        #expect(inAddress?.message.contains("--database-password-file") == true)
        #expect(inAddress?.message.contains("s3cret") == false)
    }

    @Test(arguments: [
        "mysql://root@localhost/db", "sqlite:", "postgres://127.0.0.1/db", "postgres://margin@127.0.0.1/",
        "postgres://margin@127.0.0.1/db?sslmode=maybe", "postgres://margin@127.0.0.1/db?pool=3",
    ])
    func badAddressesAreRefusedWithAMessage(_ address: String) {
        let error = #expect(throws: ServerError.self) { try ServerDatabase(address) }
        #expect(error?.code == .badRequest)
        #expect(error?.message.isEmpty == false)
    }

    @Test func migrationsAreSplitIntoStatementsWithoutTheirComments() {
        let statements = PostgresSyncRepository.statements(EmbeddedSchema.postgres[0].sql)
        #expect(statements.count == 11)
        #expect(statements.allSatisfy { !$0.contains("--") && $0.hasSuffix(";") })
        #expect(statements.first?.hasPrefix("CREATE TABLE users") == true)
    }
}
