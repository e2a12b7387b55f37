import Foundation
import HavenCore
import Testing
import TestSupport

/// A live `haven-server` closes connections whose clients are idle or slow, so that they cannot
/// hold its file descriptors forever, and never cuts a request it is answering (issue 19,
/// item 8). Each timeout is set to a second, the others out of the way; every outcome is
/// observed on the socket, and a socket's read limit only stops a hang.
@Suite(.serialized)
struct ConnectionTimeoutTests {
    @Test func aConnectionThatSendsHalfARequestHeadAndStallsIsClosed() throws {
        // Given a server whose request heads must arrive within a second
        let server = try Self.start(idle: "300s", header: "1s", body: "300s")
        defer { server.stop() }

        // When a connection sends half a request head, and nothing more
        let connection = try RawConnection(port: server.port, timeout: 30)
        try connection.write(Data("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: appl".utf8))

        // Then the server closes it, and still serves others
        #expect(connection.isClosedByServer(), "a half-sent head kept its connection open")
        #expect(try Self.health(port: server.port) == 200)
    }

    @Test func aHeadSentAByteAtATimeIsClosedAllTheSame() throws {
        // Given a server whose request heads must arrive within a second
        let server = try Self.start(idle: "300s", header: "1s", body: "300s")
        defer { server.stop() }

        // When a connection sends a head byte by byte, each read by the server, without end
        let connection = try RawConnection(port: server.port, timeout: 30)
        let head = Data("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n".utf8) + Data(repeating: UInt8(ascii: "a"), count: 4_000)
        var sent = 0
        do {
            while sent < head.count {
                try connection.write(head[sent...sent])
                sent += 1
                try connection.waitUntilServerHasRead()
            }
        } catch {
            // Closed by the server (or a write after that failed)
        }

        // Then the server closes it before the head ends: its bytes do not keep it open
        #expect(sent < head.count, "the server read a 4 KB head sent a byte at a time to its end")
        #expect(connection.isClosedByServer())
    }

    @Test func aBodyThatStopsComingIsClosed() throws {
        // Given a server whose request bodies must arrive within a second
        let server = try Self.start(idle: "300s", header: "300s", body: "1s")
        defer { server.stop() }
        let token = try server.token(role: "editor", name: "editor")

        // When a push sends its head and the start of its body, and nothing more
        let connection = try RawConnection(port: server.port, timeout: 30)
        try connection.write(
            Data(
                ("POST /v1/changes HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"changes\":[").utf8))

        // Then the server closes it
        #expect(connection.isClosedByServer(), "a stalled body kept its connection open")
        #expect(try Self.health(port: server.port) == 200)
    }

    @Test func anIdleKeepAliveConnectionIsClosed() throws {
        // Given a server whose connections may stay idle for a second
        let server = try Self.start(idle: "1s", header: "300s", body: "300s")
        defer { server.stop() }

        // When a connection makes a request, reads its answer, and stays open
        let connection = try RawConnection(port: server.port, timeout: 30)
        try connection.write(Data("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
        #expect(try connection.readResponse().status == 200)

        // Then the server closes it
        #expect(connection.isClosedByServer(), "an idle keep-alive connection stayed open")
    }

    @Test func aLongPollOutlastsEveryTimeoutAndIsAnswered() async throws {
        // Given a server whose timeouts are all a second, and a pull long-polling for a minute
        let server = try Self.start(idle: "1s", header: "1s", body: "1s")
        defer { server.stop() }
        let token = try server.token(role: "editor", name: "editor")
        let client = LiveClient(server: server.url, token: token)
        let cursor = try await client.pull(since: nil).cursor
        let poll = try RawConnection.longPoll(port: server.port, token: token, since: cursor, wait: 60)

        // When a connection opened after the poll was read has been closed as idle: every
        // timeout of the poll's connection has had its time
        let witness = try RawConnection(port: server.port, timeout: 30)
        #expect(witness.isClosedByServer(), "the idle timeout never closed a connection")

        // Then the poll is still there, and answers with a change pushed now
        let change = storyChange(title: "After the timeouts")
        #expect(try await client.push([change]).status == 200)
        #expect(try poll.readPage().changes.map(\.id) == [change.record.id])
    }

    // MARK: Helpers

    /// A server with the given `--idle-timeout`, `--header-timeout` and `--body-timeout`.
    static func start(idle: String, header: String, body: String) throws -> ServerProcess {
        let server = ServerProcess(in: try TemporaryDirectory())
        try server.start(arguments: ["--idle-timeout", idle, "--header-timeout", header, "--body-timeout", body])
        return server
    }

    /// The status of `GET /healthz` on a new connection.
    static func health(port: Int) throws -> Int {
        let connection = try RawConnection(port: port, timeout: 30)
        try connection.write(Data("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
        return try connection.readResponse().status
    }
}
