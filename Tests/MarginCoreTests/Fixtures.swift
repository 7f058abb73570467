import Foundation

/// Files of the repository that tests read.
enum Fixtures {
    /// The repository root, found from this file's location.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The bytes of `seeds/NAME`.
    static func seed(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: root.appendingPathComponent("seeds/\(name)")))
    }

    static let seedNames = [
        "000_ce75f4c29c345759.txt", "001_eede1ab4931b32b1.txt", "002_86c17f319f38c786.txt",
        "003_4a61cf19eb0ae3c9.txt", "004_e0e308906b95cf95.txt",
    ]
}
