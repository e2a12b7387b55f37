import Foundation
import HavenCore
import HavenServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing
import TestSupport

/// A server for one test: its own SQLite file in its own temporary directory, or its own
/// PostgreSQL database; one token per role (plus a second editor and field token, an expired and
/// a revoked one), and a fixed clock.
///
/// The directory and the database are removed when the server goes away.
final class TestServer: Sendable {
    /// The fixed server time of every test, milliseconds since 1970 (2025-06-15).
    static let now: UInt64 = 1_750_000_000_000

    /// Token names and their roles; the names are what conflicts report as `winnerAuthor`.
    static let roles: [(name: String, role: Role)] = [
        ("admin", .admin), ("editor", .editor), ("editor2", .editor), ("field", .field), ("field2", .field),
        ("reader", .reader), ("expired", .editor), ("revoked", .editor),
    ]

    /// The directory of the SQLite file; removed with the server.
    let directory: URL
    private let temporary: TemporaryDirectory
    /// The SQLite file; unused on PostgreSQL.
    let path: String
    let backend: StorageBackend
    let store: any SyncStore
    /// The PostgreSQL database; nil on SQLite.
    let postgres: PostgresTestDatabase?
    let configuration: ServerConfiguration
    /// Runs ``store`` (its PostgreSQL pool) for as long as the test server lives.
    private let running: Task<Void, any Error>?
    let now: UInt64
    /// Token name → secret.
    let secrets: [String: String]
    /// Token name → token id.
    let ids: [String: String]

    private init(
        directory: TemporaryDirectory, backend: StorageBackend, store: any SyncStore, running: Task<Void, any Error>?,
        postgres: PostgresTestDatabase?, configuration: ServerConfiguration, now: UInt64, secrets: [String: String],
        ids: [String: String]
    ) {
        self.running = running
        self.temporary = directory
        self.directory = directory.url
        self.path = Self.sqlitePath(in: directory.url)
        self.backend = backend
        self.store = store
        self.postgres = postgres
        self.configuration = configuration
        self.now = now
        self.secrets = secrets
        self.ids = ids
    }

    deinit {
        // The PostgreSQL pool stops, and the database is dropped once it has let go of it.
        running?.cancel()
    }

    /// The change log over ``store``.
    var log: ChangeLog { ChangeLog(storage: store) }

    /// Another store on the same database, for an application to run and close: ``test(_:)``
    /// gives each application its own, as `serve` would, and keeps ``store`` for the test.
    func openStore() async throws -> any SyncStore {
        try await Self.openStore(backend: backend, directory: directory, postgres: postgres)
    }

    private static func openStore(backend: StorageBackend, directory: URL, postgres: PostgresTestDatabase?)
        async throws -> any SyncStore
    {
        if let postgres {
            return try await PostgresSyncStore.open(url: postgres.url, logger: Logger(label: "haven-server-tests"))
        }
        return try SQLiteSyncStore(path: sqlitePath(in: directory))
    }

    private static func sqlitePath(in directory: URL) -> String {
        directory.appendingPathComponent("haven.sqlite").path
    }

    /// A fresh store with every token of ``roles``; `expired` expired a second ago and `revoked`
    /// is revoked.
    static func make(
        backend: StorageBackend = .sqlite, configuration: ServerConfiguration = .singleSignOff,
        now: UInt64 = TestServer.now
    ) async throws -> TestServer {
        let directory = try TemporaryDirectory()
        let postgres = backend == .postgres ? try PostgresTestDatabase() : nil
        let store = try await openStore(backend: backend, directory: directory.url, postgres: postgres)
        let running: Task<Void, any Error>? = backend == .postgres ? Task { try await store.run() } : nil
        var secrets: [String: String] = [:]
        var ids: [String: String] = [:]
        for (name, role) in roles {
            let secret = TokenSecret.generate()
            let id = TokenSecret.generateID()
            let expiresAt: UInt64? = name == "expired" ? now - 1_000 : nil
            try await store.addToken(
                TokenInfo(
                    id: id, name: name, role: role, createdAt: now - 60_000, expiresAt: expiresAt, revokedAt: nil),
                hash: TokenSecret.hash(secret))
            secrets[name] = secret
            ids[name] = id
        }
        _ = try await store.revokeToken("revoked", now: now - 500)
        return TestServer(
            directory: directory, backend: backend, store: store, running: running, postgres: postgres,
            configuration: configuration,
            now: now, secrets: secrets, ids: ids)
    }

    /// The secret of the token named `name`.
    subscript(_ name: String) -> String { secrets[name]! }

