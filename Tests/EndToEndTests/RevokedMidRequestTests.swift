import Foundation
import HavenCore
import Testing
import TestSupport

/// A token revoked while its push's body is still arriving: the push is refused, and nothing of
/// it is written (issue 19, item 5: authorization is checked again after a wait, not only when
/// a request arrives).
@Suite(.serialized)
struct RevokedMidRequestTests {
    @Test func aPushWhoseTokenIsRevokedWhileItsBodyArrivesIsRefusedAndNotApplied() throws {
        // Given a live server, and an editor's push whose head and half its body were read
        let directory = try TemporaryDirectory()
        let server = ServerProcess(in: directory)
        try server.start()
        defer { server.stop() }
        let token = try server.token(role: "editor", name: "leaver")
        let admin = try server.token(role: "admin", name: "admin")
        let body = try JSONEncoder().encode(PushRequest(changes: [storyChange(title: "Sent as the token was revoked")]))
        let half = body.count / 2
        let push = try RawConnection(port: server.port, timeout: 30)
        let head =
            "POST /v1/changes HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n"
        try push.write(Data(head.utf8) + body.prefix(half))
        try push.waitUntilServerHasRead()

        // When the token is revoked, and then the rest of the body arrives
        let revoke = try run(
            Binaries.url("haven-server"), ["token", "revoke", "--database", server.database, "leaver"], in: directory)
        #expect(revoke.status == 0, "\(revoke.stderr)")
        try push.write(Data(body[half...]))

        // Then the push is 401 unauthorized, and nothing of it is in the log
        let answer = try push.readResponse()
        #expect(answer.status == 401, "\(String(decoding: answer.body.prefix(300), as: UTF8.self))")
        let page = try JSONDecoder().decode(
            PullResponse.self, from: try Self.get("/v1/changes", token: admin, port: server.port).body)
        #expect(page.changes.isEmpty)
    }

    /// A GET on a new connection.
    static func get(_ path: String, token: String, port: Int) throws -> RawConnection.Response {
        let connection = try RawConnection(port: port, timeout: 30)
        try connection.write(Data("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n\r\n".utf8))
        return try connection.readResponse()
    }
}
