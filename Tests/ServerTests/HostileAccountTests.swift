import Foundation
import HavenCore
import HavenServer
import HummingbirdTesting
import Testing
import TestSupport

/// What a hostile account (a field or reader token) tries through `/v1/changes`, and what it
/// must never achieve (DESIGN §7): silence another's write, claim a record it did not create,
/// learn the ids or content of records it may not see, undo moderation.
struct HostileAccountTests {
    // MARK: Change ids are the author's own

    @Test(arguments: StorageBackend.all)
    func anotherAccountCannotTakeAChangeIDInAdvance(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        try await server.test { client in
            // Given a field token that pushes a change under the editor replica's next change id
            var editor = Device("e1")
            var squatter = Device("f1")
            let story = RecordID.random()
            var squat = squatter.change(RecordID.random(), .story, Fields.story("Squat"))
            squat.id = "e1-1"
            #expect(try await client.push([squat], token: server["field"]).statuses == [.applied])

            // When the editor sends its real change under that id
            let real = editor.change(story, .story, Fields.story("Real", status: "published"))
            let push = try await client.push([real], token: server["editor"])

            // Then it is applied, and reaches readers
            #expect(push.statuses == [.applied])
            #expect(try await client.pull(token: server["reader"]).byID[story] != nil)
        }
    }

    @Test(arguments: StorageBackend.all)
    func otherContentUnderALoggedChangeIDIsRejectedNotDuplicate(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        try await server.test { client in
            // Given an editor change in the log
            var device = Device("e1")
            let first = device.change(RecordID.random(), .story, Fields.story("First"))
            #expect(try await client.push([first], token: server["editor"]).statuses == [.applied])

            // When a copy of the replica sends another change under the same id, and the very
            // change is sent again
            var copy = Device("e1", wallTime: TestServer.now + 5)
            var other = copy.change(RecordID.random(), .story, Fields.story("Other"))
            other.id = first.id
            let push = try await client.push([other, first], token: server["editor"])

            // Then the other change is refused with a code that says why, the repeat is a duplicate
            #expect(push.statuses == [.rejected, .duplicate])
            #expect(push.results[0].error?.code == .changeIDConflict)
            #expect(try await client.pull(token: server["editor"]).byID[other.record.id] == nil)
        }
    }

    @Test(arguments: StorageBackend.all)
    func aChangeRepeatedWithNumbersWrittenOtherwiseIsStillADuplicate(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        try await server.test { client in
            // Given a change whose field holds a whole number, sent as 2.0 and then as 2
            var device = Device("e1")
            var fields = Fields.story("Numbers")
            fields["count"] = .double(2)
            let change = device.change(RecordID.random(), .story, fields)
            let text = String(decoding: try JSONEncoder().encode(PushRequest(changes: [change])), as: UTF8.self)
            // The only value 2 of the change is count's.
            let asDouble = text.replacing(#/"value":2(?=[,}])/#, with: #""value":2.0"#)
            try #require(asDouble.contains(#""value":2.0"#))
            let first = try await client.post("/v1/changes", token: server["editor"], body: Data(asDouble.utf8))
            let second = try await client.post("/v1/changes", token: server["editor"], body: Data(text.utf8))

            // Then the second is the same change: a duplicate
            #expect(try first.decode(PushResponse.self).statuses == [.applied], "\(first.text)")
            #expect(try second.decode(PushResponse.self).statuses == [.duplicate], "\(second.text)")
        }
    }

    // MARK: Stamps are the author's own

    @Test(arguments: StorageBackend.all)
    func anotherAccountCannotStampWithSomeonesReplicaID(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        try await server.test { client in
            // Given a field story stamped by the author's replica
            var author = Device("f1")
            let story = RecordID.random()
            _ = try await client.push([author.change(story, .story, Fields.story("Mine"))], token: server["field"])

            // When another account writes with that replica id, here an editor, so that its
            // overwrite would count as the author's own and raise no conflict
            var impostor = Device("f1", wallTime: TestServer.now + 1_000)
            let push = try await client.push([impostor.change(story, .story, ["title": "Not yours"])], token: server["editor"])

            // Then it is refused, and the story keeps its title
            #expect(push.statuses == [.rejected])
            #expect(push.results[0].error?.code == .replicaTaken)
            let pulled = try await client.pull(token: server["field"]).byID[story]
            #expect(pulled?.fields["title"]?.value == "Mine")
        }
    }

    // MARK: Ownership cannot be claimed in advance

    @Test(arguments: StorageBackend.all)
    func aFieldTokenCannotClaimAnIDThatAPackLaterFills(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        let packID = RecordID.random()
        try await server.test { client in
            // Given a field token that creates a story under a pack's id first, with an old stamp
            var squatter = Device("f1", wallTime: TestServer.now - 86_400_000)
            let squat = squatter.change(packID, .story, Fields.story("Squat"))
            #expect(try await client.push([squat], token: server["field"]).statuses == [.applied])

            // When an editor who had not seen it writes a restricted draft there
            var editor = Device("e1")
            let base = SyncCursor(epoch: server.store.epoch, seq: 0)
            let draft = editor.change(packID, .story, Fields.story("Restricted", sensitivity: "restricted"), base: base)
            let push = try await client.push([draft], token: server["editor"])

            // Then the editor is told the id is taken, and the field token reads nothing of it
            #expect(push.statuses == [.rejected])
            #expect(push.results[0].error?.code == .idTaken)
            let pulled = try await client.pull(token: server["field"]).byID[packID]
            #expect(pulled?.fields["title"]?.value == "Squat")
        }
        // And an import on the server does not write into it either, even told to overwrite
        let refused = await #expect(throws: PackRefused.self) {
            try await PackImporter(log: server.log).importPack(
                ContentPack(records: [
                    ContentPack.Record(id: packID, kind: .story, fields: Fields.story("Pack", sensitivity: "restricted"))
                ]), overwrite: true)
        }
        #expect(refused?.refusals.map(\.error.code) == [.idTaken])
    }

