import CompressNIO
import Foundation
import HavenCore
import NIOCore
import Testing
import TestSupport

/// The real `haven` against a hostile or broken server (DESIGN §7): it must never send its token
/// elsewhere, loop, exhaust memory, store a record the schema forbids, or drop unsent edits.
@Suite(.serialized) struct HostileServerTests {
    // MARK: Redirects (issue 19, item 3)

    @Test(arguments: [(301, "pull"), (302, "push"), (307, "pull"), (307, "push"), (308, "push")])
    func redirectIsNeverFollowedAndTheTokenStaysHome(status: Int, step: String) async throws {
        // Given a server that redirects every request to another origin, which records what reaches it
        try await HostileServer.run({ _ in .json(HostilePages.page()) }) { elsewhere in
            try await HostileServer.run({ _ in
                HostileServer.Answer(status: status, headers: ["Location": elsewhere.url + "/v1/changes"])
            }) { server in
                let device = try HostilePages.device(for: server)
                if step == "push" { try await device.offPool("stories", "add", "--title", "T", "--body", "B", "--language", "en") }

                // When the device pushes or pulls
                let result = try await device.offPoolResult([step, "--retry-for", "0"])

                // Then it stops with an error naming where it was sent, and nothing reached that origin
                #expect(result.status != 0)
                #expect(result.stderr.contains("redirect (\(status)) to \(elsewhere.url)"), "\(result.stderr)")
                #expect(result.stderr.contains("does not follow redirects"), "\(result.stderr)")
                #expect(elsewhere.requests.isEmpty, "the token went to \(elsewhere.requests.map(\.target))")
                #expect(server.requests.count == 1)
            }
        }
    }

    // MARK: Bounded answers (item 9)

    @Test(arguments: [true, false])
    func hugePageIsRefusedWhileItIsRead(declaresLength: Bool) async throws {
        // Given a server whose page holds a 16 MiB title, declared up front or streamed without a
        // length, that sends all but the page's last bytes and then holds the connection open: a
        // client that reads everything before it decides never gets to decide
        let (head, tail) = HostilePages.pageAroundTitle()
        let chunk = Data(repeating: UInt8(ascii: "a"), count: 64 << 10)
        let answer = HostileServer.Answer(
            headers: ["Content-Type": "application/json"], body: head, repeated: (chunk, 256, tail),
            declaresLength: declaresLength, holdsOpen: true)
        try await HostileServer.run({ _ in answer }) { server in
            let device = try HostilePages.device(for: server)

            // When the device pulls
            let result = try await device.offPoolResult(["pull", "--retry-for", "0", "--timeout", "60"])

            // Then it stops reading at its bound, says so, and stores nothing
            #expect(result.status != 0)
            #expect(result.stderr.contains("larger than 10 MiB"), "\(result.stderr)")
            #expect(try await device.storyCount() == 0)
        }
    }

    @Test(arguments: ["gzip", "zstd"])
    func compressionBombIsRefusedWhileItInflates(encoding: String) async throws {
        // Given a server whose page is 64 MiB of JSON compressed to a few hundred KB
        let (head, tail) = HostilePages.pageAroundTitle()
        let page = head + Data(repeating: UInt8(ascii: "a"), count: 64 << 20) + tail
        var plain = ByteBuffer(bytes: page)
        let bomb = encoding == "gzip" ? Data(try plain.compress(with: .gzip()).readableBytesView) : TestZstd.compress(page)
        try await HostileServer.run({ _ in
            HostileServer.Answer(headers: ["Content-Type": "application/json", "Content-Encoding": encoding], body: bomb)
        }) { server in
            let device = try HostilePages.device(for: server)

            // When the device pulls
            let result = try await device.offPoolResult(["pull", "--retry-for", "0"])

            // Then it stops inflating at its bound, says so, and stores nothing (the download
            // is streamed: the bound holds for each page as it inflates)
            #expect(result.status != 0)
            #expect(result.stderr.contains("larger than 10 MiB"), "\(result.stderr)")
            #expect(try await device.storyCount() == 0)
        }
    }

