import Foundation
import HTTPTypes
import HavenCore
import HavenServer
import HummingbirdTesting
import NIOCore
import Testing

struct AuthTests {
    /// Authorization headers that must not get through, by what is wrong with them.
    static let badHeaders: [(String, String?)] = [
        ("no header", nil),
        ("empty bearer", "Bearer "),
        ("other scheme", "Basic dXNlcjpwYXNz"),
        ("unknown token", "Bearer hvn_notATokenThisServerEverIssued"),
        ("hash instead of secret", "Bearer 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
        ("overlong token", "Bearer " + String(repeating: "a", count: 500)),
    ]

    @Test(arguments: badHeaders)
    func refusesPullWithoutAValidToken(_ label: String, _ header: String?) async throws {
        // Given a server
        let server = try await TestServer.make()
        try await server.test { client in
            // When pulling with a bad Authorization header
            var headers: HTTPFields = [:]
            if let header { headers[.authorization] = header }
            let response = try await client.execute(uri: "/v1/changes", method: .get, headers: headers)

            // Then the answer is 401 with the JSON error
            #expect(response.status == .unauthorized, "\(label)")
            let error = try response.error()
            #expect(error.code == .unauthorized)
            #expect(error.message.contains("Authorization: Bearer"))
        }
    }

    @Test(arguments: ["expired", "revoked"])
    func refusesExpiredAndRevokedTokens(_ name: String) async throws {
        // Given a token that expired a second ago, or was revoked
        let server = try await TestServer.make()
        try await server.test { client in
            // When it pulls or pushes
            let pull = try await client.get("/v1/changes", token: server[name])
            var device = Device("aaaa")
            let change = device.change(RecordID.random(), .story, Fields.story("Hello"))
            let push = try await client.post(
                "/v1/changes", token: server[name], body: try JSONEncoder().encode(PushRequest(changes: [change])))

            // Then both are 401 unauthorized, and nothing was written
            #expect(pull.status == .unauthorized)
            #expect(try pull.error().code == .unauthorized)
            #expect(push.status == .unauthorized)
            #expect(try push.error().code == .unauthorized)
            #expect(try await client.pull(token: server["editor"]).changes.isEmpty)
        }
    }

    @Test func acceptsATokenUntilItExpires() async throws {
        // Given a token that expires one millisecond after the server's now
        let server = try await TestServer.make()
        let secret = try await server.addToken("soon", expiresAt: server.now + 1)

        // When it pulls now; Then it is accepted
        try await server.test { client in
            let response = try await client.get("/v1/changes", token: secret)
            #expect(response.status == .ok)
        }
        // And at its expiry instant it is refused
        #expect(try await server.store.caller(forTokenHash: TokenSecret.hash(secret), now: server.now + 1) == nil)
        #expect(try await server.store.caller(forTokenHash: TokenSecret.hash(secret), now: server.now)?.name == "soon")
    }

    @Test func healthNeedsNoToken() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            // When asking for /healthz without any token
            let response = try await client.get("/healthz", token: nil)

            // Then it answers ok
            #expect(response.status == .ok)
            #expect(try response.decode([String: String].self) == ["status": "ok"])
            #expect(response.headers[.contentType] == "application/json")
        }
    }

    /// Requests of every kind of outcome: each answer carries the server's clock.
    static let requests: [(method: HTTPRequest.Method, uri: String, token: String?, status: HTTPResponse.Status)] = [
        (.get, "/healthz", nil, .ok),
        (.get, "/v1/changes", "reader", .ok),
        (.get, "/v1/changes", nil, .unauthorized),
        (.get, "/v1/changes?since=garbage", "reader", .badRequest),
        (.post, "/v1/changes", "reader", .forbidden),
        (.post, "/v1/changes", "editor", .ok),
        (.get, "/nowhere", nil, .notFound),
        (.get, "/v1/nowhere", "editor", .notFound),
    ]

    @Test(arguments: requests)
    func everyResponseCarriesTheServerTime(
        method: HTTPRequest.Method, uri: String, token: String?, status: HTTPResponse.Status
    ) async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            var headers: HTTPFields = [.contentType: "application/json"]
            if let token { headers[.authorization] = "Bearer \(server[token])" }
            let body = method == .post ? ByteBuffer(string: #"{"changes":[]}"#) : nil
            let response = try await client.execute(uri: uri, method: method, headers: headers, body: body)

            #expect(response.status == status, "\(method) \(uri): \(response.text)")
            let serverTime = try #require(response.headers[HTTPField.Name("X-Haven-Server-Time")!])
            #expect(serverTime == String(TestServer.now))
        }
    }

    @Test(arguments: ["/nowhere", "/v1/nowhere", "/v1/changes/extra"])
    func unknownRouteIsAJSON404(_ uri: String) async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            let response = try await client.get(uri, token: server["editor"])

            #expect(response.status == .notFound)
            #expect(response.headers[.contentType] == "application/json")
            #expect(try response.error() == ErrorDetail(code: .notFound, message: "no route for GET \(uri)"))
        }
    }

    @Test func pushAndPullAnswerWithTheServerClockInTheBody() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            let pull = try await client.pull(token: server["reader"])
            let push = try await client.push([], token: server["editor"])

            #expect(pull.serverTime == TestServer.now)
            #expect(push.serverTime == TestServer.now)
            #expect(push.results.isEmpty)
        }
    }
}
