import Foundation
import GRDB
import HavenCore
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// SIGTERM against a live `haven-server serve`: requests in flight are answered, new connections
/// are refused, the process exits 0 and leaves a whole database with nothing in its WAL.
@Suite(.serialized)
struct ShutdownTests {
    @Test func finishesAPushInFlightRefusesNewConnectionsAndClosesTheDatabase() async throws {
        // Given a live server, an idle keep-alive connection, and a push whose body is half sent
        // and half read (a grace period far beyond the test's, so only the push can end it)
        let directory = try TemporaryDirectory()
        let server = ServerProcess(in: directory)
        try server.start(logLevel: "info", arguments: ["--shutdown-grace", "300s"])
        defer { server.stop() }
        let token = try server.token(role: "editor", name: "editor")
        let port = try #require(Int(server.url.split(separator: ":").last ?? ""))
        let idle = try RawConnection(port: port)
        try idle.write(request("GET", "/healthz"))
        #expect(try idle.readResponse().status == 200)
        let changes = makeChanges(500)
        let body = try JSONEncoder().encode(PushRequest(changes: changes))
        let half = body.count / 2
        let push = try RawConnection(port: port)
        try push.write(
            request(
                "POST", "/v1/changes",
                headers: [
                    "Authorization": "Bearer \(token)", "Content-Type": "application/json",
                    "Content-Length": "\(body.count)",
                ])
                + body.prefix(half))
        try push.waitUntilServerHasRead()
        let process = try #require(server.running?.process)

        // When the server gets SIGTERM
        kill(process.processIdentifier, SIGTERM)

        // Then it refuses new connections, while the push is still open: the process cannot end
        // before the rest of the body is sent
        try await waitUntilRefused(port: port)
        #expect(process.isRunning, "the server must wait for the push in flight")

        // And it still takes the rest of the push and answers it in full
        try push.write(Data(body[half...]))
        let answer = try push.readResponse()
        #expect(answer.status == 200, "\(String(decoding: answer.body, as: UTF8.self).prefix(300))")
        let results = try JSONDecoder().decode(PushResponse.self, from: answer.body).results
        #expect(results.count == changes.count)
        #expect(results.allSatisfy { $0.status == .applied })

        // And then exits 0, having closed the idle connection and said so
        try await waitForExit(process)
        let result = try #require(server.running).result()
        #expect(result.reason == .exit && result.status == 0, "stderr: \(result.stderr)")
        #expect(idle.isClosedByServer())
        #expect(result.stderr.contains("shutting down"), "stderr: \(result.stderr)")
        #expect(result.stderr.contains("database closed"), "stderr: \(result.stderr)")

        // And the database is whole, with nothing left in the WAL to recover
        #expect(try walBytes(of: server.database) == 0)
        let database = try DatabaseQueue(path: server.database)
        let (integrity, logged) = try await database.read { db in
            (
                try String.fetchOne(db, sql: "PRAGMA integrity_check"),
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM change_log")
            )
        }
        #expect(integrity == "ok")
        #expect(logged == changes.count)
    }

    @Test func answersALongPollInFlightAtOnceAndExits() async throws {
        // Given a live server (whose grace period outlasts the poll) and a pull long-polling for
        // a minute, its request read by the server
        let directory = try TemporaryDirectory()
        let server = ServerProcess(in: directory)
        try server.start(arguments: ["--shutdown-grace", "300s"])
        defer { server.stop() }
        let token = try server.token(role: "reader", name: "reader")
        let port = try #require(Int(server.url.split(separator: ":").last ?? ""))
        let first = try RawConnection(port: port)
        try first.write(request("GET", "/v1/changes", headers: ["Authorization": "Bearer \(token)"]))
        let cursor = try JSONDecoder().decode(PullResponse.self, from: first.readResponse().body).cursor
        let wait = Duration.seconds(60)
        let poll = try RawConnection(port: port, timeout: 120)
        let polled = ContinuousClock.now
        try poll.write(
            request("GET", "/v1/changes?since=\(cursor)&wait=\(wait.components.seconds)", headers: ["Authorization": "Bearer \(token)"]))
        try poll.waitUntilServerHasRead()
        let process = try #require(server.running?.process)

        // When the server gets SIGTERM
        kill(process.processIdentifier, SIGTERM)

        // Then the poll is answered with an empty page before its wait runs out: by the
        // shutdown, not by the end of the wait
        let answer = try poll.readResponse()
        let answered = ContinuousClock.now
        #expect(answer.status == 200, "\(String(decoding: answer.body, as: UTF8.self).prefix(300))")
        let page = try JSONDecoder().decode(PullResponse.self, from: answer.body)
        #expect(page.changes.isEmpty && page.cursor == cursor)
        #expect(answered - polled < wait, "the poll was answered only when its wait ran out")

        // And the process exits 0
        try await waitForExit(process)
        let result = try #require(server.running).result()
        #expect(result.reason == .exit && result.status == 0, "stderr: \(result.stderr)")
        #expect(throws: RawConnection.Refused.self) { try RawConnection(port: port) }
    }

