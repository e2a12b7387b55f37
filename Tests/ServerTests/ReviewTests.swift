import Foundation
import HavenCore
import HavenServer
import HummingbirdTesting
import Testing
import TestSupport

/// Review before publish on the server (``ReviewRule``), two-person by default, on both backends.
struct ReviewTests {
    private static let twoPeople = ServerConfiguration()

    /// A story by `field` submitted for review, and the cursor after it.
    private func submittedStory(_ client: any TestClientProtocol, _ server: TestServer, device: inout Device) async throws
        -> (id: String, cursor: SyncCursor)
    {
        let id = RecordID.random()
        let created = try await client.push([device.change(id, .story, Fields.story("Crossing"))], token: server["field"])
        let cursor = try await client.pull(token: server["field"]).cursor
        let submitted = try await client.push(
            [device.change(id, .story, ["status": "review", "reviewComment": "please check"], base: cursor)],
            token: server["field"])
        try #require((created.statuses + submitted.statuses).allSatisfy { $0 == .applied })
        return (id, try await client.pull(token: server["admin"]).cursor)
    }

    /// `editor` approves record `id`; returns a first pull of the reader, which holds it.
    private func approve(
        _ id: String, _ cursor: SyncCursor, by editor: inout Device, _ client: any TestClientProtocol, _ server: TestServer
    ) async throws -> PullResponse {
        let approval = try await client.push(
            [editor.change(id, .story, ["status": "published"], base: cursor)], token: server["editor"])
        #expect(approval.statuses == [.applied])
        let reader = try await client.pull(token: server["reader"])
        #expect(reader.changes.map(\.id) == [id])
        return reader
    }

    @Test(arguments: StorageBackend.all) func anotherEditorApprovesAndReadersThenReceive(_ backend: StorageBackend)
        async throws
    {
        let server = try await TestServer.make(backend: backend, configuration: Self.twoPeople)
        try await server.test { client in
            // Given a story field staff submitted, which a reader does not receive
            var field = Device("f1")
            let (id, cursor) = try await submittedStory(client, server, device: &field)
            #expect(try await client.pull(token: server["reader"]).changes.isEmpty)

            // When an editor approves it
            var editor = Device("e1", wallTime: TestServer.now + 1_000)
            let approval = try await client.push(
                [editor.change(id, .story, ["status": "published", "reviewComment": "checked"], base: cursor)],
                token: server["editor"])

            // Then it is published and readers receive it, comment included
            #expect(approval.statuses == [.applied])
            let pulled = try await client.pull(token: server["reader"]).changes
            #expect(pulled.map(\.id) == [id])
            #expect(pulled.first?.values["reviewComment"] == "checked")
        }
    }

