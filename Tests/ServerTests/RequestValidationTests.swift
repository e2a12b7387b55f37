import Foundation
import HTTPTypes
import HavenCore
import HavenServer
import HummingbirdTesting
import NIOCore
import Testing

struct RequestValidationTests {
    /// Push bodies that are not a push request, with a word the message must contain.
    static let malformedBodies: [(String, String)] = [
        (#"{"changes": [}"#, "invalid JSON"),
        ("not json at all", "invalid JSON"),
        ("", "invalid JSON"),
        (#"{"changes": 5}"#, "changes"),
        (#"{"batch": []}"#, "changes: missing"),
        (
            #"{"changes": [{"id": "a1-1", "record": {"id": "0c8b7a3e-5d2f-4e1a-9b6c-7d8e9f0a1b2c", "kind": "poem", "fields": {}}}]}"#,
            "changes[0].record.kind"
        ),
        (
            #"{"changes": [{"id": "a1-1", "base": "nope", "record": {"id": "0c8b7a3e-5d2f-4e1a-9b6c-7d8e9f0a1b2c", "kind": "story", "fields": {}}}]}"#,
            "changes[0].base"
        ),
        (
            #"{"changes": [{"id": "a1-1", "record": {"id": "0c8b7a3e-5d2f-4e1a-9b6c-7d8e9f0a1b2c", "kind": "story", "fields": {"title": {"value": "x", "stamp": "yesterday"}}}}]}"#,
            "stamp"
        ),
    ]

    @Test(arguments: malformedBodies)
    func malformedBodyIsInvalidJSON(_ body: String, _ mention: String) async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            let response = try await client.post("/v1/changes", token: server["editor"], body: Data(body.utf8))

            #expect(response.status == .badRequest)
            let error = try response.error()
            #expect(error.code == .invalidJSON)
            #expect(error.message.hasPrefix("body: "))
            #expect(error.message.contains(mention), "\(error.message)")
        }
    }

    @Test(arguments: ["text/plain", "application/x-www-form-urlencoded", nil] as [String?])
    func pushNeedsJSONContentType(_ contentType: String?) async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            let response = try await client.post(
                "/v1/changes", token: server["editor"], body: Data(#"{"changes":[]}"#.utf8), contentType: contentType)

            #expect(response.status == .unsupportedMediaType)
            let error = try response.error()
            #expect(error.code == .unsupportedMediaType)
            #expect(error.message.contains("Content-Type"))
        }
    }

    @Test func jsonContentTypeWithCharsetIsAccepted() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            let response = try await client.post(
                "/v1/changes", token: server["editor"], body: Data(#"{"changes":[]}"#.utf8),
                contentType: "application/json; charset=utf-8")
            #expect(response.status == .ok)
        }
    }

    @Test func bodyOverTheLimitIsTooLarge() async throws {
        // Given a server that accepts bodies of at most 1 KB
        let server = try await TestServer.make(configuration: ServerConfiguration(maxBodyBytes: 1_024))
        try await server.test { client in
            // When an editor pushes a 3 KB story
            var device = Device("a1")
            var fields = Fields.story("Long")
            fields["body"] = .string(String(repeating: "A long testimony. ", count: 180))
            let body = try JSONEncoder().encode(
                PushRequest(changes: [device.change(RecordID.random(), .story, fields)]))
            #expect(body.count > 3_000)
            let response = try await client.post("/v1/changes", token: server["editor"], body: body)

            // Then it is refused with 413 and nothing is written
            #expect(response.status == .contentTooLarge)
            let error = try response.error()
            #expect(error.code == .tooLarge)
            #expect(error.message.contains("1024"))
            #expect(try await client.pull(token: server["editor"]).changes.isEmpty)
        }
    }

