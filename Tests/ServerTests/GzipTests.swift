import CompressNIO
import Foundation
import HTTPTypes
import HavenCore
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import HavenServer

/// gzip both ways, and in the right order: a request body is inflated only once its caller is
/// authenticated, so no one without a valid token can make the server inflate anything, throttled
/// or not; answers are gzipped for every caller that accepts it.
struct GzipTests {
    /// Bytes that claim to be gzip and are not: inflating them is 400 `invalid_encoding`.
    static let notGzip = ByteBuffer(string: "this is not gzip data")

    /// A small body that inflates to far more than the body limit.
    static func bomb(inflating bytes: Int) throws -> ByteBuffer {
        var zeros = ByteBuffer(repeating: UInt8(ascii: " "), count: bytes)
        return try zeros.compress(with: .gzip())
    }

    private static func gzipPush(token: String?, body: ByteBuffer) -> (HTTPFields, ByteBuffer) {
        var headers: HTTPFields = [.contentType: "application/json", .contentEncoding: "gzip"]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return (headers, body)
    }

    @Test(arguments: [nil, "hvn_not_a_token", "expired", "revoked"])
    func gzipBodyFromAnUnauthenticatedCallerIsRefusedUninflated(token: String?) async throws {
        // Given a server with a body limit of 64 KiB
        var configuration = ServerConfiguration()
        configuration.maxBodyBytes = 64 << 10
        let server = try await TestServer.make(configuration: configuration)
        let secret = token.map { server.secrets[$0] ?? $0 }
        try await server.test { client in
            // When a caller without a valid token sends a body that is not gzip, and a gzip bomb
            let (headers, body) = Self.gzipPush(token: secret, body: Self.notGzip)
            let invalid = try await client.execute(uri: "/v1/changes", method: .post, headers: headers, body: body)
            let bomb = try await client.execute(
                uri: "/v1/changes", method: .post, headers: headers, body: try Self.bomb(inflating: 1 << 20))

            // Then both are 401, not 400 invalid_encoding nor 413: neither body was inflated
            #expect(invalid.status == .unauthorized)
            #expect(try invalid.error().code == .unauthorized)
            #expect(bomb.status == .unauthorized)
            #expect(try bomb.error().code == .unauthorized)
        }
    }

    @Test func gzipBodyFromAThrottledAddressIsRefusedUninflated() async throws {
        // Given a server that blocks an address after one failed authentication, and one failure
        var configuration = ServerConfiguration()
        configuration.failedAuthLimit = 1
        let server = try await TestServer.make(configuration: configuration)
        try await server.test { client in
            #expect(try await client.get("/v1/changes", token: "hvn_guess").status == .unauthorized)

            // When it then sends a body that is not gzip, with another bad token
            let (headers, body) = Self.gzipPush(token: "hvn_guess2", body: Self.notGzip)
            let response = try await client.execute(uri: "/v1/changes", method: .post, headers: headers, body: body)

            // Then it is 429 too_many_attempts, not 400 invalid_encoding
            #expect(response.status == .tooManyRequests)
            #expect(try response.error().code == .tooManyAttempts)
        }
    }

    @Test func authenticatedCallersStillHaveTheirBodiesInflatedAndChecked() async throws {
        var configuration = ServerConfiguration()
        configuration.maxBodyBytes = 64 << 10
        let server = try await TestServer.make(configuration: configuration)
        try await server.test { client in
            // Given an editor's push, gzipped
            var device = Device("gz")
            let changes = [device.change(RecordID.random(), .story, Fields.story("Gzipped"))]
            var plain = ByteBuffer(data: try JSONEncoder().encode(PushRequest(changes: changes)))
            let (headers, body) = Self.gzipPush(token: server["editor"], body: try plain.compress(with: .gzip()))

            // When it is sent, then an invalid body and a bomb
            let pushed = try await client.execute(uri: "/v1/changes", method: .post, headers: headers, body: body)
            let invalid = try await client.execute(
                uri: "/v1/changes", method: .post, headers: headers, body: Self.notGzip)
            let bomb = try await client.execute(
                uri: "/v1/changes", method: .post, headers: headers, body: try Self.bomb(inflating: 1 << 20))

            // Then the push is applied, the invalid body is 400 and the bomb 413, each saying why
            #expect(pushed.status == .ok)
            #expect(try pushed.decode(PushResponse.self).statuses == [.applied])
            #expect(invalid.status == .badRequest)
            #expect(try invalid.error() == ErrorDetail(code: .invalidEncoding, message: "body: not valid gzip data"))
            #expect(bomb.status == .contentTooLarge)
            #expect(try bomb.error().message == "request body exceeds 65536 bytes once inflated")
        }
    }

    @Test func otherEncodingsAreRefusedOnlyAfterAuthentication() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            var headers: HTTPFields = [.contentType: "application/json", .contentEncoding: "br"]
            let anonymous = try await client.execute(
                uri: "/v1/changes", method: .post, headers: headers, body: ByteBuffer(string: "{}"))
            headers[.authorization] = "Bearer \(server["editor"])"
            let editor = try await client.execute(
                uri: "/v1/changes", method: .post, headers: headers, body: ByteBuffer(string: "{}"))

            #expect(anonymous.status == .unauthorized)
            #expect(editor.status == .unsupportedMediaType)
            #expect(try editor.error().message == "Content-Encoding: only gzip is accepted")
        }
    }

    @Test func answersAreGzippedOnEveryRouteThatAcceptsIt() async throws {
        // Given twenty stories, enough for a pull page and the metrics to pass 512 bytes
        let server = try await TestServer.make()
        try await server.test { client in
            var device = Device("gz")
            let changes = (1...20).map { device.change(RecordID.random(), .story, Fields.story("Story \($0)")) }
            _ = try await client.push(changes, token: server["editor"])

            // When the pull and the metrics are asked for with and without Accept-Encoding: gzip
            for uri in ["/v1/changes", "/metrics"] {
                var headers: HTTPFields = [.authorization: "Bearer \(server["admin"])"]
                let plain = try await client.execute(uri: uri, method: .get, headers: headers)
                headers[.acceptEncoding] = "gzip"
                let gzipped = try await client.execute(uri: uri, method: .get, headers: headers)

                // Then only the second is gzipped, and it inflates to a body of the same kind
                #expect(plain.status == .ok && gzipped.status == .ok, "\(uri)")
                #expect(plain.headers[.contentEncoding] == nil, "\(uri)")
                #expect(gzipped.headers[.contentEncoding] == "gzip", "\(uri)")
                #expect(gzipped.headers[.vary] == "Accept-Encoding", "\(uri)")
                var body = gzipped.body
                let inflated = try body.decompress(with: .gzip(), maxSize: 1 << 20)
                #expect(inflated.readableBytes >= plain.body.readableBytes / 2, "\(uri)")
                #expect(inflated.readableBytes > gzipped.body.readableBytes, "\(uri)")
            }
        }
    }
}
