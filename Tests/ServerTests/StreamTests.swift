import CompressNIO
import Foundation
import HavenCore
@testable import HavenServer
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization
import Testing
import TestSupport

/// `GET /v1/changes/stream`: every page of a download in one answer, one JSON line each, under
/// the same rules as the paged pull.
struct StreamTests {
    /// `count` published stories, every `draftEvery`-th one a draft (0: none).
    private static func pack(count: Int, draftEvery: Int = 0) -> ContentPack {
        ContentPack(
            records: (0..<count).map { index in
                let status = draftEvery > 0 && index % draftEvery == 0 ? "draft" : "published"
                return ContentPack.Record(
                    id: RecordID.random(), kind: .story, fields: Fields.story("Story \(index)", status: status))
            })
    }

    /// The lines of a stream's body, each decoded as a page.
    private static func pages(_ response: TestResponse) throws -> [PullResponse] {
        var body = response.body
        if response.headers[.contentEncoding] == "gzip" { body = try body.decompress(with: .gzip()) }
        if response.headers[.contentEncoding] == "zstd" {
            body = ByteBuffer(bytes: try #require(TestZstd.decompress(Data(body.readableBytesView))))
        }
        let text = String(buffer: body)
        #expect(text.hasSuffix("\n"))
        return try text.split(separator: "\n").map { try JSONDecoder().decode(PullResponse.self, from: Data($0.utf8)) }
    }

    @Test(arguments: StorageBackend.all)
    func aStreamBringsEveryRecordTheCallerMaySeeOnceAsPagesWithCursors(_ backend: StorageBackend) async throws {
        // Given 120 imported stories, every third a draft
        let server = try await TestServer.make(backend: backend)
        let pack = Self.pack(count: 120, draftEvery: 3)
        _ = try await PackImporter(log: server.log).importPack(pack)

        try await server.test { client in
            // When a reader streams with 2 KiB lines
            let response = try await client.get("/v1/changes/stream?chunk=2048", token: server["reader"])
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/x-ndjson")
            let pages = try Self.pages(response)

            // Then it got many pages, each but the last with more, their positions increasing
            #expect(pages.count > 5)
            #expect(pages.dropLast().allSatisfy(\.more) && pages.last?.more == false)
            let positions = pages.map { $0.cursor.position ?? $0.cursor.seq }
            #expect(zip(positions, positions.dropFirst()).allSatisfy { $0 < $1 })
            // And every published story exactly once, no draft
            let published = pack.records.filter { $0.fields["status"] == "published" }.map(\.id)
            let ids = pages.flatMap(\.changes).map(\.id)
            #expect(ids.count == published.count)
            #expect(Set(ids) == Set(published))
            // And each line but the last counts the published stories after it
            var brought = 0
            for page in pages.dropLast() {
                brought += page.changes.count
                #expect(page.remaining == published.count - brought)
            }
            #expect(pages.last?.remaining == nil)
            // And the last cursor is the one a paged pull ends with
            let paged = try await client.pull(token: server["reader"])
            #expect(pages.last?.cursor == paged.cursor)
            // And streaming from it brings one empty last page
            let after = try Self.pages(
                try await client.get("/v1/changes/stream?since=\(paged.cursor)", token: server["reader"]))
            #expect(after.count == 1 && after[0].changes.isEmpty && !after[0].more)
        }
    }

    @Test(arguments: StorageBackend.all)
    func aPageAfterAnotherTakesWhatIsLeftFromItWithoutCountingAgain(_ backend: StorageBackend) async throws {
        // Given 30 imported stories and a reader
        let server = try await TestServer.make(backend: backend)
        _ = try await PackImporter(log: server.log).importPack(Self.pack(count: 30))
        let reader = Caller(tokenID: server.ids["reader"]!, name: "reader", role: .reader)

        // When a page of 10 follows one said to leave 1,000 (as a stream's line before would)
        let first = try await server.log.pull(since: nil, limit: 10, maxBytes: 1 << 20, for: reader)
        #expect(first.remaining == 20)
        let next = try await server.log.pull(
            since: first.cursor, limit: 10, maxBytes: 1 << 20, for: reader, remainingBefore: 1_000)

        // Then its own is that less the 10 it brings: the records left were not counted again,
        // which at every line made a download's cost grow with the square of its size
        #expect(next.remaining == 990)
        // And without it, the page counts: 10 left
        let counted = try await server.log.pull(since: first.cursor, limit: 10, maxBytes: 1 << 20, for: reader)
        #expect(counted.remaining == 10)
    }

    @Test func aGzipStreamInflatesToTheSameLines() async throws {
        let server = try await TestServer.make()
        _ = try await PackImporter(log: server.log).importPack(Self.pack(count: 60))
        try await server.test { client in
            // When an editor streams with and without gzip
            let plain = try Self.pages(try await client.get("/v1/changes/stream?chunk=2048", token: server["editor"]))
            let zipped = try await client.execute(
                uri: "/v1/changes/stream?chunk=2048", method: .get,
                headers: [.authorization: "Bearer \(server["editor"])", .acceptEncoding: "gzip"])

            // Then the gzip one is smaller on the wire and holds the same pages
            #expect(zipped.headers[.contentEncoding] == "gzip")
            let inflated = try Self.pages(zipped)
            #expect(inflated.map(\.changes) == plain.map(\.changes))
            #expect(inflated.map(\.cursor) == plain.map(\.cursor))
            #expect(zipped.body.readableBytes < plain.reduce(0) { $0 + (try! JSONEncoder().encode($1).count) } / 2)
        }
    }

    @Test func aZstdStreamDecodesToTheSameLinesInFewerBytesThanGzip() async throws {
        let server = try await TestServer.make()
        _ = try await PackImporter(log: server.log).importPack(Self.pack(count: 200))
        try await server.test { client in
            // When an editor streams as haven asks (zstd before gzip), and with gzip alone
            func stream(_ acceptEncoding: String) async throws -> TestResponse {
                try await client.execute(
                    uri: "/v1/changes/stream?chunk=4096", method: .get,
                    headers: [.authorization: "Bearer \(server["editor"])", .acceptEncoding: acceptEncoding])
            }
            let zstd = try await stream("zstd, gzip")
            let gzip = try await stream("gzip")

            // Then the first comes in zstd, one frame with its checksum, and holds the same pages
            // as the second in fewer bytes
            #expect(zstd.headers[.contentEncoding] == "zstd")
            #expect(zstd.headers[.vary] == "Accept-Encoding")
            let decoded = try Self.pages(zstd)
            let inflated = try Self.pages(gzip)
            #expect(decoded.count > 5)
            #expect(decoded.map(\.changes) == inflated.map(\.changes))
            #expect(decoded.map(\.cursor) == inflated.map(\.cursor))
            #expect(zstd.body.readableBytes < gzip.body.readableBytes)
        }
    }

    @Test(arguments: [
        ("zstd, gzip", "zstd"), ("gzip, zstd;q=0.5", "zstd"), ("gzip", "gzip"), ("*", "gzip"), ("zstd;q=0, gzip", "gzip"),
        ("zstd;q=0", "identity"), ("br", "identity"), (nil, "identity"),
    ] as [(String?, String)])
    func theStreamsCodingIsZstdOnlyWhenNamed(acceptEncoding: String?, coding: String) {
        // zstd when the client names it, whatever its order; gzip for `*`, as every client decodes it
        #expect(LineStreamEncoder.Coding.chosen(by: acceptEncoding).rawValue == coding)
    }

    @Test func badRequestsAreAnsweredAsThePagedPullAnswersThem() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            let bad = try await client.get("/v1/changes/stream?since=zz", token: server["reader"])
            #expect(bad.status == .badRequest)
            #expect(try bad.error().code == .invalidCursor)
            let tiny = try await client.get("/v1/changes/stream?chunk=10", token: server["reader"])
            #expect(tiny.status == .badRequest)
            #expect(try tiny.error().message.contains("chunk"))
            let stranger = try await client.get("/v1/changes/stream", token: nil)
            #expect(stranger.status == .unauthorized)
            let post = try await client.post("/v1/changes/stream", token: server["reader"], body: Data())
            #expect(post.status == .methodNotAllowed)
            let otherDatabase = SyncCursor(epoch: "00000000", seq: 1)
            let gone = try await client.get("/v1/changes/stream?since=\(otherDatabase)", token: server["reader"])
            #expect(gone.status == .gone)
        }
    }

    @Test(arguments: StorageBackend.all)
    func aTokenThatExpiresDuringAStreamEndsItBeforeItsLastPage(_ backend: StorageBackend) async throws {
        // Given 120 stories, a reader token that expires 40 ms after now, and a server clock
        // that moves a millisecond each time it is read (the stream reads it at every line)
        let server = try await TestServer.make(backend: backend)
        _ = try await PackImporter(log: server.log).importPack(Self.pack(count: 120))
        let secret = try await server.addToken("short", expiresAt: server.now + 40)
        let ticks = Mutex(server.now)
        let logger = Logger(label: "haven-server-tests", factory: { _ in SwiftLogNoOpLogHandler() })
        let app = try buildApplication(
            store: try await server.openStore(), configuration: server.configuration, logger: logger,
            clock: { ticks.withLock { $0 += 1; return $0 } })
        try await app.test(.router) { client in
            // When the token streams in 1 KiB lines
            let response = try await client.get("/v1/changes/stream?chunk=1024", token: secret)

            // Then the stream ended without its last page: the client resumes and is refused
            let body = String(buffer: response.body)
            let lines = body.split(separator: "\n").compactMap {
                try? JSONDecoder().decode(PullResponse.self, from: Data($0.utf8))
            }
            #expect(!lines.isEmpty)
            #expect(lines.allSatisfy { $0.more })
            let resumed = try await client.get("/v1/changes/stream?since=\(lines.last!.cursor)", token: secret)
            #expect(resumed.status == .unauthorized)
        }
    }
}