    @Test func batchOverTheLimitIsRefusedWhole() async throws {
        // Given a server that takes at most 2 changes per push
        let server = try await TestServer.make(configuration: ServerConfiguration(maxBatchSize: 2))
        try await server.test { client in
            // When an editor pushes 3
            var device = Device("a1")
            let changes = (1...3).map { device.change(RecordID.random(), .story, Fields.story("Story \($0)")) }
            let response = try await client.post(
                "/v1/changes", token: server["editor"], body: try JSONEncoder().encode(PushRequest(changes: changes)))

            // Then the push is 413 batch_too_large, and none is applied
            #expect(response.status == .contentTooLarge)
            let error = try response.error()
            #expect(error.code == .batchTooLarge)
            #expect(error.message == "changes: 3 in one push, at most 2")
            #expect(try await client.pull(token: server["editor"]).changes.isEmpty)
            // And a batch of exactly the limit goes through
            #expect(
                try await client.push(Array(changes.prefix(2)), token: server["editor"]).statuses == [
                    .applied, .applied,
                ])
        }
    }

    @Test(arguments: [
        "garbage", "xyz.12", "0123456789abcdef", "0123456789abcdef.-1", "0123456789ABCDEF.1", "..",
        "0123456789abcdef.2.1",
    ])
    func unreadableCursorIsInvalid(_ since: String) async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            let response = try await client.get("/v1/changes?since=\(since)", token: server["reader"])

            #expect(response.status == .badRequest)
            let error = try response.error()
            #expect(error.code == .invalidCursor)
            #expect(error.message.hasPrefix("since:"))
        }
    }

    @Test func cursorFromAnotherDatabaseHasExpired() async throws {
        // Given a cursor issued by another server's database
        let other = try await TestServer.make()
        var device = Device("a1")
        _ = try await other.log.push(
            [device.change(RecordID.random(), .story, Fields.story("Elsewhere"))],
            by: Caller(tokenID: "x", name: "x", role: .editor), now: TestServer.now)
        let foreign = try await other.log.pull(
            since: nil, limit: 10, maxBytes: 1 << 20, for: Caller(tokenID: "x", name: "x", role: .editor)
        ).cursor
        let server = try await TestServer.make()
        #expect(foreign.epoch != server.store.epoch)

        try await server.test { client in
            // When it is used to pull from this server
            let response = try await client.get("/v1/changes?since=\(foreign)", token: server["reader"])

            // Then the answer is 410 cursor_expired
            #expect(response.status == .gone)
            let error = try response.error()
            #expect(error.code == .cursorExpired)
            #expect(error.message.contains("download everything again"))
        }
    }

    @Test func cursorAheadOfTheLogHasExpired() async throws {
        // Given a server whose log holds one change (say, restored from an older backup)
        let server = try await TestServer.make()
        try await server.test { client in
            var device = Device("a1")
            _ = try await client.push(
                [device.change(RecordID.random(), .story, Fields.story("One"))], token: server["editor"])

            // When a client pulls with a cursor of this epoch beyond the head of the log
            let ahead = SyncCursor(epoch: server.store.epoch, seq: 50)
            let response = try await client.get("/v1/changes?since=\(ahead)", token: server["editor"])

            // Then the cursor is refused rather than silently moved back: otherwise the changes
            // that refill seqs 2…50 would never reach this client
            #expect(response.status == .gone)
            #expect(try response.error().code == .cursorExpired)
        }
    }

    @Test func emptySinceMeansFromTheStart() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            var device = Device("a1")
            _ = try await client.push(
                [device.change(RecordID.random(), .story, Fields.story("One"))], token: server["editor"])

            let response = try await client.get("/v1/changes?since=", token: server["editor"])

            #expect(response.status == .ok)
            #expect(try response.decode(PullResponse.self).changes.count == 1)
        }
    }

    /// (A limit above the page limit is served at it: PageLimitTests.)
    @Test(arguments: ["0", "-1", "abc", "1.5", "1e3", ""])
    func limitOutOfRangeIsABadRequest(_ limit: String) async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            let response = try await client.get("/v1/changes?limit=\(limit)", token: server["reader"])

            #expect(response.status == .badRequest)
            let error = try response.error()
            #expect(error.code == .invalidLimit)
            #expect(error.message == "limit: must be a whole number of at least 1")
        }
    }

    @Test(arguments: [HTTPRequest.Method.delete, .put, .patch])
    func otherMethodsOnChangesAreRefused(_ method: HTTPRequest.Method) async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            let response = try await client.execute(
                uri: "/v1/changes", method: method, headers: [.authorization: "Bearer \(server["editor"])"])

            #expect(response.status == .methodNotAllowed)
            #expect(response.headers[.allow] == "GET, POST")
            #expect(
                try response.error()
                    == ErrorDetail(code: .methodNotAllowed, message: "/v1/changes takes GET or POST"))
        }
    }
}
