import Foundation
import HavenCore
import HavenServer
import HummingbirdTesting
import Testing
import TestSupport

struct PushPullTests {
    @Test(arguments: StorageBackend.all) func pushedStoryComesBackOnPull(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        try await server.test { client in
            // Given an editor's new story
            var device = Device("a1")
            let id = RecordID.random()
            let change = device.change(id, .story, Fields.story("Crossing the Tumen", status: "published"))

            // When the editor pushes it
            let push = try await client.push([change], token: server["editor"])

            // Then it is applied, and a pull returns the record with every register as written
            #expect(push.results == [PushResult(id: change.id, status: .applied)])
            let pull = try await client.pull(token: server["editor"])
            #expect(pull.changes == [change.record])
            #expect(pull.removed.isEmpty)
            #expect(pull.conflicts.isEmpty)
            #expect(pull.more == false)
            #expect(pull.cursor.epoch == server.store.epoch)
            #expect(pull.cursor.seq == 1)
        }
    }

    @Test(arguments: StorageBackend.all) func repeatedBatchIsDuplicateAndChangesNothing(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        try await server.test { client in
            // Given a batch of two new stories, pushed once
            var device = Device("a1")
            let first = device.change(RecordID.random(), .story, Fields.story("One"))
            let second = device.change(RecordID.random(), .story, Fields.story("Two"))
            let batch = [first, second]
            let firstPush = try await client.push(batch, token: server["editor"])
            let before = try await client.pull(token: server["editor"])

            // When the same batch is pushed again (a retry after a lost answer)
            let secondPush = try await client.push(batch, token: server["editor"])

            // Then every change is a duplicate, and the log and the state are as they were
            #expect(firstPush.statuses == [.applied, .applied])
            #expect(
                secondPush.results == [
                    PushResult(id: first.id, status: .duplicate), PushResult(id: second.id, status: .duplicate),
                ])
            let after = try await client.pull(token: server["editor"])
            #expect(after.changes.count == 2)
            #expect(after == before)
            #expect(after.cursor.seq == 2)
            #expect(try await client.pull(token: server["editor"], since: before.cursor).changes.isEmpty)
        }
    }

    @Test(arguments: StorageBackend.all) func duplicateInsideOneBatchIsAppliedOnce(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        try await server.test { client in
            var device = Device("a1")
            let change = device.change(RecordID.random(), .story, Fields.story("Once"))

            let push = try await client.push([change, change], token: server["editor"])

            #expect(push.statuses == [.applied, .duplicate])
            #expect(try await client.pull(token: server["editor"]).cursor.seq == 1)
        }
    }

    @Test(arguments: StorageBackend.all) func pullFromTheReturnedCursorIsEmpty(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        try await server.test { client in
            // Given a story pulled once
            var device = Device("a1")
            _ = try await client.push(
                [device.change(RecordID.random(), .story, Fields.story("One"))], token: server["editor"])
            let first = try await client.pull(token: server["editor"])

            // When pulling again from the cursor it returned
            let second = try await client.pull(token: server["editor"], since: first.cursor)

            // Then nothing is new and the cursor stays put
            #expect(first.changes.count == 1)
            #expect(second.changes.isEmpty)
            #expect(second.removed.isEmpty)
            #expect(second.conflicts.isEmpty)
            #expect(second.cursor == first.cursor)
            #expect(second.more == false)
        }
    }

    @Test(arguments: StorageBackend.all) func secondEditSendsOnlyTheChangedRegister(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        try await server.test { client in
            // Given a published story that a reader and an editor have pulled
            var device = Device("a1")
            let id = RecordID.random()
            _ = try await client.push(
                [device.change(id, .story, Fields.story("Old title", status: "published"))], token: server["editor"])
            let editorCursor = try await client.pull(token: server["editor"]).cursor
            let readerCursor = try await client.pull(token: server["reader"]).cursor

            // When the editor changes its title
            let edit = device.change(id, .story, ["title": "New title"], base: editorCursor)
            let push = try await client.push([edit], token: server["editor"])

            // Then a pull since the old cursor carries only the title register, for either role
            #expect(push.statuses == [.applied])
            for name in ["editor", "reader"] {
                let pull = try await client.pull(
                    token: server[name], since: name == "editor" ? editorCursor : readerCursor)
                #expect(pull.changes == [edit.record], "\(name)")
                #expect(pull.changes.first?.fields.keys.sorted() == ["title"], "\(name)")
                #expect(pull.changes.first?.deleted == nil, "\(name)")
            }
        }
    }

    @Test(arguments: StorageBackend.all) func olderWriteDoesNotReplaceANewerOne(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        try await server.test { client in
            // Given a story whose title was written at a later stamp
            let id = RecordID.random()
            var early = Device("a1", wallTime: TestServer.now - 5_000)
            var late = Device("b1", wallTime: TestServer.now)
            let stale = early.change(id, .story, ["title": "Stale"])
            _ = try await client.push([late.change(id, .story, Fields.story("Fresh"))], token: server["editor"])

            // When a write with a smaller stamp arrives afterwards
            let push = try await client.push([stale], token: server["editor"])

            // Then it is logged but the state keeps the larger stamp
            #expect(push.statuses == [.applied])
            let pull = try await client.pull(token: server["editor"])
            #expect(pull.changes.first?.fields["title"]?.value == "Fresh")
        }
    }

    @Test(arguments: StorageBackend.all) func unknownFieldsAreKeptAndSynced(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        try await server.test { client in
            // Given a story with a field this version does not know
            var device = Device("a1")
            var fields = Fields.story("From a newer app")
            fields["readingTimeMinutes"] = .int(7)
            fields["moods"] = .array(["hope", "fear"])
            let change = device.change(RecordID.random(), .story, fields)

            // When pushed and pulled
            let push = try await client.push([change], token: server["editor"])
            let pull = try await client.pull(token: server["editor"])

            // Then the unknown fields come back untouched
            #expect(push.statuses == [.applied])
            #expect(pull.changes.first?.fields["readingTimeMinutes"] == change.record.fields["readingTimeMinutes"])
            #expect(pull.changes.first?.fields["moods"] == change.record.fields["moods"])
        }
    }

    @Test(arguments: StorageBackend.all) func deleteAndRestoreTravelAsTheDeletedRegister(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        try await server.test { client in
            // Given a story everyone has pulled
            var device = Device("a1")
            let id = RecordID.random()
            _ = try await client.push([device.change(id, .story, Fields.story("To delete"))], token: server["editor"])
            let cursor = try await client.pull(token: server["editor"]).cursor

            // When an editor deletes it
            let delete = device.change(id, .story, deleted: true, base: cursor)
            let push = try await client.push([delete], token: server["editor"])
            let afterDelete = try await client.pull(token: server["editor"], since: cursor)

            // Then the pull carries only the deleted flag
            #expect(push.statuses == [.applied])
            #expect(afterDelete.changes == [RecordState(id: id, kind: .story, deleted: delete.record.deleted)])

            // And a restore brings back deleted = false
            let restore = device.change(id, .story, deleted: false, base: afterDelete.cursor)
            #expect(try await client.push([restore], token: server["editor"]).statuses == [.applied])
            let afterRestore = try await client.pull(token: server["editor"], since: afterDelete.cursor)
            #expect(afterRestore.changes.first?.deleted?.value == .bool(false))
            #expect(afterRestore.changes.first?.isDeleted == false)
        }
    }
}