    @Test(arguments: [[5, 5], [5, 6, 5]])
    func cursorThatComesBackIsAProtocolError(cursors: [Int64]) async throws {
        // Given a server that answers `more: true` with cursors that come back to one already
        // given (and, so that a client that loops ends at all, `more: false` after 30 pages)
        try await HostileServer.run({ request in
            .json(
                HostilePages.page(
                    cursor: cursors[min(cursors.count - 1, request.index)], more: request.index < 30))
        }) { server in
            let device = try HostilePages.device(for: server)

            // When the device pulls
            let result = try await device.offPoolResult(["pull", "--retry-for", "0"])

            // Then it stops at the first repeated cursor and says the server is at fault
            #expect(result.status != 0)
            #expect(result.stderr.contains("a position this pull had already reached"), "\(result.stderr)")
            #expect(server.requests.count == cursors.count)
        }
    }

    @Test(arguments: HostilePages.forbiddenRecords)
    func recordTheSchemaForbidsIsNeverStored(record: HostilePages.Forbidden) async throws {
        // Given a server that sends a valid story and one the schema forbids in one page
        let good = HostilePages.story(id: "11111111-1111-4111-8111-111111111111", title: "Fine")
        try await HostileServer.run({ _ in .json(HostilePages.page([good, record.state])) }) { server in
            let device = try HostilePages.device(for: server)

            // When the device pulls
            let result = try await device.offPoolResult(["pull", "--retry-for", "0"])

            // Then it names the record and what is wrong with it, and stores nothing of that page
            #expect(result.status != 0)
            #expect(result.stderr.contains(record.state.id), "\(result.stderr)")
            #expect(result.stderr.contains(record.problem), "\(result.stderr)")
            #expect(try await device.storyCount() == 0)
        }
    }

    // MARK: Streams (issue 20)

    @Test func aStreamThatStopsSendingIsGivenUpAfterTheTimeoutKeepingWhatArrived() async throws {
        // Given a server that streams one whole page with more to come, then holds the answer
        // open without another byte
        let first = HostilePages.story(id: "44444444-4444-4444-8444-444444444444", title: "Arrived whole")
        let line = Data((HostilePages.page([first], cursor: 1, more: true) + "\n").utf8)
        let answer = HostileServer.Answer(
            headers: ["Content-Type": "application/x-ndjson"], body: line, repeated: (Data(), 0, Data()),
            declaresLength: false, holdsOpen: true)
        try await HostileServer.run({ _ in answer }) { server in
            let device = try HostilePages.device(for: server)

            // When the device pulls, waiting at most 2 s for the next byte
            let result = try await device.offPoolResult(["pull", "--retry-for", "0", "--timeout", "2"])

            // Then it stops with a timeout, not a hang, and keeps the page that arrived whole
            #expect(result.status != 0)
            #expect(result.stderr.contains("timed out"), "\(result.stderr)")
            #expect(try await device.storyCount() == 1)
        }
    }

    // MARK: Undecodable bodies (item 17)

    @Test func plainBodyLabelledGzipIsNamed() async throws {
        // Given a server that labels a plain JSON page as gzip
        try await HostileServer.run({ _ in .json(HostilePages.page(), headers: ["Content-Encoding": "gzip"]) }) { server in
            let device = try HostilePages.device(for: server)

            // When the device pulls
            let result = try await device.offPoolResult(["pull", "--retry-for", "0"])

            // Then the error names the label and the body that does not match it
            #expect(result.status != 0)
            #expect(result.stderr.contains("labelled 'Content-Encoding: gzip' but is not gzip"), "\(result.stderr)")
        }
    }

    // MARK: Removed listings (item 18)

    @Test func removedListingKeepsARecordWithUnsentEdits() async throws {
        // Given a replica with a story not yet pushed, and a server that lists it as removed
        let id = SharedText()
        try await HostileServer.run({ _ in .json(HostilePages.page(removed: [id.value])) }) { server in
            let device = try HostilePages.device(for: server)
            let added = try await device.offPool("stories", "add", "--title", "Mine", "--body", "Typed offline", "--language", "en")
            id.value = added

            // When the device pulls (and does not push)
            let output = try await device.offPool("pull", "--retry-for", "0")

            // Then the story is still listed, with its unsent change, and the person is told
            #expect(output.contains("1 record(s) are no longer visible to this token but were kept"), "\(output)")
            #expect(try await device.offPool("stories", "list").contains(added))
            #expect(try await device.offPool("status").contains("1 change is waiting to be sent"))
        }
    }
}
