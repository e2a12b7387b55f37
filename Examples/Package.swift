// swift-tools-version: 6.1
import PackageDescription

/// Haven embedded in a program of its own, as an app developer would: `follow-changes` opens a
/// replica, syncs it with a progress line and prints each change as it arrives. Built by
/// `scripts/test` (in Examples/.build) and run against a real server by EmbeddingExampleTests.
let package = Package(
    name: "HavenExamples",
    platforms: [.macOS(.v15)],
    dependencies: [
        // Named: SwiftPM identifies a path dependency by its folder's name, whatever the clone is called.
        .package(name: "Haven", path: "..")
    ],
    targets: [
        .executableTarget(name: "follow-changes", dependencies: [.product(name: "HavenClient", package: "Haven")])
    ]
)
