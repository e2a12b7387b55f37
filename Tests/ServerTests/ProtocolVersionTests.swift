import Foundation
import HavenCore
import HavenServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TestSupport

/// `Haven-Protocol`: the server answers the versions it still speaks, states its own on every
/// answer, and tells a client it no longer speaks to what to update (``ProtocolVersion``).
struct ProtocolVersionTests {
    private static let header = HTTPField.Name(ProtocolVersion.headerName)!

    @Test(arguments: StorageBackend.all, [nil, "\(ProtocolVersion.current)", " \(ProtocolVersion.oldestSupported) "])
    func answersEveryVersionItStillSpeaks(_ backend: StorageBackend, version: String?) async throws {
        // Given a client that states a supported version, or none (an old client, curl)
        let server = try await TestServer.make(backend: backend)
        var fields: HTTPFields = [.authorization: "Bearer \(server["reader"])"]
        if let version { fields[Self.header] = version }
        let headers = fields

        // When it pulls
        let response = try await server.test { client in try await client.execute(uri: "/v1/changes", method: .get, headers: headers) }

        // Then it is answered, and told the server's version
        #expect(response.status == .ok, "\(response.text)")
        #expect(response.headers[Self.header] == String(ProtocolVersion.current))
    }

    @Test(arguments: StorageBackend.all)
    func refusesAClientOlderThanItSupportsWithUpgradeRequired(_ backend: StorageBackend) async throws {
        // Given a client that speaks a version older than the oldest supported
        let server = try await TestServer.make(backend: backend)
        let old = ProtocolVersion.oldestSupported - 1
        let headers: HTTPFields = [.authorization: "Bearer \(server["admin"])", Self.header: String(old)]

        // When it pushes
        let response = try await server.test { client in
            try await client.execute(uri: "/v1/changes", method: .post, headers: headers, body: ByteBuffer(string: #"{"changes":[]}"#))
        }

        // Then nothing is done: 426 upgrade_required, in words that name the versions and the fix
        #expect(response.status == .upgradeRequired)
        let error = try response.error()
        #expect(error.code == .upgradeRequired)
        #expect(error.message == "Haven-Protocol: \(old) is too old: this server speaks protocol version 1; update haven")
        #expect(response.headers[Self.header] == String(ProtocolVersion.current))
    }

    @Test(arguments: StorageBackend.all, [
        ("\(ProtocolVersion.current + 1)", "Haven-Protocol: 2 is newer than this server: this server speaks protocol version 1; update the server"),
        ("one", "Haven-Protocol: one is not a protocol version: send a whole number such as 1"),
    ])
    func refusesAMalformedOrNewerVersionAsABadHeader(_ backend: StorageBackend, case: (version: String, message: String)) async throws {
        // Given a request whose version is not a number, or newer than the server's, and no token
        let server = try await TestServer.make(backend: backend)

        // When it comes
        let response = try await server.test { client in
            try await client.execute(uri: "/v1/changes", method: .get, headers: [Self.header: `case`.version])
        }

        // Then it is 400 invalid_header, before authentication
        #expect(response.status == .badRequest)
        let error = try response.error()
        #expect(error.code == .invalidHeader)
        #expect(error.message == `case`.message)
    }
}