    @Test(arguments: StorageBackend.all)
    func anEditorWhoHasSeenAFieldStoryEditsIt(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        try await server.test { client in
            // Given a field story that an editor has pulled
            var field = Device("f1")
            let story = RecordID.random()
            _ = try await client.push([field.change(story, .story, Fields.story("Field story"))], token: server["field"])
            let cursor = try await client.pull(token: server["editor"]).cursor

            // When the editor edits it
            var editor = Device("e1", wallTime: TestServer.now + 1_000)
            let push = try await client.push(
                [editor.change(story, .story, ["title": "Edited"], base: cursor)], token: server["editor"])

            // Then that is an ordinary edit, which its author sees
            #expect(push.statuses == [.applied])
            #expect(try await client.pull(token: server["field"]).byID[story]?.fields["title"]?.value == "Edited")
        }
    }

    // MARK: Nothing is learnt of hidden records

    @Test(arguments: StorageBackend.all)
    func aForgedCursorNamesNoHiddenRecord(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        try await server.test { client in
            // Given hidden records (a draft, a restricted story) and a published one
            var editor = Device("e1")
            let draft = RecordID.random()
            let restricted = RecordID.random()
            let published = RecordID.random()
            _ = try await client.push(
                [
                    editor.change(draft, .story, Fields.story("Draft")),
                    editor.change(restricted, .story, Fields.story("R", status: "published", sensitivity: "restricted")),
                    editor.change(published, .story, Fields.story("Published", status: "published")),
                ], token: server["editor"])

            // When a reader pulls from a cursor it forged, page by page
            var cursor = SyncCursor(epoch: server.store.epoch, seq: 1)
            var removed: [String] = []
            var remaining: [Int] = []
            while true {
                let page = try await client.pull(token: server["reader"], since: cursor, limit: 1)
                removed += page.removed
                remaining += page.remaining.map { [$0] } ?? []
                cursor = page.cursor
                if !page.more { break }
            }

            // Then no hidden id is named, and what remains counts only what it may read
            #expect(removed.isEmpty)
            #expect(remaining.allSatisfy { $0 <= 1 })
        }
    }

    @Test(arguments: StorageBackend.all)
    func aHiddenIDAnswersAsAFreshOne(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        try await server.test { client in
            // Given an editor's draft story
            var editor = Device("e1")
            let hidden = RecordID.random()
            _ = try await client.push([editor.change(hidden, .story, Fields.story("Hidden"))], token: server["editor"])

            // When a field token sends the same partial story, and a resource, to it and to a fresh id
            var field = Device("f1")
            let fresh = RecordID.random()
            var answers: [String: [ErrorDetail?]] = [:]
            for id in [hidden, fresh] {
                let push = try await client.push(
                    [field.change(id, .story, ["title": "Probe"]), field.change(id, .resource, Fields.resource("Probe"))],
                    token: server["field"])
                answers[id] = push.results.map { $0.error.map { ErrorDetail(code: $0.code, message: "") } }
            }

            // Then the answers are alike; only a whole new story tells them apart, as id_taken
            #expect(answers[hidden] == answers[fresh])
            let whole = try await client.push([field.change(hidden, .story, Fields.story("Probe"))], token: server["field"])
            #expect(whole.results[0].error?.code == .idTaken)
            #expect(whole.results[0].error?.message.contains("Hidden") == false)
        }
    }

