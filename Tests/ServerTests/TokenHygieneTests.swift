import Foundation
import HavenCore
import HavenServer
import Testing
import TestSupport

/// Token names that mean one token, revocation that never guesses, and when a token was last used.
struct TokenHygieneTests {
    @Test(arguments: StorageBackend.all)
    func aNameInUseByAnUnrevokedTokenIsRefused(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)

        // When a second token named like a live one (an expired one counts) is created
        for name in ["editor", "expired"] {
            let error = await #expect(throws: TokenNameTaken.self) {
                try await server.store.addToken(Self.token(name), hash: TokenSecret.hash(TokenSecret.generate()))
            }
            // Then it is refused, naming the existing token by id
            #expect(error?.existing.id == server.ids[name])
            #expect(error?.description.contains(server.ids[name]!) == true)
        }
        // And nothing was added, while the name of a revoked token may be taken again
        try await server.store.addToken(Self.token("revoked"), hash: TokenSecret.hash(TokenSecret.generate()))
        let names = try await server.store.tokens().map(\.name)
        #expect(names.filter { $0 == "editor" }.count == 1)
        #expect(names.filter { $0 == "revoked" }.count == 2)
    }

    @Test(arguments: StorageBackend.all)
    func anAmbiguousNameRevokesNothingAndAnIdAlwaysRevokes(_ backend: StorageBackend) async throws {
        // Given a revoked token named "revoked" and a new, live one of the same name
        let server = try await TestServer.make(backend: backend)
        let secret = TokenSecret.generate()
        let live = Self.token("revoked")
        try await server.store.addToken(live, hash: TokenSecret.hash(secret))

        // When revoking by that name
        let outcome = try await server.store.revokeToken("revoked", now: server.now)

        // Then nothing is revoked, and both ids are listed
        guard case .ambiguous(let matches) = outcome else {
            Issue.record("expected ambiguous, got \(outcome)")
            return
        }
        #expect(Set(matches.map(\.id)) == [live.id, server.ids["revoked"]!])
        #expect(try await server.store.caller(forTokenHash: TokenSecret.hash(secret), now: server.now) != nil)

        // And by its id, the live one is revoked
        guard case .revoked(let revoked) = try await server.store.revokeToken(live.id, now: server.now) else {
            Issue.record("not revoked by id")
            return
        }
        #expect(revoked.id == live.id)
        #expect(try await server.store.caller(forTokenHash: TokenSecret.hash(secret), now: server.now) == nil)
    }

    @Test(arguments: StorageBackend.all)
    func lastUseIsWrittenAtMostOnceAMinute(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        let hash = TokenSecret.hash(server["editor"])
        func lastUse(_ name: String) async throws -> UInt64? {
            try await server.store.tokens().first { $0.name == name }?.lastUsedAt
        }
        // Given tokens never used
        #expect(try await lastUse("editor") == nil)

        // When one authenticates, again within the minute, and again a minute after the first
        _ = try await server.store.caller(forTokenHash: hash, now: server.now)
        #expect(try await lastUse("editor") == server.now)
        _ = try await server.store.caller(forTokenHash: hash, now: server.now + 59_999)
        #expect(try await lastUse("editor") == server.now)
        _ = try await server.store.caller(forTokenHash: hash, now: server.now + 60_000)

        // Then its last use is written on the first and the third only, and a refused token's never
        #expect(try await lastUse("editor") == server.now + 60_000)
        _ = try await server.store.caller(forTokenHash: TokenSecret.hash(server["revoked"]), now: server.now)
        #expect(try await lastUse("revoked") == nil)
        #expect(try await lastUse("reader") == nil)
    }

    @Test(arguments: [
        (nil, "never"), (0, "just now"), (59_999, "just now"), (60_000, "1 minute ago"), (180_000, "3 minutes ago"),
        (3_600_000, "1 hour ago"), (7_300_000, "2 hours ago"), (86_400_000 * 3 + 5, "3 days ago"),
    ] as [(UInt64?, String)])
    func lastUseReadsAsTimeAgo(_ age: UInt64?, _ expected: String) {
        let now: UInt64 = 1_750_000_000_000
        #expect(TimeAgo.describe(age.map { now - $0 }, now: now) == expected)
        // A use stamped after now (another machine's clock) is "just now", not an overflow
        #expect(TimeAgo.describe(now + 5_000, now: now) == "just now")
    }

    private static func token(_ name: String) -> TokenInfo {
        TokenInfo(
            id: TokenSecret.generateID(), name: name, role: .editor, createdAt: TestServer.now, expiresAt: nil,
            revokedAt: nil)
    }
}
