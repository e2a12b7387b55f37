import Foundation
import HavenCore
import Testing
import TestSupport

/// Requests the HTTP parser refuses before any route is answered like every other error: 400
/// with the JSON error naming what is wrong, the server's time, and the connection closed
/// (issue 19, item 16). Sent over a raw socket to a live `haven-server`, since no HTTP client
/// sends them.
@Suite(.serialized)
struct ParserErrorTests {
    /// Raw requests, the code they get, and a word their message must contain.
    static let malformed: [(String, String, ErrorCode, String)] = [
        ("a Content-Length that is not a number", "POST /v1/changes HTTP/1.1\r\nHost: h\r\nContent-Length: 12a\r\n\r\n", .invalidHeader, "Content-Length"),
        ("two Content-Lengths", "POST /v1/changes HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nab", .invalidHeader, "Content-Length"),
        ("a NUL in a header value", "GET /healthz HTTP/1.1\r\nHost: h\r\nX-Note: a\u{0}b\r\n\r\n", .invalidHeader, "header"),
        ("a space in a header name", "GET /healthz HTTP/1.1\r\nHost: h\r\nX Note: a\r\n\r\n", .invalidHeader, "header"),
        ("a request line without a version", "GET /healthz\r\nHost: h\r\n\r\n", .invalidRequest, "request line"),
        ("a request line that is not one", "NOT A REQUEST AT ALL\r\n\r\n", .invalidRequest, "request"),
        ("a control character in the target", "GET /heal\u{1}thz HTTP/1.1\r\nHost: h\r\n\r\n", .invalidRequest, "request line"),
    ]

    @Test(arguments: malformed)
    func aRequestTheParserRefusesGetsTheJSONError(_ label: String, _ raw: String, _ code: ErrorCode, _ word: String)
        throws
    {
        // Given a live server
        let server = try Self.startServer()
        defer { server.stop() }

        // When a request the HTTP parser refuses arrives
        let connection = try Self.send(raw, to: server)

        // Then it is answered 400 with the JSON error naming the problem, and the connection closed
        let answer = try connection.readResponse()
        try Self.expectJSONError(answer, code: code, word: word, label: label)
        #expect(connection.isClosedByServer(), "\(label): the connection stayed open")
    }

    @Test func anAnswerInFlightComesFirstAndWhole() throws {
        // Given a live server
        let server = try Self.startServer()
        defer { server.stop() }

        // When a good request and a malformed one arrive together on one connection
        let connection = try Self.send(
            "GET /healthz HTTP/1.1\r\nHost: h\r\n\r\nPOST /v1/changes HTTP/1.1\r\nContent-Length: x\r\n\r\n", to: server)

        // Then the good one is answered first, whole, and then the malformed one with the JSON error
        let first = try connection.readResponse()
        #expect(first.status == 200)
        #expect(String(decoding: first.body, as: UTF8.self).contains(#""status":"ok""#))
        try Self.expectJSONError(try connection.readResponse(), code: .invalidHeader, word: "Content-Length", label: "second")
    }

    @Test func aBodyTheParserRefusesAfterTheRouteAnsweredGetsTheJSONErrorNext() throws {
        // Given a live server
        let server = try Self.startServer()
        defer { server.stop() }

        // When a push without a token sends a chunked body whose chunk size is not a number
        let connection = try Self.send(
            "POST /v1/changes HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", to: server)

        // Then the route answers its head (401, before reading the body), and the parser's
        // refusal of the body comes next with the JSON error
        #expect(try connection.readResponse().status == 401)
        try Self.expectJSONError(try connection.readResponse(), code: .invalidRequest, word: "chunk", label: "body")
        #expect(connection.isClosedByServer())
    }

    /// A live server of its own.
    static func startServer() throws -> ServerProcess {
        let server = ServerProcess(in: try TemporaryDirectory())
        try server.start()
        return server
    }

    /// A new connection to `server` that has sent `raw`.
    static func send(_ raw: String, to server: ServerProcess) throws -> RawConnection {
        let connection = try RawConnection(port: server.port, timeout: 30)
        try connection.write(Data(raw.utf8))
        return connection
    }

    /// Checks that `answer` is 400 with the JSON error `code`, whose message contains `word`.
    static func expectJSONError(_ answer: RawConnection.Response, code: ErrorCode, word: String, label: String) throws {
        #expect(answer.status == 400, "\(label)")
        #expect(answer.headers["content-type"] == "application/json", "\(label)")
        #expect(answer.headers["connection"] == "close", "\(label)")
        #expect(answer.headers["x-haven-server-time"].flatMap(UInt64.init) != nil, "\(label)")
        let body = String(decoding: answer.body, as: UTF8.self)
        let error = try #require(try? JSONDecoder().decode(ErrorBody.self, from: answer.body), "\(label): body '\(body)'").error
        #expect(error.code == code, "\(label): \(error)")
        #expect(error.message.contains(word), "\(label): \(error.message)")
    }
}
