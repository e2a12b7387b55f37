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
    func aVersionOneClientGetsEveryRegisterStampedAndALaterOneSharedStamps(_ backend: StorageBackend) async throws {
        // Given a server holding stories published in one write each, and one edited since
        let server = try await TestServer.make(backend: backend)
        var editor = Device("e1")
        let ids = (0..<3).map { _ in RecordID.random() }
        let created = ids.map { editor.change($0, .story, Fields.story("Crossing / 건너기", status: "published")) }
        let retitled = editor.change(ids[0], .story, ["title": "Retitled"])
        try await server.test { client in
            _ = try await client.push(created, token: server["editor"])
            _ = try await client.push([retitled], token: server["editor"])

            // When a version 1 client and a version 2 client pull everything, paged and streamed
            var answers: [Int: [String]] = [:]
            for version in [1, 2] {
                let headers: HTTPFields = [.authorization: "Bearer \(server["reader"])", Self.header: String(version)]
                let paged = try await client.execute(uri: "/v1/changes", method: .get, headers: headers)
                let streamed = try await client.execute(uri: "/v1/changes/stream", method: .get, headers: headers)
                #expect(paged.status == .ok && streamed.status == .ok)
                answers[version] = [paged.text, streamed.text]
            }

            // Then version 1 gets no record-level stamp and version 2 does, and both read the same records
            for text in answers[1]! { #expect(!text.contains(#""},"stamp":"#) && !text.contains(#"}},"stamp":"#)) }
            for text in answers[2]! { #expect(text.contains(#"},"stamp":"#)) }
            let records = try answers.mapValues { texts in
                try texts.map { text in
                    try text.split(separator: "\n").flatMap {
                        try JSONDecoder().decode(PullResponse.self, from: Data($0.utf8)).changes
                    }.sorted { $0.id < $1.id }
                }
            }
            #expect(records[1]![0] == records[2]![0] && records[1]![1] == records[2]![1] && records[1]![0] == records[1]![1])
            #expect(records[1]![0].count == 3)
            #expect(answers[2]![0].utf8.count < answers[1]![0].utf8.count)
        }
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
        #expect(error.message == "Haven-Protocol: \(old) is too old: this server speaks protocol versions 1 to 2; update haven")
        #expect(response.headers[Self.header] == String(ProtocolVersion.current))
    }

    @Test(arguments: StorageBackend.all, [
        ("\(ProtocolVersion.current + 1)", "Haven-Protocol: 3 is newer than this server: this server speaks protocol versions 1 to 2; update the server"),
        ("one", "Haven-Protocol: one is not a protocol version: send a whole number such as 2"),
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
