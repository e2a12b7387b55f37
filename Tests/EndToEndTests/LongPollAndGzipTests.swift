import Foundation
import HavenCore
import Testing
import TestSupport

/// Long-poll and gzip against a live `haven-server`.
@Suite(.serialized)
struct LongPollAndGzipTests {
    @Test func longPollAnswersAfterAPushCommitsAndBeforeItsWaitRunsOut() async throws {
        let directory = try TemporaryDirectory()
        let server = ServerProcess(in: directory)
        try server.start()
        defer { server.stop() }
        let token = try server.token(role: "editor", name: "editor")
        let client = LiveClient(server: server.url, token: token)
        let start = try await client.pull(since: nil)
        #expect(start.changes.isEmpty)

        for round in 0..<5 {
            // Given a pull waiting up to a minute for changes, its request read by the server
            let cursor = try await client.pull(since: nil).cursor
            let wait = Duration.seconds(60)
            let polled = ContinuousClock.now
            let poll = try RawConnection.longPoll(port: server.port, token: token, since: cursor, wait: 60)

            // When a push commits
            let change = storyChange(title: "Round \(round)")
            let pushed = try await client.push([change])
            #expect(pushed.status == 200)

            // Then the poll answers with it, so after the commit, and before its wait ran out: a
            // poll that only looked again at the end of its wait would take the whole minute
            let page = try poll.readPage()
            let answered = ContinuousClock.now
            #expect(page.changes.map(\.id) == [change.record.id], "round \(round)")
            #expect(answered - polled < wait, "round \(round): the poll was not woken by the push")
        }
    }

    @Test func longPollTimesOutWithAnEmptyPage() async throws {
        let directory = try TemporaryDirectory()
        let server = ServerProcess(in: directory)
        try server.start()
        defer { server.stop() }
        let client = LiveClient(server: server.url, token: try server.token(role: "editor", name: "editor"))
        _ = try await client.push([storyChange(title: "Before")])
        let cursor = try await client.pull(since: nil).cursor

        // When nothing is pushed while a pull waits a second (the client's 30 s timeout stops a hang)
        let started = ContinuousClock.now
        let page = try await client.pull(since: cursor, wait: 1)
        let waited = ContinuousClock.now - started

        // Then it answers an empty page with the same cursor, and not before its wait ran out
        #expect(page.changes.isEmpty && !page.more)
        #expect(page.cursor == cursor)
        #expect(waited >= .seconds(1), "answered after \(waited), before its wait ran out")
        let bad = try await client.send("GET", "/v1/changes?wait=600")
        #expect(bad.status == 400)
        #expect(String(decoding: bad.body, as: UTF8.self).contains("invalid_wait"))
    }

    @Test func gzipWorksBothWays() async throws {
        let directory = try TemporaryDirectory()
        let server = ServerProcess(in: directory)
        try server.start()
        defer { server.stop() }
        let client = LiveClient(server: server.url, token: try server.token(role: "editor", name: "editor"))

        // A gzip request body is accepted
        let changes = (0..<50).map { storyChange(title: "Compressed \($0)") }
        let pushed = try await client.push(changes, gzip: true)
        #expect(pushed.status == 200)
        let results = try JSONDecoder().decode(PushResponse.self, from: pushed.body).results
        #expect(results.count == 50 && results.allSatisfy { $0.status == .applied })

        // A client that accepts gzip gets a smaller body that inflates to the same page
        let plain = try await client.send("GET", "/v1/changes?limit=100", headers: ["Accept-Encoding": "identity"])
        let compressed = try await client.send("GET", "/v1/changes?limit=100", headers: ["Accept-Encoding": "gzip"])
        #expect(plain.headers["content-encoding"] == nil)
        #expect(compressed.headers["content-encoding"] == "gzip")
        // URLSession inflates transparently, so compare the lengths the server sent.
        let plainLength = try #require(plain.headers["content-length"].flatMap { Int($0) })
        let compressedLength = try #require(compressed.headers["content-length"].flatMap { Int($0) })
        #expect(compressedLength < plainLength / 2)
        let plainPage = try JSONDecoder().decode(PullResponse.self, from: plain.body)
        let inflatedPage = try JSONDecoder().decode(PullResponse.self, from: compressed.body)
        #expect(inflatedPage.changes == plainPage.changes)
        #expect(inflatedPage.changes.count == 50)

        // Broken gzip and other encodings get a JSON error
        let broken = try await client.send(
            "POST", "/v1/changes", body: Data("not gzip".utf8),
            headers: ["Content-Type": "application/json", "Content-Encoding": "gzip"])
        #expect(broken.status == 400)
        #expect(String(decoding: broken.body, as: UTF8.self).contains("invalid_encoding"))
        let brotli = try await client.send(
            "POST", "/v1/changes", body: Data("{}".utf8),
            headers: ["Content-Type": "application/json", "Content-Encoding": "br"])
        #expect(brotli.status == 415)

        // A small gzip bomb inflating past the body limit is refused, not inflated
        let bomb = try gzipped(Data(repeating: UInt8(ascii: " "), count: 9 << 20))
        #expect(bomb.count < 100_000)
        let refused = try await client.send(
            "POST", "/v1/changes", body: bomb, headers: ["Content-Type": "application/json", "Content-Encoding": "gzip"])
        #expect(refused.status == 413)
    }
}
