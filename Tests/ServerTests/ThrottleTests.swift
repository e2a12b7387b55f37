import Foundation
import HTTPTypes
import HavenCore
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing
import TestSupport

@testable import HavenServer

struct ThrottleTests {
    /// The header the throttled servers of these tests trust for the client's address.
    static let forwarded = HTTPField.Name("X-Forwarded-For")!

    @Test func tenBadTokensMakeTheAddressFailuresTooManyRequestsForTheWindow() async throws {
        // Given a server that trusts X-Forwarded-For, with the default 10 failures per 60 s
        let clock = ManualClock(TestServer.now)
        let server = try await TestServer.make(configuration: Self.behindProxy())
        try await Self.test(server, clock: clock) { client in
            // When one address sends 10 bad tokens
            for attempt in 1...10 {
                let response = try await client.pull(from: "203.0.113.9", token: "hvn_guess\(attempt)")
                #expect(response.status == .unauthorized, "attempt \(attempt)")
            }

            // Then its next failing request is 429 with Retry-After and the JSON error, token or not
            let blocked = try await client.pull(from: "203.0.113.9", token: "hvn_guess11")
            #expect(blocked.status == .tooManyRequests)
            #expect(blocked.headers[.retryAfter] == "60")
            #expect(
                try blocked.error()
                    == ErrorDetail(
                        code: .tooManyAttempts,
                        message:
                            "Authorization: token not accepted, and too many failed attempts from this address; retry in 60 s"
                    ))
            let noToken = try await client.pull(from: "203.0.113.9", token: nil)
            #expect(noToken.status == .tooManyRequests)

            // And another address is unaffected
            #expect(try await client.pull(from: "198.51.100.7", token: "hvn_guess").status == .unauthorized)

            // And the block holds until the window has passed
            clock.advance(by: 59_001)
            let later = try await client.pull(from: "203.0.113.9", token: "hvn_guess12")
            #expect(later.status == .tooManyRequests)
            #expect(later.headers[.retryAfter] == "1")
            clock.advance(by: 999)
            #expect(try await client.pull(from: "203.0.113.9", token: "hvn_guess13").status == .unauthorized)
        }
    }

    @Test func validTokensFromABlockedAddressStillPass() async throws {
        // Given an address blocked by one device's bad tokens (an office, or a carrier's NAT)
        let server = try await TestServer.make(configuration: Self.behindProxy())
        try await Self.test(server, clock: ManualClock(TestServer.now)) { client in
            for attempt in 1...10 {
                _ = try await client.pull(from: "203.0.113.9", token: "hvn_guess\(attempt)")
            }
            #expect(try await client.pull(from: "203.0.113.9", token: "hvn_guess").status == .tooManyRequests)

            // When the other people behind it pull and push with their valid tokens
            let pull = try await client.pull(from: "203.0.113.9", token: server["reader"])
            let push = try await client.execute(
                uri: "/v1/changes", method: .post,
                headers: [
                    Self.forwarded: "203.0.113.9", .authorization: "Bearer \(server["editor"])",
                    .contentType: "application/json",
                ], body: ByteBuffer(string: #"{"changes":[]}"#))

            // Then they are served, and the bad token is still refused
            #expect(pull.status == .ok)
            #expect(push.status == .ok)
            #expect(try await client.pull(from: "203.0.113.9", token: "hvn_guess").status == .tooManyRequests)
        }
    }

    @Test func failuresSpreadOverMoreThanAWindowDoNotBlock() async throws {
        let clock = ManualClock(TestServer.now)
        let server = try await TestServer.make(configuration: Self.behindProxy())
        try await Self.test(server, clock: clock) { client in
            // Given 9 failures, then a pause of a whole window
            for _ in 1...9 {
                _ = try await client.pull(from: "203.0.113.9", token: "hvn_guess")
            }
            clock.advance(by: 60_000)

            // When 9 more fail
            for _ in 1...9 {
                #expect(try await client.pull(from: "203.0.113.9", token: "hvn_guess").status == .unauthorized)
            }

            // Then the address is not blocked: the count started again
            #expect(try await client.pull(from: "203.0.113.9", token: server["editor"]).status == .ok)
        }
    }

    @Test func requestsWithoutATokenAreNotCounted() async throws {
        let server = try await TestServer.make(configuration: Self.behindProxy())
        try await Self.test(server, clock: ManualClock(TestServer.now)) { client in
            for _ in 1...25 {
                let response = try await client.pull(from: "203.0.113.9", token: nil)
                #expect(response.status == .unauthorized)
            }
            let response = try await client.pull(from: "203.0.113.9", token: server["reader"])
            #expect(response.status == .ok)
        }
    }

    @Test func expiredAndRevokedTokensCountAsFailures() async throws {
        let server = try await TestServer.make(configuration: Self.behindProxy())
        try await Self.test(server, clock: ManualClock(TestServer.now)) { client in
            for attempt in 1...10 {
                _ = try await client.pull(
                    from: "203.0.113.9", token: server[attempt.isMultiple(of: 2) ? "expired" : "revoked"])
            }
            #expect(try await client.pull(from: "203.0.113.9", token: server["revoked"]).status == .tooManyRequests)
            #expect(try await client.pull(from: "203.0.113.9", token: server["admin"]).status == .ok)
        }
    }

    @Test func aForwardingHeaderIsIgnoredUnlessConfigured() async throws {
        // Given a server that does not trust any forwarding header (the default)
        let server = try await TestServer.make()
        try await Self.test(server, clock: ManualClock(TestServer.now)) { client in
            // When 10 bad tokens come, each claiming another forwarded address
            for attempt in 1...10 {
                _ = try await client.pull(from: "198.51.100.\(attempt)", token: "hvn_guess")
            }

            // Then they were counted against the one real peer, which is now blocked
            let response = try await client.pull(from: "198.51.100.99", token: "hvn_guess")
            #expect(response.status == .tooManyRequests)
        }
    }

    @Test func theLimitIsConfigurableAndZeroTurnsItOff() async throws {
        var configuration = Self.behindProxy()
        configuration.failedAuthLimit = 0
        let server = try await TestServer.make(configuration: configuration)
        try await Self.test(server, clock: ManualClock(TestServer.now)) { client in
            for _ in 1...30 {
                let response = try await client.pull(from: "203.0.113.9", token: "hvn_guess")
                #expect(response.status == .unauthorized)
            }
            let response = try await client.pull(from: "203.0.113.9", token: server["editor"])
            #expect(response.status == .ok)
        }
    }

    @Test func pushesAndMetricsCountTogetherWithPulls() async throws {
        let server = try await TestServer.make(configuration: Self.behindProxy())
        try await Self.test(server, clock: ManualClock(TestServer.now)) { client in
            for attempt in 1...10 {
                let uri = attempt.isMultiple(of: 2) ? "/v1/changes" : "/metrics"
                _ = try await client.execute(
                    uri: uri, method: .get, headers: [Self.forwarded: "203.0.113.9", .authorization: "Bearer nope"])
            }
            let push = try await client.execute(
                uri: "/v1/changes", method: .post,
                headers: [
                    Self.forwarded: "203.0.113.9", .authorization: "Bearer nope",
                    .contentType: "application/json",
                ], body: ByteBuffer(string: #"{"changes":[]}"#))
            #expect(push.status == .tooManyRequests)
            #expect(try push.error().code == .tooManyAttempts)
        }
    }

    @Test func theSocketPeerIsTheAddressOverALiveConnection() async throws {
        // Given a live server with a limit of 3
        var configuration = ServerConfiguration(port: 0)
        configuration.failedAuthLimit = 3
        let server = try await TestServer.make(configuration: configuration)
        let logger = Logger(label: "haven-server-tests", factory: { _ in SwiftLogNoOpLogHandler() })
        let now = server.now
        let app = try buildApplication(store: try await server.openStore(), configuration: configuration, logger: logger, clock: { now })
        try await app.test(.live) { client in
            // When 127.0.0.1 sends 3 bad tokens
            for _ in 1...3 {
                #expect(try await client.get("/v1/changes", token: "hvn_guess").status == .unauthorized)
            }
            // Then its next bad token is 429, and a valid one still passes
            let response = try await client.get("/v1/changes", token: "hvn_guess")
            #expect(response.status == .tooManyRequests)
            #expect(response.headers[.retryAfter] == "60")
            #expect(try await client.get("/v1/changes", token: server["editor"]).status == .ok)
        }
    }

    // MARK: The state and the addresses

    @Test func theTableOfAddressesIsBounded() {
        var state = FailedAuthThrottle.State(limit: 10, window: 60_000, capacity: 100)
        for index in 0..<1_000 {
            _ = state.recordFailure(from: "10.0.\(index / 256).\(index % 256)", now: 1_000 + UInt64(index))
        }
        #expect(state.entries.count <= 100)
        // The newest address is remembered
        #expect(state.entries["10.0.3.231"]?.failures == 1)
    }

    @Test func aBlockedAddressOutlivesQuietOnesWhenTheTableIsFull() {
        var state = FailedAuthThrottle.State(limit: 2, window: 60_000, capacity: 3)
        _ = state.recordFailure(from: "blocked", now: 0)
        let blocks = state.recordFailure(from: "blocked", now: 1)
        #expect(blocks)
        for index in 0..<10 {
            _ = state.recordFailure(from: "quiet\(index)", now: 2 + UInt64(index))
        }
        #expect(state.retryAfter(for: "blocked", now: 20) == 59_981)
    }

    /// Peer addresses and the key they are counted under.
    static let keys: [(String, String)] = [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:0:1:a:b:c:d", "2001:db8:0:1::/64"),
        ("2001:db8:0:1:ffff::1", "2001:db8:0:1::/64"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("::1", "0:0:0:0::/64"),
    ]

    @Test(arguments: keys)
    func addressKeys(_ address: String, _ key: String) throws {
        #expect(ClientAddress.key(for: try SocketAddress(ipAddress: address, port: 443)) == key)
        #expect(ClientAddress.key(forwarded: "198.51.100.1, \(address)") == key)
    }

    @Test(arguments: ["", "unknown", "203.0.113.9:443", "not an address", ", ,"])
    func forwardedValuesThatAreNotAddressesAreIgnored(_ value: String) {
        #expect(ClientAddress.key(forwarded: value) == nil)
    }

    // MARK: Helpers

    /// The default throttle, trusting `X-Forwarded-For` so that tests can speak for many addresses.
    static func behindProxy() -> ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.clientAddressHeader = forwarded.rawName
        return configuration
    }

    /// Runs `body` against the router of an application over `server`'s store whose clock is
    /// `clock`.
    static func test(
        _ server: TestServer, clock: ManualClock, _ body: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        let logger = Logger(label: "haven-server-tests", factory: { _ in SwiftLogNoOpLogHandler() })
        let app = try buildApplication(
            store: try await server.openStore(), configuration: server.configuration, logger: logger, clock: { clock.now })
        try await app.test(.router, body)
    }
}

extension TestClientProtocol {
    /// A pull that a trusted proxy says comes from `address`.
    func pull(from address: String, token: String?) async throws -> TestResponse {
        var headers: HTTPFields = [ThrottleTests.forwarded: address]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await execute(uri: "/v1/changes", method: .get, headers: headers)
    }
}
