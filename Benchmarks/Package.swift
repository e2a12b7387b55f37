// swift-tools-version: 6.1
import PackageDescription

/// `haven-bench`: Haven measured against the physical limit (issue 6). Not a test: run it with
/// `scripts/bench`, which builds the release binaries it drives and writes BENCHMARKS.md.
let package = Package(
    name: "HavenBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // Named: SwiftPM identifies a path dependency by its folder's name, which is whatever the
        // clone was called; the name makes `package: "Haven"` below work from any folder.
        .package(name: "Haven", path: ".."),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
    ],
    targets: [
        .executableTarget(
            name: "haven-bench",
            dependencies: [
                .product(name: "HavenCore", package: "Haven"),
                .product(name: "HavenClient", package: "Haven"),
                .product(name: "HavenTrust", package: "Haven"),
                .product(name: "FaultProxy", package: "Haven"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
        // Runs a client command and reports its own peak memory (see its main.c).
        .executableTarget(name: "peak-rss"),
    ]
)
