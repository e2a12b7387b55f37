import Foundation
import HavenCore
import Testing

/// Long-poll and gzip against a live `haven-server`.
@Suite(.serialized)
struct LongPollAndGzipTests {
    @Test func longPollReturnsWellUnder100msAfterAPushCommits() async throws {
        let directory = try TemporaryDirectory()
        let server = ServerProcess(in: directory)
        try server.start()
        defer { server.stop() }
        let client = LiveClient(server: server.url, token: try server.token(role: "editor", name: "editor"))
        let start = try await client.pull(since: nil)
        var delays: [Duration] = []

        for round in 0..<5 {
            // Given a pull waiting for changes
            let cursor = try await client.pull(since: nil).cursor
            let poll = Task { () -> (PullResponse, ContinuousClock.Instant) in
                let page = try await client.pull(since: cursor, wait: 20)
                return (page, ContinuousClock.now)
            }
            try await Task.sleep(for: .milliseconds(300))

            // When a push commits
            let change = storyChange(title: "Round \(round)")
            let pushed = try await client.push([change])
            let committed = ContinuousClock.now
            #expect(pushed.status == 200)

            // Then the poll answers with it at once
            let (page, answered) = try await poll.value
            #expect(page.changes.map(\.id) == [change.record.id])
            delays.append(answered - committed)
        }
        // The median of five rounds: one round can be delayed by a busy machine, not by Haven.
        #expect(delays.sorted()[2] < .milliseconds(100), "delays after commit: \(delays)")
        #expect(start.changes.isEmpty)
    }

    @Test func longPollTimesOutWithAnEmptyPage() async throws {
        let directory = try TemporaryDirectory()
        let server = ServerProcess(in: directory)
        try server.start()
        defer { server.stop() }
        let client = LiveClient(server: server.url, token: try server.token(role: "editor", name: "editor"))
        _ = try await client.push([storyChange(title: "Before")])
        let cursor = try await client.pull(since: nil).cursor

        let started = ContinuousClock.now
        let page = try await client.pull(since: cursor, wait: 1)
        let waited = ContinuousClock.now - started

        #expect(page.changes.isEmpty && !page.more)
        #expect(page.cursor == cursor)
        #expect(waited >= .milliseconds(950) && waited < .seconds(3), "waited \(waited)")
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