    // MARK: Deleted content travels no further

    @Test(arguments: StorageBackend.all)
    func aDeletedStoryTravelsAsItsDeleteFlagOnly(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        try await server.test { client in
            // Given a published story a reader holds, and an editor's cursor
            var editor = Device("e1")
            let story = RecordID.random()
            _ = try await client.push(
                [editor.change(story, .story, Fields.story("Endangers someone", status: "published"))],
                token: server["editor"])
            let readerCursor = try await client.pull(token: server["reader"]).cursor

            // When an editor deletes it, and someone edits the tombstone afterwards
            var later = Device("e2", wallTime: TestServer.now + 1_000)
            _ = try await client.push([later.change(story, .story, deleted: true)], token: server["editor"])
            var author = Device("e3", wallTime: TestServer.now + 2_000)
            _ = try await client.push([author.change(story, .story, ["body": "More detail"])], token: server["editor"])

            // Then the reader gets the delete flag and nothing else
            let pull = try await client.pull(token: server["reader"], since: readerCursor)
            let tombstone = try #require(pull.byID[story])
            #expect(tombstone.isDeleted)
            #expect(tombstone.fields.isEmpty)
            // And a new reader gets nothing of it at all
            let fresh = try await client.pull(token: server["reader"])
            #expect(fresh.byID[story] == nil)
            #expect(!fresh.text.contains(story))
        }
    }

    @Test(arguments: StorageBackend.all)
    func aRestoredStoryTravelsWhole(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        try await server.test { client in
            // Given a deleted published story that a reader's replica holds as a tombstone
            var editor = Device("e1")
            let story = RecordID.random()
            _ = try await client.push(
                [editor.change(story, .story, Fields.story("Back again", status: "published"))], token: server["editor"])
            var later = Device("e2", wallTime: TestServer.now + 1_000)
            _ = try await client.push([later.change(story, .story, deleted: true)], token: server["editor"])
            let readerCursor = try await client.pull(token: server["reader"], since: SyncCursor(epoch: server.store.epoch, seq: 1)).cursor

            // When an editor restores it
            var restorer = Device("e3", wallTime: TestServer.now + 2_000)
            _ = try await client.push([restorer.change(story, .story, deleted: false)], token: server["editor"])

            // Then the reader gets the whole story back
            let pull = try await client.pull(token: server["reader"], since: readerCursor)
            #expect(pull.byID[story]?.fields["title"]?.value == "Back again")
            #expect(pull.byID[story]?.isDeleted == false)
        }
    }

    // MARK: Moderation sticks

    @Test(arguments: StorageBackend.all)
    func aFieldTokenCannotRestoreWhatAnEditorDeleted(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        try await server.test { client in
            // Given a field draft that an editor deleted
            var field = Device("f1")
            let story = RecordID.random()
            _ = try await client.push([field.change(story, .story, Fields.story("Draft"))], token: server["field"])
            let cursor = try await client.pull(token: server["editor"]).cursor
            var editor = Device("e1", wallTime: TestServer.now + 1_000)
            let delete = try await client.push([editor.change(story, .story, deleted: true, base: cursor)], token: server["editor"])
            try #require(delete.statuses == [.applied])

            // When its author restores it with a later stamp
            var author = Device("f1", wallTime: TestServer.now + 2_000)
            author.counter = 10
            let push = try await client.push([author.change(story, .story, deleted: false)], token: server["field"])

            // Then that is refused, while deleting and restoring its own delete is allowed
            #expect(push.statuses == [.rejected])
            #expect(push.results[0].error?.code == .forbidden)
            let own = RecordID.random()
            let ownPushes = try await client.push(
                [
                    author.change(own, .story, Fields.story("Own")), author.change(own, .story, deleted: true),
                    author.change(own, .story, deleted: false),
                ], token: server["field"])
            #expect(ownPushes.statuses == [.applied, .applied, .applied])
        }
    }
}

extension PullResponse {
    /// The answer as JSON, to look for ids anywhere in it.
    fileprivate var text: String { String(decoding: (try? JSONEncoder().encode(self)) ?? Data(), as: UTF8.self) }
}
