import Foundation
import HavenCore
import HavenServer
import Synchronization
import Testing
import TestSupport

@testable import HavenClient

/// The streamed pull (``SyncEngine`` rule 6) against the real server in-process: a stream cut
/// anywhere resumes from the last page applied, never applies part of a page, and ends where a
/// paged pull ends.
@Suite(.temporaryDirectory)
struct StreamedPullTests {
    /// 80 published stories whose bodies gzip cannot shrink: with 1 KiB lines, a stream of about
    /// 40 pages.
    private static let stories: [RecordState] = (1...80).map { number in
        var generator = SplitMix64(seed: UInt64(number))
        let letters = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        let body = String((0..<300).map { _ in generator.pick(letters) })
        return Fixtures.storyDelta(
            String(format: "00000000-0000-4000-8000-%012d", number),
            Fixtures.story("Page \(number)", body: body).merging(["status": "published"]) { $1 },
            at: Fixtures.stamp(Fixtures.epoch - 60_000))
    }

    private static var smallLines: SyncEngine.Configuration {
        var configuration = SyncEngine.Configuration()
        configuration.streamChunkBytes = 1024
        return configuration
    }

    @Test func aStreamCutAtFiftyRandomOffsetsResumesFromTheLastPageEachTime() async throws {
        // Given the stories on the server, and a link that cuts each of the first 50 streams at a
        // seeded random offset of its body
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.editor))
        try await server.run { client in
            try await server.seed(Self.stories, through: client)
            let link = CuttingLink(over: RouterTransport(client), cuts: 50, seed: 20)

            // When it syncs, streaming 1 KiB pages
            let summary = try await makeEngine(replica, link, Self.smallLines, streams: true).sync()

            // Then every stream after a cut started from the cursor of the last page the cut one
            // delivered whole: nothing delivered whole was fetched again
            let streams = link.streams
            #expect(streams.count > 50)
            for (cut, next) in zip(streams, streams.dropFirst()) {
                #expect(next.since == (cut.wholeLines.last?.cursor.description ?? cut.since))
            }
            // and it converged: every story, each once, at the head of the log
            #expect(try replica.records().map(\.id).sorted() == Self.stories.map(\.id).sorted())
            #expect(streams.last?.wholeLines.last?.more == false)
            #expect(try replica.settings().cursor == streams.last?.wholeLines.last?.cursor)
            #expect(summary.pulledRecords == Self.stories.count)
            #expect(summary.retries == 50)
        }
    }

    @Test func aStreamCutInsideAPageLeavesThePagesBeforeItAndNothingOfIt() async throws {
        // Given the stories on the server, and a link that cuts the stream in the middle of a page
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.editor))
        try await server.run { client in
            try await server.seed(Self.stories, through: client)
            let link = CuttingLink(over: RouterTransport(client), cuts: 1, seed: 7, within: 0.3...0.7)
            var configuration = Self.smallLines
            configuration.retry = RetryPolicy(maxAttempts: 1)

            // When it syncs, giving up at the first failure
            await #expect(throws: RetryBudgetExhausted.self) {
                try await makeEngine(replica, link, configuration, streams: true).sync()
            }

            // Then it holds exactly the records of the pages that arrived whole, and their cursor
            let whole = try #require(link.streams.first?.wholeLines)
            #expect(!whole.isEmpty)
            #expect(try replica.records().map(\.id).sorted() == whole.flatMap { $0.changes.map(\.id) }.sorted())
            #expect(try replica.settings().cursor == whole.last?.cursor)
        }
    }

    @Test func aStreamedPullEndsWhereAPagedOneEnds() async throws {
        // Given the stories on the server, two of them deleted after being published
        let server = try await InProcessServer.make()
        let streamed = try makeEmptyReplica(named: "streamed.sqlite", token: server.token(.editor))
        let paged = try makeEmptyReplica(named: "paged.sqlite", token: server.token(.editor))
        try await server.run { client in
            try await server.seed(Self.stories, through: client)

            // When one replica streams and the other pulls page by page
            let router = RouterTransport(client)
            _ = try await makeEngine(streamed, router, Self.smallLines, streams: true).sync()
            _ = try await makeEngine(paged, router, .init(pageLimit: 7), streams: false).sync()

            // Then they hold the same records and reached the same cursor
            #expect(try streamed.records() == paged.records())
            #expect(try streamed.settings().cursor == paged.settings().cursor)
        }
    }
}

/// A link that hands streamed answers over piece by piece and cuts each of the first `cuts`
/// streams at a seeded random offset of its body; every other request goes through whole.
private final class CuttingLink: HTTPTransport {
    /// One streamed request, and the pages it delivered whole before its cut (or its end).
    struct Stream: Sendable {
        var since: String?
        var wholeLines: [PullResponse]
    }

    private let server: any HTTPTransport
    private let cuts: Int
    private let within: ClosedRange<Double>
    private let state: Mutex<(random: SplitMix64, streams: [Stream])>

    /// - Parameter within: where in the body the cut falls, as fractions of its length.
    init(over server: any HTTPTransport, cuts: Int, seed: UInt64, within: ClosedRange<Double> = 0...1) {
        self.server = server
        self.cuts = cuts
        self.within = within
        self.state = Mutex((SplitMix64(seed: seed), []))
    }

    var streams: [Stream] { state.withLock { $0.streams } }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await server.send(request)
    }

    func stream(_ request: HTTPRequest, receive: (HTTPBodyPiece) async throws -> Void) async throws -> HTTPResponse {
        var response = try await server.send(request)
        guard response.status == 200 else { return response }
        let body = response.body
        let since = URLComponents(url: request.url, resolvingAgainstBaseURL: false)?.queryItems?
            .first { $0.name == "since" }?.value
        let (number, cutAt, pieceSizes): (Int, Int?, [Int]) = state.withLock { state in
            state.streams.append(Stream(since: since, wholeLines: []))
            let number = state.streams.count
            let fraction = within.lowerBound + Double(state.random.next() % 1_000_001) / 1_000_000 * (within.upperBound - within.lowerBound)
            let sizes = (0..<body.count).map { _ in 1 + Int(state.random.next() % 700) }
            return (number, number <= cuts ? Int(Double(body.count) * fraction) : nil, sizes)
        }
        var offset = 0
        var sizes = pieceSizes.makeIterator()
        while offset < body.count {
            let end = min(body.count, offset + (sizes.next() ?? 512), cutAt ?? .max)
            if end > offset {
                let piece = body.subdata(in: offset..<end)
                record(piece, number: number)
                try await receive(HTTPBodyPiece(bytes: piece, wireBytes: piece.count))
            }
            offset = end
            if let cutAt, offset >= cutAt { throw FaultyLink.LinkDropped() }
        }
        response.body = Data()
        return response
    }

    /// Keeps the lines `piece` completes in stream `number`, as the client will see them.
    private func record(_ piece: Data, number: Int) {
        state.withLock { state in
            var stream = state.streams[number - 1]
            pending[number, default: Data()].append(piece)
            while let newline = pending[number]!.firstIndex(of: 0x0A) {
                let line = pending[number]![..<newline]
                if let page = try? JSONDecoder().decode(PullResponse.self, from: Data(line)) { stream.wholeLines.append(page) }
                pending[number] = Data(pending[number]![pending[number]!.index(after: newline)...])
            }
            state.streams[number - 1] = stream
        }
    }

    private nonisolated(unsafe) var pending: [Int: Data] = [:]
}
