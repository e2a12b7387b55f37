import Foundation
import HavenCore
import HavenServer
import HummingbirdTesting
import Testing
import TestSupport

struct TokenTests {
    @Test(arguments: StorageBackend.all, [true, false])
    func revokedTokenIsRefusedAtOnce(_ backend: StorageBackend, byName: Bool) async throws {
        let server = try await TestServer.make(backend: backend)
        try await server.test { client in
            // Given a field token that works
            #expect(try await client.get("/v1/changes", token: server["field"]).status == .ok)

            // When it is revoked by name (or id)
            let outcome = try await server.store.revokeToken(
                byName ? "field" : server.ids["field"]!, now: TestServer.now)

            // Then its next request is 401, while the other tokens still work
            guard case .revoked(let revoked) = outcome else {
                Issue.record("not revoked: \(outcome)")
                return
            }
            #expect(revoked.id == server.ids["field"])
            let response = try await client.get("/v1/changes", token: server["field"])
            #expect(response.status == .unauthorized)
            #expect(try response.error().code == .unauthorized)
            #expect(try await client.get("/v1/changes", token: server["field2"]).status == .ok)
            // And the listing shows when it was revoked
            let info = try #require(try await server.store.tokens().first { $0.name == "field" })
            #expect(info.revokedAt == TestServer.now)
        }
    }

    @Test(arguments: StorageBackend.all, ["field", "nobody"])
    func revokingTwiceOrUnknownReportsNothingRevoked(_ backend: StorageBackend, _ name: String) async throws {
        let server = try await TestServer.make(backend: backend)
        if name == "field" { _ = try await server.store.revokeToken(name, now: TestServer.now) }
        let outcome = try await server.store.revokeToken(name, now: TestServer.now + 1)
        if name == "field" {
            guard case .alreadyRevoked = outcome else { Issue.record("\(outcome)"); return }
        } else {
            #expect(outcome == .notFound)
        }
        #expect(try await server.store.revokeToken(id: server.ids["field"]!, now: TestServer.now + 2) == (name != "field"))
        if name == "field" {
            // The first revocation time is kept
            #expect(try await server.store.tokens().first { $0.name == "field" }?.revokedAt == TestServer.now)
        }
    }

    @Test(arguments: StorageBackend.all) func listingNeverExposesSecretsOrHashes(_ backend: StorageBackend) async throws {
        // Given a store with eight tokens
        let server = try await TestServer.make(backend: backend)

        // When listing them
        let tokens = try await server.store.tokens()

        // Then each is there with its name, role and id
        #expect(Set(tokens.map(\.name)) == Set(TestServer.roles.map(\.name)))
        for info in tokens {
            #expect(info.id == server.ids[info.name])
            #expect(info.role == TestServer.roles.first { $0.name == info.name }?.role)
        }
        // And nothing in them, however printed, holds a secret or its hash
        let printed =
            String(decoding: try JSONEncoder().encode(tokens), as: UTF8.self) + "\(tokens)" + String(reflecting: tokens)
        for secret in server.secrets.values {
            let hash = TokenSecret.hash(secret)
            #expect(!printed.contains(secret))
            #expect(!printed.contains(String(secret.dropFirst(4).prefix(16))))
            #expect(!printed.contains(hash.base64EncodedString()))
            #expect(!printed.contains(hash.map { String(format: "%02x", $0) }.joined()))
        }
    }

    @Test func hashIsSHA256() {
        // SHA-256 test vectors (FIPS 180-2)
        #expect(hex(TokenSecret.hash("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex(TokenSecret.hash("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func secretsAreRandom256BitValues() {
        let secrets = (0..<50).map { _ in TokenSecret.generate() }
        #expect(Set(secrets).count == 50)
        for secret in secrets {
            // "hvn_" and 43 base64url characters: 256 bits
            #expect(secret.hasPrefix("hvn_"))
            #expect(secret.count == 4 + 43)
            #expect(
                secret.dropFirst(4).allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        }
    }

    @Test(arguments: StorageBackend.all) func databaseHoldsTheHashNotTheSecret(_ backend: StorageBackend) async throws {
        // Given a store with tokens, checkpointed or not
        let server = try await TestServer.make(backend: backend)
        let bytes: Data
        if let postgres = server.postgres {
            // Every token row as text, the hash as raw bytes.
            struct Row: Decodable { var text: String, hash: String }
            bytes = try postgres.rows(Row.self, "SELECT t::text AS text, encode(hash, 'hex') AS hash FROM tokens t")
                .reduce(into: Data()) { $0.append(Data($1.text.utf8)); $0.append(Data(hex: $1.hash)) }
        } else {
            let files = try FileManager.default.contentsOfDirectory(atPath: server.directory.path)
                .map { server.directory.appendingPathComponent($0) }
            bytes = try files.reduce(into: Data()) { $0.append(try Data(contentsOf: $1)) }
        }

        // Then the database files hold each token's SHA-256, and never the secret itself
        for (name, secret) in server.secrets {
            #expect(bytes.range(of: TokenSecret.hash(secret)) != nil, "hash of \(name) not stored")
            #expect(bytes.range(of: Data(secret.utf8)) == nil, "secret of \(name) stored in clear")
            #expect(bytes.range(of: Data(secret.dropFirst(4).utf8)) == nil, "secret of \(name) stored in clear")
        }
        // And the store finds the caller by that hash only
        let secret = server["editor"]
        #expect(
            try await server.store.caller(forTokenHash: TokenSecret.hash(secret), now: TestServer.now)?.name == "editor"
        )
        #expect(try await server.store.caller(forTokenHash: Data(secret.utf8), now: TestServer.now) == nil)
    }

    @Test(arguments: StorageBackend.all) func callerCarriesTheTokensIdNameAndRole(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        for (name, role) in TestServer.roles where name != "expired" && name != "revoked" {
            let caller = try await server.store.caller(
                forTokenHash: TokenSecret.hash(server[name]), now: TestServer.now)
            #expect(caller == Caller(tokenID: server.ids[name]!, name: name, role: role))
        }
    }

    private func hex(_ data: Data) -> String { data.map { String(format: "%02x", $0) }.joined() }
}

extension Data {
    /// The bytes that `hex`, two digits a byte, spells.
    init(hex: String) {
        let digits = Array(hex.utf8)
        self.init(stride(from: 0, to: digits.count - 1, by: 2).map { UInt8(String(decoding: digits[$0...$0 + 1], as: UTF8.self), radix: 16)! })
    }
}
