import Foundation
import HavenCore
import HavenServer
import HavenTrust
import HummingbirdTesting
import Logging
import TestSupport

@testable import HavenClient

/// The real Haven server, in-process: its own SQLite file in the test's temporary directory, a
/// token per role, a clock the test sets, and the application `haven-server serve` builds,
/// driven through HummingbirdTesting's router client, without a socket.
///
/// A client's sync engine talks to it through a ``RouterTransport``; faults the server cannot
/// produce go in between with a ``FaultyLink``.
///
/// For example:
/// ```swift
/// let server = try await InProcessServer.make()
/// let replica = try makeEmptyReplica(token: server.token(.editor))
/// try await server.run { client in
///     let router = RouterTransport(client)
///     let summary = try await makeEngine(replica, router).sync()
/// }
/// ```
final class InProcessServer: Sendable {
    /// The server's wall clock, at ``Fixtures/epoch`` unless a test moves it.
    let clock: ManualClock
    let configuration: ServerConfiguration
    private let path: String
    private let secrets: [Role: String]

    private init(clock: ManualClock, configuration: ServerConfiguration, path: String, secrets: [Role: String]) {
        self.clock = clock
        self.configuration = configuration
        self.path = path
        self.secrets = secrets
    }

    /// A server with an empty database and one token per role; editors publish in one step
    /// (`review`, ``ReviewPolicy/single`` unless told: the suites here are not about review).
    static func make(configuration: ServerConfiguration = .init(), review: ReviewPolicy = .single) async throws
        -> InProcessServer
    {
        var configuration = configuration
        configuration.review = review
        let clock = ManualClock(Fixtures.epoch)
        let path = TemporaryDirectory.path("server.sqlite")
        let store = try SQLiteSyncStore(path: path)
        var secrets: [Role: String] = [:]
        for role in Role.allCases {
            let secret = TokenSecret.generate()
            try await store.addToken(
                TokenInfo(
                    id: TokenSecret.generateID(), name: role.rawValue, role: role, createdAt: clock.now,
                    expiresAt: nil, revokedAt: nil),
                hash: TokenSecret.hash(secret))
            secrets[role] = secret
        }
        return InProcessServer(clock: clock, configuration: configuration, path: path, secrets: secrets)
    }

    /// The secret of the token whose role is `role`; the token is named after its role.
    func token(_ role: Role) -> String { secrets[role]! }

    /// Builds the application over the database and runs `body` against its router.
    func run<Value: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        let logger = Logger(label: "haven-client-tests", factory: { _ in SwiftLogNoOpLogHandler() })
        // A store of its own: the application closes it when it stops, as `serve` would.
        let app = try buildApplication(
            store: try SQLiteSyncStore(path: path), configuration: configuration, logger: logger, clock: clock.read)
        return try await app.test(.router, body)
    }

    /// Gives the server a new publisher signing key, as `haven-server signing-key create` (or,
    /// with `endorsed`, `rotate`) does, and returns it.
    ///
    /// - Parameter endorsed: whether the newest key so far endorses the new one; without, the
    ///   new key replaces it unendorsed, as a hostile server would.
    @discardableResult
    func addSigningKey(endorsed: Bool = true) async throws -> PublisherSigningKey {
        let key = PublisherSigningKey()
        let store = try SQLiteSyncStore(path: path)
        try await store.addSigningKey { existing in
            StoredSigningKey(
                key: key, endorsement: endorsed ? try existing.last?.key.endorse(key.publicKey) : nil, createdAt: 0)
        }
        try store.close()
        return key
    }

    /// Pushes `records` as changes of another device with `role`'s token, one that has pulled
    /// everything first, as they are; fails unless every one is applied.
    func seed(_ records: [RecordState], as role: Role = .editor, through client: any TestClientProtocol) async throws {
        let api = ServerAPI(server: Fixtures.server, token: token(role), transport: RouterTransport(client))
        var seen: SyncCursor?
        var more = true
        while more {
            let page = try await api.pull(since: seen, limit: 500)
            (seen, more) = (page.cursor, page.more)
        }
        let changes = records.map { Change(id: "seed-\(UUID().uuidString.lowercased())", base: seen, record: $0) }
        let answer = try await api.push(changes)
        let refused = answer.results.filter { $0.status != .applied }
        guard refused.isEmpty else { throw SeedRefused(results: refused) }
    }

    /// A change the test meant to put on the server was not applied.
    struct SeedRefused: Error {
        var results: [PushResult]
    }
}
