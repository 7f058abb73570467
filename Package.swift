// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Marginalia",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "margin", targets: ["margin"]),
        .library(name: "MarginStore", targets: ["MarginStore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
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
            ]
        ),
        .target(
            name: "MarginCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "MarginStore",
            dependencies: [
                "MarginCore",
                "MarginSchema",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .executableTarget(
            name: "margin",
            dependencies: [
                "MarginCore",
                "MarginStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            linkerSettings: [
                // A position-dependent executable needs no relocation at start-up: with the
                // static Swift runtime that saves ~3 ms per command (SPEC's 15 ms budget).
                .unsafeFlags(["-Xclang-linker", "-no-pie"], .when(platforms: [.linux], configuration: .release)),
            ]
        ),
        .executableTarget(
            name: "MarginBenchmarks",
            dependencies: ["MarginCore", "MarginStore"],
            path: "Benchmarks/MarginBenchmarks"
        ),
        .testTarget(name: "MarginCoreTests", dependencies: ["MarginCore"]),
        .testTarget(
            name: "MarginStoreTests",
            dependencies: ["MarginStore", "MarginSchema", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(name: "marginTests", dependencies: ["margin"]),
    ],
    swiftLanguageModes: [.v6]
)