    @Test(arguments: StorageBackend.all) func theLastEditorCannotApproveOrDecline(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend, configuration: Self.twoPeople)
        try await server.test { client in
            // Given a story in review whose latest content change is the editor's
            var field = Device("f1")
            let (id, cursor) = try await submittedStory(client, server, device: &field)
            var editor = Device("e1", wallTime: TestServer.now + 1_000)
            let edit = try await client.push([editor.change(id, .story, ["title": "Crossing, edited", "status": "draft"], base: cursor)], token: server["editor"])
            let resubmit = try await client.push([editor.change(id, .story, ["status": "review"], base: cursor)], token: server["editor"])
            #expect((edit.statuses + resubmit.statuses) == [.applied, .applied])

            // When that editor approves, and declines
            let approve = try await client.push([editor.change(id, .story, ["status": "published"], base: cursor)], token: server["editor"])
            let decline = try await client.push([editor.change(id, .story, ["status": "draft"], base: cursor)], token: server["editor"])

            // Then both are refused naming the rule, and the admin may approve
            #expect(approve.results.first?.error?.code == .selfReview)
            #expect(approve.results.first?.error?.message == "record \(id): you made its latest content change, so another editor or admin must approve it (two-person review)")
            #expect(decline.results.first?.error?.code == .selfReview)
            var admin = Device("a1", wallTime: TestServer.now + 2_000)
            let approved = try await client.push([admin.change(id, .story, ["status": "published"], base: cursor)], token: server["admin"])
            #expect(approved.statuses == [.applied])
        }
    }

    @Test(arguments: StorageBackend.all) func anEditorCannotPublishDirectlyOrEditPublishedContent(_ backend: StorageBackend)
        async throws
    {
        let server = try await TestServer.make(backend: backend, configuration: Self.twoPeople)
        try await server.test { client in
            // Given a published story
            var field = Device("f1")
            let (id, cursor) = try await submittedStory(client, server, device: &field)
            var editor = Device("e1", wallTime: TestServer.now + 1_000)
            let reader = try await approve(id, cursor, by: &editor, client, server)

            // When an editor creates a published story, and edits the published one without sending it to draft
            let created = try await client.push(
                [editor.change(RecordID.random(), .story, Fields.story("Direct", status: "published"))], token: server["editor"])
            let edited = try await client.push([editor.change(id, .story, ["body": "Changed."], base: cursor)], token: server["editor"])
            let unpublished = try await client.push(
                [editor.change(id, .story, ["body": "Changed.", "status": "draft"], base: cursor)], token: server["editor"])

            // Then the first two are refused, the edit that makes it a draft is applied
            #expect(created.results.first?.error?.code == .reviewRequired)
            #expect(edited.results.first?.error?.code == .reviewRequired)
            #expect(unpublished.statuses == [.applied])
            #expect(try await client.pull(token: server["reader"], since: reader.cursor).removed == [id])
        }
    }

    /// An editor approves while field staff edit offline: the edit, made before the approval
    /// (a smaller stamp) and arriving after it, must not leave unreviewed content published.
    @Test(arguments: StorageBackend.all) func anOfflineEditMadeBeforeAnApprovalIsRefused(_ backend: StorageBackend)
        async throws
    {
        let server = try await TestServer.make(backend: backend, configuration: Self.twoPeople)
        try await server.test { client in
            // Given a story in review, and an edit made offline by an editor at +500 ms (status draft with it)
            var field = Device("f1")
            let (id, cursor) = try await submittedStory(client, server, device: &field)
            var offline = Device("e2", wallTime: TestServer.now + 500)
            let edit = offline.change(id, .story, ["body": "Unreviewed.", "status": "draft"], base: cursor)

            // When an editor approves at +1000 ms, and then the edit arrives
            var editor = Device("e1", wallTime: TestServer.now + 1_000)
            _ = try await approve(id, cursor, by: &editor, client, server)
            let late = try await client.push([edit], token: server["editor2"])

            // Then the approval stands, the edit is refused, and readers get the reviewed body
            #expect(late.results.first?.error?.code == .reviewRequired)
            let reader = try await client.pull(token: server["reader"])
            #expect(reader.changes.first?.values["body"] == "Body of Crossing.")

            // And an edit made after the approval (a larger stamp) makes the record a draft again
            var later = Device("e3", wallTime: TestServer.now + 2_000)
            let after = try await client.push(
                [later.change(id, .story, ["body": "Reviewed later.", "status": "draft"], base: cursor)], token: server["editor2"])
            #expect(after.statuses == [.applied])
            #expect(try await client.pull(token: server["reader"], since: reader.cursor).removed == [id])
        }
    }

    @Test(arguments: StorageBackend.all) func singleSignOffAllowsSelfApproval(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend, configuration: .singleSignOff)
        try await server.test { client in
            // Given a story the editor wrote and submitted
            var editor = Device("e1")
            let id = RecordID.random()
            _ = try await client.push([editor.change(id, .story, Fields.story("Mine"))], token: server["editor"])
            _ = try await client.push([editor.change(id, .story, ["status": "review"])], token: server["editor"])

            // When the same editor approves it
            let approval = try await client.push([editor.change(id, .story, ["status": "published"])], token: server["editor"])

            // Then it is published
            #expect(approval.statuses == [.applied])
            #expect(try await client.pull(token: server["reader"]).changes.map(\.id) == [id])
        }
    }

    @Test(arguments: StorageBackend.all) func theCommentIsInTheHistory(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend, configuration: Self.twoPeople)
        try await server.test { client in
            // Given a submitted story that an editor declines with a comment
            var field = Device("f1")
            let (id, cursor) = try await submittedStory(client, server, device: &field)
            var editor = Device("e1", wallTime: TestServer.now + 1_000)
            let decline = try await client.push(
                [editor.change(id, .story, ["status": "draft", "reviewComment": "names a village"], base: cursor)],
                token: server["editor"])
            #expect(decline.statuses == [.applied])

            // When the history is read
            let history = try await server.log.history(of: id, for: Caller(tokenID: server.ids["admin"]!, name: "admin", role: .admin))

            // Then the newest entry is the editor's decline with its comment
            let newest = try #require(history.entries.first)
            #expect(newest.author == "editor")
            #expect(newest.fields.map(\.name) == ["reviewComment", "status"])
            #expect(newest.fields.first?.new == "names a village")
            #expect(newest.fields.first?.old == "please check")
        }
    }
}
