import Foundation
import HavenCore
import Testing
import TestSupport

@testable import HavenClient
@testable import HavenCommands

/// Media through the sync engine and the real server in-process (issue 17): files go before the
/// changes naming them, resume from the server's offset, and a file that keeps failing holds its
/// change back and is reported.
@Suite(.temporaryDirectory)
struct MediaSyncTests {
    /// `size` pseudo-random bytes.
    private func file(_ size: Int, seed: UInt64 = 5) -> Data {
        var generator = SplitMix64(seed: seed)
        return Data((0..<size).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
    }

    @Test func aFileGoesBeforeTheChangeNamingItAndDownloadsElsewhere() async throws {
        // Given field staff's story with a 300 KB voice note, added offline
        let server = try await InProcessServer.make()
        let field = try makeEmptyReplica(named: "field.sqlite", token: server.token(.field))
        let editor = try makeEmptyReplica(named: "editor.sqlite", token: server.token(.editor))
        let id = try field.add(.story, values: Fixtures.story("Voice note"))
        let bytes = file(300_000)
        let reference = try field.addMedia(to: id, bytes: bytes, name: "note.m4a", type: "audio/mp4")
        #expect(try field.localMedia(reference.id)?.onServer == false)

        try await server.run { client in
            let router = RouterTransport(client)
            // When it syncs
            let summary = try await makeEngine(field, router).sync()

            // Then the file went up in pieces, before the push, and the story was applied
            #expect(summary.mediaUploaded == 1)
            #expect(summary.applied == 2)
            #expect(summary.rejected == 0)
            let paths = router.exchanges.map { "\($0.request.method) \($0.request.url.path)" }
            let lastPatch = try #require(paths.lastIndex { $0.hasPrefix("PATCH /v1/media/uploads/") })
            let push = try #require(paths.firstIndex(of: "POST /v1/changes"))
            #expect(lastPatch < push)
            #expect(try field.localMedia(reference.id)?.onServer == true)

            // And an editor pulls the story and downloads the file on demand, every byte checked
            var pulled = try await makeEngine(editor, router).sync()
            #expect(try editor.media(of: id).files == [reference])
            #expect(try editor.localMedia(reference.id) == nil)
            try await makeEngine(editor, router).download(reference, into: &pulled)
            #expect(try editor.mediaBytes(reference.id, from: 0, to: 300_000) == bytes)
        }
    }

    @Test func anUploadWhoseAnswerWasLostResumesFromTheServersOffset() async throws {
        let server = try await InProcessServer.make()
        let field = try makeEmptyReplica(token: server.token(.field))
        let id = try field.add(.story, values: Fixtures.story("Leaflet"))
        let bytes = file(600_000)
        try field.addMedia(to: id, bytes: bytes, name: "leaflet.pdf", type: "application/pdf")
        try await server.run { client in
            // Given a link that loses the answer to the second piece (the server stored it)
            let router = RouterTransport(client)
            let link = FaultyLink(over: router) { attempt in
                attempt.request.method == "PATCH" && attempt.ofItsKind == 3 ? .dropAnswer : nil
            }
            // When the replica syncs
            let summary = try await makeEngine(field, link).sync()

            // Then it asked where the upload stood and went on from there: no piece sent twice
            #expect(summary.mediaUploaded == 1)
            #expect(summary.applied == 2)
            let offsets = router.exchanges.filter { $0.request.method == "PATCH" }.compactMap {
                $0.request.headers["Upload-Offset"]
            }
            #expect(offsets == offsets.uniqued())
            #expect(offsets.count == (600_000 + SyncEngine.mediaPieceBytes - 1) / SyncEngine.mediaPieceBytes)
        }
    }

    @Test func aDeletedRecordsFileLeavesTheDeviceAtTheNextSyncAndANamedOneStays() async throws {
        // Given two stories with a photo each, synced, one of them then deleted here
        let server = try await InProcessServer.make()
        let field = try makeEmptyReplica(token: server.token(.editor))
        let kept = try field.add(.story, values: Fixtures.story("Kept"))
        let gone = try field.add(.story, values: Fixtures.story("Gone"))
        let keptFile = try field.addMedia(to: kept, bytes: file(5_000, seed: 1), name: "kept.jpg", type: "image/jpeg")
        let goneFile = try field.addMedia(to: gone, bytes: file(5_000, seed: 2), name: "gone.jpg", type: "image/jpeg")
        // And a story that says "media" in a tag, not in a media field
        _ = try field.add(.story, values: Fixtures.story("Tagged").merging(["tags": .array([.string("media")])]) { $1 })
        try await server.run { client in
            _ = try await makeEngine(field, RouterTransport(client)).sync()
            try field.delete(gone)
            #expect(try field.localMedia(goneFile.id) != nil)

            // When it syncs again
            _ = try await makeEngine(field, RouterTransport(client)).sync()
        }
        // Then the deleted story's file is gone from the device, and the other's is there
        #expect(try field.localMedia(goneFile.id) == nil)
        #expect(try field.localMedia(keptFile.id)?.isComplete == true)
        #expect(try field.mediaToDownload().isEmpty)
        #expect(try field.status().failingMedia.isEmpty)
    }

    @Test func aWatchingDeviceDropsADeletedRecordsFileToo() async throws {
        // Given a story with a photo, synced, then deleted here
        let server = try await InProcessServer.make()
        let field = try makeEmptyReplica(token: server.token(.editor))
        let gone = try field.add(.story, values: Fixtures.story("Gone"))
        let goneFile = try field.addMedia(to: gone, bytes: file(5_000, seed: 3), name: "gone.jpg", type: "image/jpeg")
        try await server.run { client in
            _ = try await makeEngine(field, RouterTransport(client)).sync()
            try field.delete(gone)

            // When it keeps syncing, until its second pull (the first long poll) is cancelled
            let link = FaultyLink(over: RouterTransport(client)) { attempt in
                if attempt.isPull && attempt.ofItsKind == 2 { throw CancellationError() }
                return nil
            }
            var summary = SyncEngine.Summary()
            try await makeEngine(field, link).watch(into: &summary)
            #expect(summary.pushed == 1)
        }
        // Then the file left the device after the first round
        #expect(try field.localMedia(goneFile.id) == nil)
    }

    @Test func aFileThatKeepsFailingHoldsBackItsChangeAndStatusSaysWhy() async throws {
        let server = try await InProcessServer.make()
        let field = try makeEmptyReplica(token: server.token(.field))
        let before = try field.add(.story, values: Fixtures.story("Sent"))
        let id = try field.add(.story, values: Fixtures.story("With a photo"))
        try field.addMedia(to: id, bytes: file(10_000), name: "map.jpg", type: "image/jpeg")
        try await server.run { client in
            // Given a server that fails every piece of the upload
            let link = FaultyLink(over: RouterTransport(client)) { attempt in
                attempt.request.method == "PATCH" ? .status(503, .unavailable, message: "the database does not answer") : nil
            }
            var configuration = SyncEngine.Configuration()
            configuration.retry = RetryPolicy(budget: nil, maxAttempts: 3)
            // When it syncs
            let summary = try await makeEngine(field, link, configuration).sync()

            // Then the changes before the photo's went, the photo's waits, and status says why
            #expect(summary.mediaFailed == 1)
            #expect(summary.applied == 2)
            #expect(try field.pendingChanges(limit: 10).map(\.record.id) == [id])
            #expect(try field.record(before).id == before)
            let status = try field.status()
            #expect(status.failingMedia.map(\.names) == [["map.jpg"]])
            #expect(status.failingMedia.first?.reason.contains("the database does not answer") == true)
            #expect(StatusCommand.lines(status).contains { $0.hasPrefix("Media file map.jpg could not be sent (1 attempt)") })
        }
    }
}

extension Array where Element: Hashable {
    fileprivate func uniqued() -> [Element] {
        var seen: Set<Element> = []
        return filter { seen.insert($0).inserted }
    }
}
