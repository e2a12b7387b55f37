import Foundation
import HavenCore
import HavenServer
import HummingbirdTesting
import Testing
import TestSupport

struct ConflictTests {
    /// A published story created by `editor`, and the cursor both editors hold after pulling it.
    private func makeSharedStory(_ client: any TestClientProtocol, _ server: TestServer) async throws
        -> (id: String, cursor: SyncCursor)
    {
        var origin = Device("c0", wallTime: TestServer.now - 60_000)
        let id = RecordID.random()
        let push = try await client.push(
            [origin.change(id, .story, Fields.story("Shared", status: "published"))], token: server["editor"])
        try #require(push.statuses == [.applied])
        let cursor = try await client.pull(token: server["editor2"]).cursor
        return (id, cursor)
    }

    @Test(arguments: StorageBackend.all, [true, false])
    func losingWriteIsReportedToItsAuthor(_ backend: StorageBackend, loserPushesFirst: Bool) async throws {
        let server = try await TestServer.make(backend: backend)
        try await server.test { client in
            // Given two editors on two devices who both saw the same version
            let (id, base) = try await makeSharedStory(client, server)
            var loserDevice = Device("aaaa", wallTime: TestServer.now)
            var winnerDevice = Device("bbbb", wallTime: TestServer.now + 1_000)
            let losing = loserDevice.change(id, .story, ["title": "Title by editor"], base: base)
            let winning = winnerDevice.change(id, .story, ["title": "Title by editor2"], base: base)

            // When both change the title, in either arrival order
            if loserPushesFirst {
                #expect(try await client.push([losing], token: server["editor"]).statuses == [.applied])
                #expect(try await client.push([winning], token: server["editor2"]).statuses == [.applied])
            } else {
                #expect(try await client.push([winning], token: server["editor2"]).statuses == [.applied])
                #expect(try await client.push([losing], token: server["editor"]).statuses == [.applied])
            }

            // Then the larger stamp wins
            let loserPull = try await client.pull(token: server["editor"], since: base)
            #expect(loserPull.byID[id]?.fields["title"] == winning.record.fields["title"])

            // And the loser's author gets one conflict naming the winner's token
            let conflict = try #require(loserPull.conflicts.first)
            #expect(loserPull.conflicts.count == 1)
            #expect(conflict.recordID == id)
            #expect(conflict.kind == .story)
            #expect(conflict.field == "title")
            #expect(conflict.value == "Title by editor")
            #expect(conflict.stamp == losing.record.fields["title"]?.stamp)
            #expect(conflict.winner == winning.record.fields["title"]?.stamp)
            #expect(conflict.winnerAuthor == "editor2")
            #expect(conflict.reason == .overwritten)

            // And the winner hears of no conflict
            #expect(try await client.pull(token: server["editor2"], since: base).conflicts.isEmpty)
            // And the entry is delivered once: not again after the loser's cursor moved on
            #expect(try await client.pull(token: server["editor"], since: loserPull.cursor).conflicts.isEmpty)
        }
    }

    @Test(arguments: StorageBackend.all) func editAfterSeeingTheValueIsNoConflict(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        try await server.test { client in
            // Given editor's title change, which editor2 then pulls
            let (id, base) = try await makeSharedStory(client, server)
            var first = Device("aaaa", wallTime: TestServer.now)
            var second = Device("bbbb", wallTime: TestServer.now + 1_000)
            _ = try await client.push(
                [first.change(id, .story, ["title": "First"], base: base)], token: server["editor"])
            let seen = try await client.pull(token: server["editor2"], since: base).cursor

            // When editor2 overwrites it, having seen it
            _ = try await client.push(
                [second.change(id, .story, ["title": "Second"], base: seen)], token: server["editor2"])

            // Then nobody gets a conflict
            #expect(try await client.pull(token: server["editor"], since: base).conflicts.isEmpty)
            #expect(try await client.pull(token: server["editor2"], since: base).conflicts.isEmpty)
        }
    }

