import Foundation
import HTTPTypes
import HavenCore
import HavenServer
import HummingbirdTesting
import Testing

/// `GET /v1/me`: each token learns its own name and role and the limits the server enforces,
/// and nothing about any other account.
struct AccountTests {
    @Test(arguments: TestServer.roles.filter { !["expired", "revoked"].contains($0.name) }.map(\.name))
    func tellsEachTokenItsRoleAndTheLimits(_ name: String) async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            // When a token asks who it is
            let response = try await client.get("/v1/me", token: server[name])

            // Then it gets its own name and role, and the server's own limits
            #expect(response.status == .ok)
            let account = try response.decode(Account.self)
            #expect(account.name == name)
            #expect(account.role == TestServer.roles.first { $0.name == name }?.role)
            #expect(account.limits == server.configuration.limits)
            #expect(account.limits.fields["story"]?["body"]?.characters == 100_000)

            // And nothing else: no token id, no other account's name
            let text = String(decoding: response.body.readableBytesView, as: UTF8.self)
            #expect(!text.contains(server.ids[name]!))
            for other in TestServer.roles where other.name != name && !name.hasPrefix(other.name) {
                #expect(!text.contains("\"\(other.name)\""), "\(other.name) in \(text)")
            }
        }
    }

    @Test func limitsFollowTheConfiguration() {
        // Given a server configured with smaller records and batches
        var configuration = ServerConfiguration()
        configuration.maxRecordBytes = 4_096
        configuration.maxBatchSize = 10

        // Then /v1/me would state them
        #expect(configuration.limits.recordBytes == 4_096)
        #expect(configuration.limits.batchChanges == 10)
        #expect(ServerConfiguration().limits == ServerLimits())
    }

    @Test func everyAnswerCarriesTheFingerprintOfTheAccountAnswer() async throws {
        let header = HTTPField.Name(Account.fingerprintHeader)!
        var fingerprints: [String: String] = [:]
        for (review, configuration) in [("single", ServerConfiguration.singleSignOff), ("two", ServerConfiguration())] {
            let server = try await TestServer.make(configuration: configuration)
            let found = try await server.test { client in
                var found: [String: String] = [:]
                for name in ["field", "editor"] {
                    // When a token asks who it is, then pulls
                    let me = try await client.get("/v1/me", token: server[name])
                    let pull = try await client.get("/v1/changes", token: server[name])

                    // Then the account answer states a fingerprint, and both answers carry it
                    let fingerprint = try #require(try me.decode(Account.self).fingerprint)
                    #expect(me.headers[header] == fingerprint)
                    #expect(pull.headers[header] == fingerprint)
                    found["\(name) \(review)"] = fingerprint
                }
                // and an answer to no token carries none
                #expect(try await client.get("/v1/changes", token: nil).headers[header] == nil)
                return found
            }
            fingerprints.merge(found) { $1 }
        }
        // and another role or another review policy is another fingerprint
        #expect(Set(fingerprints.values).count == 4, "\(fingerprints)")
    }

    @Test(arguments: [nil, "hvn_not-a-token"])
    func refusesAnUnknownToken(_ token: String?) async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            let response = try await client.get("/v1/me", token: token)
            #expect(response.status == .unauthorized)
            #expect(try response.error().code == .unauthorized)
        }
    }
}