    // MARK: - Helpers

    /// The bytes of a request head (and `Host`), ready to send.
    private func request(_ method: String, _ target: String, headers: [String: String] = [:]) -> Data {
        var text = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { text += "\(name): \(value)\r\n" }
        return Data((text + "\r\n").utf8)
    }

    /// `count` new stories from one replica, each a few hundred bytes.
    private func makeChanges(_ count: Int) -> [Change] {
        var clock = HybridLogicalClock(replica: ReplicaID("shutdown")!)
        return (0..<count).map { index in
            let stamp = clock.now()
            let fields: [String: JSONValue] = [
                "title": .string("Story \(index)"), "body": .string(String(repeating: "Words. ", count: 40)),
                "language": "en", "status": "draft",
            ]
            return Change(
                id: "shutdown-\(index + 1)", base: nil,
                record: RecordState(
                    id: RecordID.random(), kind: .story, fields: fields.mapValues { Register($0, stamp: stamp) }))
        }
    }

    @Test func aBodyThatNeverEndsHoldsTheShutdownOnlyForTheGracePeriod() async throws {
        // Given a server with a 2 s grace period, logging what its service group does, and a
        // push that sends the start of its body, is read, and stalls
        let directory = try TemporaryDirectory()
        let server = ServerProcess(in: directory)
        try server.start(logLevel: "debug", arguments: ["--shutdown-grace", "2s"])
        defer { server.stop() }
        let token = try server.token(role: "editor", name: "editor")
        let port = try #require(Int(server.url.split(separator: ":").last ?? ""))
        let stalled = try RawConnection(port: port)
        try stalled.write(
            request(
                "POST", "/v1/changes",
                headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json", "Content-Length": "5000"])
                + Data(#"{"changes":["#.utf8))
        try stalled.waitUntilServerHasRead()
        let process = try #require(server.running?.process)

        // When the server gets SIGTERM
        kill(process.processIdentifier, SIGTERM)

        // Then it waits for the request until the grace period runs out, then gives up on it
        // and still exits 0 (a server that never gave up would hang here until the limit)
        try await waitForExit(process)
        let result = try #require(server.running).result()
        #expect(result.reason == .exit && result.status == 0, "stderr: \(result.stderr)")
        let shutdown = try #require(result.stderr.range(of: "shutting down"), "stderr: \(result.stderr)")
        let gaveUp = try #require(
            result.stderr.range(of: "Graceful shutdown took longer than allowed"),
            "the grace period never ran out: the server did not wait for the request; stderr: \(result.stderr)")
        #expect(shutdown.upperBound <= gaveUp.lowerBound)
        #expect(stalled.isClosedByServer(), "the stalled push was never cut")
    }

    /// Waits until connecting to `port` is refused; the limit only stops a hang.
    private func waitUntilRefused(port: Int) async throws {
        try await Polling.until("port \(port) refusing connections after SIGTERM", limit: 60) { () async throws in
            do {
                _ = try RawConnection(port: port)
                return false
            } catch is RawConnection.Refused {
                return true
            }
        }
    }

    /// Waits until `process` ends; the limit only stops a hang.
    private func waitForExit(_ process: Process) async throws {
        try await Polling.until("haven-server ending after SIGTERM", limit: 60) { () async in !process.isRunning }
        process.waitUntilExit()
    }

    /// The size of the database's write-ahead log; 0 when there is none.
    private func walBytes(of database: String) throws -> Int {
        let path = database + "-wal"
        guard FileManager.default.fileExists(atPath: path) else { return 0 }
        return (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    }
}
