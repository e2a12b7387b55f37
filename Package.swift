// swift-tools-version: 6.1
import PackageDescription

/// One settings list for every target: Swift 6 language mode everywhere.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "Haven",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "HavenCore", targets: ["HavenCore"]),
        .library(name: "HavenTrust", targets: ["HavenTrust"]),
        .library(name: "HavenServer", targets: ["HavenServer"]),
        .library(name: "HavenClient", targets: ["HavenClient"]),
        .executable(name: "haven-server", targets: ["haven-server"]),
        .executable(name: "haven", targets: ["haven"]),
        // A loopback TCP proxy that adds latency, caps bandwidth, resets and blacks out links:
        // for the end-to-end tests and for the benchmarks' slow link.
        .library(name: "FaultProxy", targets: ["FaultProxy"]),
    ],
    dependencies: [
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        // Hummingbird's own: the server's channel handlers (timeouts, the parser's 400) use its HTTP parts.
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        // The TLS link: the server's certificate (HummingbirdTLS) and the client's pinned key.
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        // Only its plugin: `swift package generate-documentation` builds the DocC catalogs (scripts/test).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin.git", from: "1.5.0"),
    ],
    targets: [
        .target(name: "HavenCore", path: "Sources/Core", swiftSettings: swiftSettings),
        // Signed content, one definition for server and client: the published set's hash, the
        // canonical record encoding it hashes, and the messages the publisher key signs.
        // The published set's element expansion with the processor's SHA instructions (HavenTrust).
        .target(name: "CLtHash", path: "Sources/CLtHash"),
        // zstd, the stream's content coding when the client accepts it (LineStreamEncoder.swift):
        // a third of gzip's CPU for fewer bytes. Debian's libzstd-dev (scripts/packages.sh).
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        // zstd frames written and read piece by piece, once for the server, the client and the tests.
        .target(
            name: "HavenZstd",
            dependencies: ["CZstd", .product(name: "NIOCore", package: "swift-nio")],
            path: "Sources/Zstd",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HavenTrust",
            dependencies: ["HavenCore", "CLtHash", .product(name: "Crypto", package: "swift-crypto")],
            path: "Sources/Trust",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HavenServer",
            dependencies: [
                "HavenCore", "HavenTrust", "HavenZstd",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/SyncServer",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HavenClient",
            dependencies: [
                "HavenCore", "HavenTrust", "HavenZstd",
                // The link (HTTPClientTransport.swift): no redirects, bounded answers, gzip and zstd inflated here.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "CompressNIO", package: "compress-nio"),
                // The pinned key's SHA-256 (PinnedKey.swift); the replica's data key, wrapped with AES-GCM.
                .product(name: "Crypto", package: "swift-crypto"),
                // scrypt, deriving the key that wraps the replica's data key (Encryption/ReplicaKeyFile.swift).
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Sources/SyncClient",
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "haven-server", dependencies: ["HavenServer"], swiftSettings: swiftSettings),
        // The `haven` command line: one user of HavenClient's public API, like any app embedding it.
        .target(
            name: "HavenCommands",
            dependencies: [
                "HavenClient", "HavenCore", "HavenTrust",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/ClientCommands",
            // No package access: HavenClient's `package` symbols (the engine's sync steps) are out of
            // its reach, as they are for an app, so the compiler checks that the command line uses
            // the public API only.
            packageAccess: false,
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "haven", dependencies: ["HavenCommands"], swiftSettings: swiftSettings),
        .testTarget(
            name: "CoreTests",
            dependencies: ["HavenCore", "TestSupport", .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TrustTests", dependencies: ["HavenTrust", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings),
        // What several test targets share: temporary directories, a manual clock, waiting on progress,
        // the storage backends, fresh PostgreSQL databases, seeded randomness.
        // HavenZstd: zstd frames made to order and read whole (TestZstd.swift).
        .target(
            name: "TestSupport",
            dependencies: ["HavenZstd", .product(name: "NIOCore", package: "swift-nio")],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "HavenServer", "HavenTrust", "TestSupport",
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                // EmbeddedChannel: the connection handlers driven with a clock the test moves.
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ClientTests",
            dependencies: [
                // HavenServer: the sync engine runs in-process against the real router.
                "HavenClient", "HavenCommands", "HavenServer", "HavenTrust", "TestSupport",
                // The encrypted replica's data keys.
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "FaultProxy", path: "Tests/FaultProxy", swiftSettings: swiftSettings),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "FaultProxy", "HavenClient", "TestSupport", "haven", "haven-server",
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                // The hostile server test double (HostileServer.swift).
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
