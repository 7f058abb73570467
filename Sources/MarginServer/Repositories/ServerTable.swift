import MarginSQLite

/// A table of the server store, which both backends define with the same name and
/// columns: what `margin-server migrate --from` copies, in an order where every table
/// comes after the tables it references.
struct ServerTable: Sendable {
    let name: String
    let columns: [String]
    /// The primary key's columns, which order a copy.
    let key: [String]

    static let all = [
        ServerTable(name: "users", columns: ["id", "name", "created_at", "revoked_at", "last_seq", "horizon"], key: ["id"]),
        ServerTable(
            name: "tokens", columns: ["hash", "user_id", "device_id", "created_at", "revoked_at", "first_used_at", "last_used_at"],
            key: ["hash"]),
        ServerTable(
            name: "devices", columns: ["user_id", "device_id", "last_applied_seq", "last_seen_at"], key: ["user_id", "device_id"]),
        ServerTable(
            name: "records",
            columns: [
                "user_id", "id", "entity", "version", "deleted", "fields", "meta", "device", "hlc", "updated_at", "deleted_at",
                "article_id", "content_hash",
            ],
            key: ["user_id", "id"]),
        ServerTable(name: "aliases", columns: ["user_id", "alias", "id"], key: ["user_id", "alias"]),
        ServerTable(name: "bodies", columns: ["user_id", "hash", "text"], key: ["user_id", "hash"]),
        ServerTable(
            name: "commits", columns: ["user_id", "first_seq", "last_seq", "history", "committed_at"], key: ["user_id", "last_seq"]),
    ]
}

/// Rows of one table in PostgreSQL's COPY text format: one line per row, columns
/// separated by tabs, `\N` for NULL, backslash escapes for backslash, tab, newline and
/// carriage return.
struct CopyText {
    private(set) var bytes: [UInt8] = []
    private(set) var rows = 0

    mutating func append(_ row: [BoundValue]) {
        for (index, value) in row.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: "\t")) }
            switch value {
            case .null: bytes.append(contentsOf: Array(#"\N"#.utf8))
            case .integer(let number): bytes.append(contentsOf: Array(String(number).utf8))
            case .text(let text):
                for byte in text.utf8 {
                    switch byte {
                    case UInt8(ascii: "\\"): bytes.append(contentsOf: Array(#"\\"#.utf8))
                    case UInt8(ascii: "\t"): bytes.append(contentsOf: Array(#"\t"#.utf8))
                    case UInt8(ascii: "\n"): bytes.append(contentsOf: Array(#"\n"#.utf8))
                    case UInt8(ascii: "\r"): bytes.append(contentsOf: Array(#"\r"#.utf8))
                    default: bytes.append(byte)
                    }
                }
            }
        }
        bytes.append(UInt8(ascii: "\n"))
        rows += 1
    }
}
