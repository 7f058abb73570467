// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Marginalia",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "margin", targets: ["margin"]),
        .executable(name: "margin-server", targets: ["margin-server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        .package(url: "https://github.com/apple/swift-http-types", exact: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", exact: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", exact: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", exact: "1.7.4"),
    ],
    targets: [
        // The SQL migrations of every store live in Schema/ and are compiled into the binaries.
        .target(
            name: "MarginSchema",
            path: "Schema",
            exclude: ["README.md"],
            sources: ["EmbeddedSchema.swift"],
            resources: [
                .embedInCode("client-001-library.sql"),
                .embedInCode("client-002-sync.sql"),
                .embedInCode("client-003-rejected.sql"),
                .embedInCode("client-004-web.sql"),
                .embedInCode("client-005-anchors.sql"),
                .embedInCode("client-006-article-updates.sql"),
                .embedInCode("client-007-handles.sql"),
                .embedInCode("client-008-history.sql"),
                .embedInCode("client-009-checks.sql"),
                .embedInCode("server-001-sync.sql"),
                .embedInCode("server-002-commits.sql"),
                .embedInCode("server-003-basis.sql"),
                .embedInCode("server-004-token-use.sql"),
                .embedInCode("server-005-checks.sql"),
                .embedInCode("postgres-001-sync.sql"),
                .embedInCode("postgres-002-commits.sql"),
                .embedInCode("postgres-003-basis.sql"),
                .embedInCode("postgres-004-token-use.sql"),
                .embedInCode("openapi.json"),
            ]
        ),
        // zlib and libcurl from the system, through small non-variadic shims.
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // libxml2's HTML parser, loaded when a web page is read.
        .systemLibrary(name: "CLibXML2", providers: [.apt(["libxml2"])]),
        // The domain: records, their rules, selectors, anchoring, merging, documents.
        .target(
            name: "MarginCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        // The sync protocol on the wire: its messages, JSON reader and writer, gzip. Whoever
        // depends on it speaks the protocol.
        .target(name: "MarginWire", dependencies: ["CZlib", "MarginCore"]),
        // What `margin` shows and writes for people and other tools: the terminal rendering
        // and the exports (Markdown, CSV, W3C Web Annotations).
        .target(name: "MarginPresentation", dependencies: ["MarginCore"]),
        // Readable text from web pages: libxml2's tree, charsets, the article and its metadata.
        .target(
            name: "MarginExtract",
            dependencies: ["CLibXML2", "MarginCore", "MarginWire"]
        ),
        .target(
            name: "MarginStore",
            dependencies: [
                "MarginCore",
                "MarginExtract",
                "MarginSchema",
                "MarginSQLite",
                "MarginWire",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .target(
            name: "MarginSQLite",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        .target(name: "MarginSync", dependencies: ["CCurl", "MarginCore", "MarginExtract", "MarginStore", "MarginWire"]),
        .target(
            name: "MarginServer",
            dependencies: [
                "MarginCore",
                "MarginSchema",
                "MarginSQLite",
                "MarginWire",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "margin-server",
            dependencies: [
                "MarginServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "margin",
            dependencies: [
                "MarginCore",
                "MarginPresentation",
                "MarginStore",
                "MarginSync",
                "MarginWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            linkerSettings: [
                // A position-dependent executable needs no relocation at start-up: with the
                // static Swift runtime that saves ~3 ms of a local command's 15 ms budget.
                .unsafeFlags(["-Xclang-linker", "-no-pie"], .when(platforms: [.linux], configuration: .release)),
            ]
        ),
        .executableTarget(
            name: "MarginBenchmarks",
            dependencies: ["MarginCore", "MarginExtract", "MarginStore", "MarginSync", "MarginServer", "MarginTestSupport", "MarginWire"],
            path: "Benchmarks/MarginBenchmarks"
        ),
        // Real server processes and a throwaway PostgreSQL cluster, for tests and benchmarks.
        .target(
            name: "MarginTestSupport",
            dependencies: [
                "MarginCore",
                "MarginWire",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "X509", package: "swift-certificates"),
            ],
            path: "Tests/MarginTestSupport"
        ),
        .testTarget(name: "MarginCoreTests", dependencies: ["MarginCore", "MarginTestSupport", "MarginWire"]),
        .testTarget(name: "MarginWireTests", dependencies: ["MarginCore", "MarginWire"]),
        .testTarget(name: "MarginPresentationTests", dependencies: ["MarginCore", "MarginPresentation", "MarginWire"]),
        .testTarget(name: "MarginExtractTests", dependencies: ["MarginExtract", "MarginCore", "MarginTestSupport"]),
        .testTarget(
            name: "MarginStoreTests",
            dependencies: ["MarginStore", "MarginSchema", "MarginSQLite", "MarginWire", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "MarginServerTests",
            dependencies: [
                "MarginCore", "MarginServer", "MarginSchema", "MarginTestSupport", "MarginWire",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"), .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "marginTests",
            dependencies: [
                "margin", "margin-server", "MarginCore", "MarginPresentation", "MarginSchema", "MarginStore", "MarginSync",
                "MarginTestSupport", "MarginWire",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