    /// Adds a token named `name` that expires at `expiresAt`, and returns its secret.
    func addToken(_ name: String, role: Role = .reader, expiresAt: UInt64) async throws -> String {
        let secret = TokenSecret.generate()
        try await store.addToken(
            TokenInfo(
                id: TokenSecret.generateID(), name: name, role: role, createdAt: now - 10, expiresAt: expiresAt,
                revokedAt: nil),
            hash: TokenSecret.hash(secret))
        return secret
    }

    /// Builds the application over this store and runs `body` against its router.
    func test<Value: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        let now = self.now
        let logger = Logger(label: "haven-server-tests", factory: { _ in SwiftLogNoOpLogHandler() })
        let app = try buildApplication(store: try await openStore(), configuration: configuration, logger: logger, clock: { now })
        return try await app.test(.router, body)
    }
}

extension ServerConfiguration {
    /// The default configuration with ``ReviewPolicy/single``: the suites that publish as an
    /// editor in one step; ``ReviewTests`` runs the default, two-person review.
    static var singleSignOff: ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.review = .single
        return configuration
    }
}

/// A device that makes edits: a replica id, its own hybrid logical clock at a fixed wall time,
/// and a change counter for change ids.
struct Device {
    let replica: String
    var clock: HybridLogicalClock
    var counter = 0

    init(_ replica: String, wallTime: UInt64 = TestServer.now) {
        self.replica = replica
        self.clock = HybridLogicalClock(replica: ReplicaID(replica)!, wallClock: { wallTime })
    }

    /// One change writing `fields` (and the `deleted` flag when given), each register stamped now.
    mutating func change(
        _ recordID: String, _ kind: RecordKind = .story, _ fields: [String: JSONValue] = [:], deleted: Bool? = nil,
        base: SyncCursor? = nil
    ) -> Change {
        counter += 1
        let stamp = clock.now()
        return Change(
            id: "\(replica)-\(counter)", base: base,
            record: RecordState(
                id: recordID, kind: kind, fields: fields.mapValues { Register($0, stamp: stamp) },
                deleted: deleted.map { Register(.bool($0), stamp: stamp) }))
    }
}

/// Field values for records.
enum Fields {
    static func story(
        _ title: String, status: String = "draft", sensitivity: String = "public", language: String = "en"
    ) -> [String: JSONValue] {
        [
            "title": .string(title), "body": .string("Body of \(title)."), "language": .string(language),
            "status": .string(status), "sensitivity": .string(sensitivity), "author": "minji",
        ]
    }

    static func resource(_ name: String, status: String = "published") -> [String: JSONValue] {
        [
            "name": .string(name), "category": "hotline", "country": "KR", "phone": "+82 2 1577 0000",
            "status": .string(status),
        ]
    }
}

extension TestClientProtocol {
    /// A GET with an optional bearer token.
    func get(_ uri: String, token: String?) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await execute(uri: uri, method: .get, headers: headers)
    }

    /// A POST of raw bytes with an optional bearer token and content type.
    func post(_ uri: String, token: String?, body: Data, contentType: String? = "application/json") async throws
        -> TestResponse
    {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        if let contentType { headers[.contentType] = contentType }
        return try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(bytes: body))
    }

    /// Pushes `changes` and returns the decoded answer; fails unless the status is 200.
    func push(_ changes: [Change], token: String) async throws -> PushResponse {
        let response = try await post(
            "/v1/changes", token: token, body: try JSONEncoder().encode(PushRequest(changes: changes)))
        try #require(response.status == .ok, "push answered \(response.status): \(response.text)")
        return try response.decode(PushResponse.self)
    }

    /// Pulls one page and returns the decoded answer; fails unless the status is 200.
    func pull(token: String, since: SyncCursor? = nil, limit: Int? = nil) async throws -> PullResponse {
        var query: [String] = []
        if let since { query.append("since=\(since)") }
        if let limit { query.append("limit=\(limit)") }
        let uri = "/v1/changes" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
        let response = try await get(uri, token: token)
        try #require(response.status == .ok, "pull answered \(response.status): \(response.text)")
        return try response.decode(PullResponse.self)
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(type, from: Data(body.readableBytesView))
    }

    /// The `error` object of a JSON error body.
    func error() throws -> ErrorDetail {
        try decode(ErrorBody.self).error
    }
}

extension PushResponse {
    var statuses: [PushResult.Status] { results.map(\.status) }
}

extension PullResponse {
    /// The pulled records by id.
    var byID: [String: RecordState] {
        Dictionary(changes.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }
}
