import Foundation

/// The server's two storage backends, for tests that run once on each.
///
/// For example:
/// ```swift
/// @Test(arguments: StorageBackend.all) func pushesAreIdempotent(_ backend: StorageBackend) async throws {
///     let server = try await TestServer.make(backend: backend)
/// }
/// ```
public enum StorageBackend: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite, postgres

    /// Every backend the tests can reach: PostgreSQL only when ``PostgresTestDatabase/isEnabled``.
    public static var all: [StorageBackend] {
        PostgresTestDatabase.isEnabled ? [.sqlite, .postgres] : [.sqlite]
    }

    public var description: String { rawValue }
}

/// A fresh, empty database on the throwaway PostgreSQL cluster that `scripts/test` starts
/// (`scripts/postgres.sh`), dropped when the last holder lets go of it.
public final class PostgresTestDatabase: Sendable {
    /// The cluster, from `HAVEN_TEST_POSTGRES_URL`: `postgres://postgres@127.0.0.1:PORT/postgres`.
    public static let clusterURL: String? = ProcessInfo.processInfo.environment["HAVEN_TEST_POSTGRES_URL"].flatMap {
        $0.isEmpty ? nil : $0
    }

    /// Whether the PostgreSQL tests run. `scripts/test` starts a cluster and sets
    /// `HAVEN_TEST_POSTGRES_URL`; a plain `swift test` without it skips them. On CI (`CI=true`)
    /// they always run, so that a cluster that failed to start fails them instead of passing
    /// them silently.
    public static let isEnabled: Bool = clusterURL != nil || ProcessInfo.processInfo.environment["CI"] == "true"

    /// The database's name: `haven_` and 16 random hex digits.
    public let name: String
    /// The URL to give `haven-server --database` or `PostgresSyncStore.open`.
    public let url: String
    private let cluster: String

    /// Creates the database.
    ///
    /// - Throws: ``Failure`` when `HAVEN_TEST_POSTGRES_URL` is unset or `psql` fails.
    public init() throws {
        guard let cluster = Self.clusterURL else {
            throw Failure(
                "HAVEN_TEST_POSTGRES_URL is not set: run the tests with scripts/test, which starts a throwaway PostgreSQL cluster"
            )
        }
        guard var components = URLComponents(string: cluster), components.path.count > 1 else {
            throw Failure("HAVEN_TEST_POSTGRES_URL is not a postgres://USER@HOST:PORT/DATABASE URL")
        }
        let name = "haven_" + String(UInt64.random(in: .min ... .max), radix: 16)
        components.path = "/" + name
        self.name = name
        self.url = components.string!
        self.cluster = cluster
        try Self.psql(cluster, "CREATE DATABASE \(name)")
    }

    deinit {
        // FORCE: a killed server's connections may not have been noticed yet.
        _ = try? Self.psql(cluster, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    /// The rows `sql` returns, each decoded from a JSON object keyed by column name.
    ///
    /// Columns come through PostgreSQL's `json_agg`: cast a JSON or JSONB column to `text` to
    /// read it as a string.
    public func rows<Row: Decodable>(_ type: Row.Type, _ sql: String) throws -> [Row] {
        try Self.rows(type, sql, at: url)
    }

    /// The rows `sql` returns from the database at `url`, as in ``rows(_:_:)``.
    public static func rows<Row: Decodable>(_ type: Row.Type, _ sql: String, at url: String) throws -> [Row] {
        let output = try psql(url, "SELECT coalesce(json_agg(result), '[]'::json) FROM (\(sql)) AS result")
        return try JSONDecoder().decode([Row].self, from: Data(output.utf8))
    }

    /// Runs one statement with `psql` and returns what it printed: unaligned, without headers.
    @discardableResult
    public static func psql(_ url: String, _ sql: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql]
        process.environment = ProcessInfo.processInfo.environment.merging(["PGCONNECT_TIMEOUT": "10"]) { $1 }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read before waiting: a large answer would otherwise fill the pipe and never finish.
        let printed = output.fileHandleForReading.readDataToEndOfFile()
        let complaint = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure("psql failed on \(sql.prefix(200)): \(String(decoding: complaint, as: UTF8.self))")
        }
        return String(decoding: printed, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }
}