    @Test(arguments: StorageBackend.all, [true, false])
    func editConcurrentWithDeleteIsReportedToTheEditor(_ backend: StorageBackend, editArrivesFirst: Bool) async throws {
        let server = try await TestServer.make(backend: backend)
        try await server.test { client in
            // Given a story both editors hold
            let (id, base) = try await makeSharedStory(client, server)
            var editing = Device("aaaa", wallTime: TestServer.now)
            var deleting = Device("bbbb", wallTime: TestServer.now + 1_000)
            let edit = editing.change(id, .story, ["body": "An edit made offline."], base: base)
            let delete = deleting.change(id, .story, deleted: true, base: base)

            // When one edits the body while the other deletes the story, in either order
            let pushes =
                editArrivesFirst
                ? [
                    try await client.push([edit], token: server["editor"]),
                    try await client.push([delete], token: server["editor2"]),
                ]
                : [
                    try await client.push([delete], token: server["editor2"]),
                    try await client.push([edit], token: server["editor"]),
                ]

            // Then both are applied, the record stays deleted
            #expect(pushes.flatMap(\.statuses) == [.applied, .applied])
            let pull = try await client.pull(token: server["editor"], since: base)
            #expect(pull.byID[id]?.isDeleted == true)

            // And the editor gets a `deleted` conflict for the edit, naming the deleter
            let conflict = try #require(pull.conflicts.first)
            #expect(pull.conflicts.count == 1)
            #expect(conflict.recordID == id)
            #expect(conflict.field == "body")
            #expect(conflict.value == "An edit made offline.")
            #expect(conflict.reason == .deleted)
            #expect(conflict.winner == delete.record.deleted?.stamp)
            #expect(conflict.winnerAuthor == "editor2")
            // And the deleter gets none
            #expect(try await client.pull(token: server["editor2"], since: base).conflicts.isEmpty)
        }
    }

    @Test(arguments: StorageBackend.all) func editOverwrittenByAnImportIsReported(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        let (id, base) = try await server.test { client in try await makeSharedStory(client, server) }
        try await server.test { client in
            // Given an editor's title edit
            var device = Device("aaaa")
            _ = try await client.push(
                [device.change(id, .story, ["title": "Edited"], base: base)], token: server["editor"])
        }

        // When `haven-server import --overwrite` writes the same record afterwards (stamped by the system clock)
        let pack = ContentPack(records: [
            .init(id: id, kind: .story, fields: Fields.story("Imported", status: "published"))
        ])
        let outcomes = try await PackImporter(log: server.log).importPack(pack, overwrite: true)
        #expect(outcomes.written == 1)

        // Then the editor is told its title lost to the import
        try await server.test { client in
            let pull = try await client.pull(token: server["editor"], since: base)
            #expect(pull.byID[id]?.fields["title"]?.value == "Imported")
            let conflict = try #require(pull.conflicts.first { $0.field == "title" })
            #expect(conflict.value == "Edited")
            #expect(conflict.winnerAuthor == "content import")
        }
    }

    @Test(arguments: StorageBackend.all) func conflictsArriveWithTheirPageOnly(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        try await server.test { client in
            // Given a lost write on the story, then another record changed later
            let (id, base) = try await makeSharedStory(client, server)
            var loser = Device("aaaa", wallTime: TestServer.now)
            var winner = Device("bbbb", wallTime: TestServer.now + 1_000)
            _ = try await client.push(
                [loser.change(id, .story, ["title": "Lost"], base: base)], token: server["editor"])
            _ = try await client.push(
                [winner.change(id, .story, ["title": "Won"], base: base)], token: server["editor2"])
            _ = try await client.push(
                [winner.change(RecordID.random(), .story, Fields.story("Later"))], token: server["editor2"])

            // When the loser pulls page by page
            var cursor = base
            var conflicts: [Conflict] = []
            var more = true
            while more {
                let page = try await client.pull(token: server["editor"], since: cursor, limit: 1)
                conflicts += page.conflicts
                #expect((page.cursor.position ?? page.cursor.seq) > (cursor.position ?? cursor.seq))
                cursor = page.cursor
                more = page.more
            }

            // Then the conflict arrives exactly once
            #expect(conflicts.map(\.field) == ["title"])
        }
    }
}
