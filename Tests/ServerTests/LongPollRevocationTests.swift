import Foundation
import HavenCore
import HavenServer
import HummingbirdTesting
import Logging
import Testing
import TestSupport

/// A long-poll is authorized when it arrives, then waits up to a minute: its token is checked
/// again before it answers, so a token revoked or expired meanwhile gets 401 and nothing that
/// was published during the wait (issue 19, item 5).
struct LongPollRevocationTests {
    @Test(arguments: StorageBackend.all)
    func aPollWaitingWhenItsTokenIsRevokedAnswers401AndNoContent(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        try await Self.test(server) { client, store, _ in
            // Given a reader's long-poll, waiting
            let cursor = try await client.pull(token: server["reader"]).cursor
            async let poll = client.get("/v1/changes?since=\(cursor)&wait=60", token: server["reader"])
            try await Self.untilWaiting(store)

            // When the reader's token is revoked, and a story is published after that
            #expect(try await server.store.revokeToken(id: server.ids["reader"]!, now: server.now))
            try await Self.publish("Published after the revocation", client: client, server: server)

            // Then the poll answers 401, as any request with the token would, without the story
            let response = try await poll
            #expect(response.status == .unauthorized)
            #expect(try response.error().code == .unauthorized)
            #expect(!response.text.contains("Published after the revocation"))
        }
    }

    @Test(arguments: StorageBackend.all)
    func aPollWaitingWhenItsTokenExpiresAnswers401AndNoContent(_ backend: StorageBackend) async throws {
        // Given a reader token that expires a second after the server's now
        let server = try await TestServer.make(backend: backend)
        let secret = try await server.addToken("soon", expiresAt: server.now + 1_000)
        try await Self.test(server) { client, store, clock in
            // And its long-poll, waiting
            let cursor = try await client.pull(token: secret).cursor
            async let poll = client.get("/v1/changes?since=\(cursor)&wait=60", token: secret)
            try await Self.untilWaiting(store)

            // When the token expires, and a story is published after that
            clock.advance(by: 1_000)
            try await Self.publish("Published after the expiry", client: client, server: server)

            // Then the poll answers 401 without the story
            let response = try await poll
            #expect(response.status == .unauthorized)
            #expect(!response.text.contains("Published after the expiry"))
        }
    }

    @Test func aPollWhoseTokenStaysValidGetsWhatWasPublished() async throws {
        let server = try await TestServer.make()
        try await Self.test(server) { client, store, _ in
            // Given a reader's long-poll, waiting
            let cursor = try await client.pull(token: server["reader"]).cursor
            async let poll = client.get("/v1/changes?since=\(cursor)&wait=60", token: server["reader"])
            try await Self.untilWaiting(store)

            // When a story is published
            try await Self.publish("Published while it waited", client: client, server: server)

            // Then the poll answers with it: the checks above are of the token, not of the wake
            let response = try await poll
            #expect(response.status == .ok)
            #expect(try response.decode(PullResponse.self).changes.count == 1)
        }
    }

    // MARK: Helpers

    /// Runs `body` against the router of an application over a store of its own, whose commits
    /// show when a poll waits, with a clock the test moves.
    static func test(
        _ server: TestServer, _ body: @Sendable (any TestClientProtocol, any SyncStore, ManualClock) async throws -> Void
    ) async throws {
        let clock = ManualClock(TestServer.now)
        let store = try await server.openStore()
        let logger = Logger(label: "haven-server-tests", factory: { _ in SwiftLogNoOpLogHandler() })
        let app = try buildApplication(store: store, configuration: server.configuration, logger: logger, clock: { clock.now })
        try await app.test(.router) { client in try await body(client, store, clock) }
    }

    /// Returns once one pull waits for a commit.
    static func untilWaiting(_ store: any SyncStore) async throws {
        try await Polling.until("the long-poll waiting for a commit") { () async in store.commits.waiting == 1 }
    }

    /// An editor publishes a story titled `title`.
    static func publish(_ title: String, client: any TestClientProtocol, server: TestServer) async throws {
        var device = Device("ed01")
        let story = device.change(RecordID.random(), .story, Fields.story(title, status: "published"))
        #expect(try await client.push([story], token: server["editor"]).statuses == [.applied])
    }
}
