import Foundation
import HavenCore
import HavenServer
import HummingbirdTesting
import Testing
import TestSupport

struct VisibilityTests {
    /// The records of ``makeLibrary(_:)`` by name.
    struct Library: Sendable {
        let ids: [String: String]
        func names(of ids: some Sequence<String>) -> Set<String> {
            let names = Dictionary(uniqueKeysWithValues: self.ids.map { ($1, $0) })
            return Set(ids.map { names[$0] ?? $0 })
        }
    }

    /// A published story, a draft, a published restricted story, a published resource, a resource
    /// without status, a restricted draft by `field` and a draft by `field2`; and in review: a
    /// story and a resource by the editor, a story by `field`.
    private func makeLibrary(_ client: any TestClientProtocol, _ server: TestServer) async throws -> Library {
        var editor = Device("e1")
        var field = Device("f1")
        var field2 = Device("f2")
        var ids: [String: String] = [:]
        for name in [
            "published", "draft", "restricted", "resource", "unsetResource", "fieldDraft", "field2Draft", "review",
            "reviewResource", "fieldReview",
        ] {
            ids[name] = RecordID.random()
        }
        var unset = Fields.resource("No status")
        unset["status"] = nil
        let editorPush = try await client.push(
            [
                editor.change(ids["published"]!, .story, Fields.story("Published", status: "published")),
                editor.change(ids["draft"]!, .story, Fields.story("Draft")),
                editor.change(
                    ids["restricted"]!, .story,
                    Fields.story("Restricted", status: "published", sensitivity: "restricted")),
                editor.change(ids["resource"]!, .resource, Fields.resource("Hotline")),
                editor.change(ids["unsetResource"]!, .resource, unset),
            ], token: server["editor"])
        let fieldPush = try await client.push(
            [field.change(ids["fieldDraft"]!, .story, Fields.story("Field draft", sensitivity: "restricted"))],
            token: server["field"])
        let field2Push = try await client.push(
            [field2.change(ids["field2Draft"]!, .story, Fields.story("Field 2 draft"))], token: server["field2"])
        // Submitted for review: created as drafts, then moved to review.
        let reviewPushes = [
            try await client.push(
                [
                    editor.change(ids["review"]!, .story, Fields.story("In review")),
                    editor.change(ids["reviewResource"]!, .resource, Fields.resource("Clinic", status: "draft")),
                    editor.change(ids["review"]!, .story, ["status": "review"]),
                    editor.change(ids["reviewResource"]!, .resource, ["status": "review"]),
                ], token: server["editor"]),
            try await client.push(
                [
                    field.change(ids["fieldReview"]!, .story, Fields.story("Field review")),
                    field.change(ids["fieldReview"]!, .story, ["status": "review"]),
                ], token: server["field"]),
        ]
        try #require(
            (editorPush.statuses + fieldPush.statuses + field2Push.statuses + reviewPushes.flatMap(\.statuses))
                .allSatisfy { $0 == .applied })
        return Library(ids: ids)
    }

    static let everything: Set<String> = [
        "published", "draft", "restricted", "resource", "unsetResource", "fieldDraft", "field2Draft", "review",
        "reviewResource", "fieldReview",
    ]

    static let visible: [(String, Set<String>)] = [
        ("reader", ["published", "resource"]),
        ("field", ["published", "resource", "fieldDraft", "fieldReview"]),
        ("field2", ["published", "resource", "field2Draft"]),
        ("editor", everything),
        ("admin", everything),
    ]

    @Test(arguments: StorageBackend.all, visible)
    func eachRoleSeesOnlyWhatItMay(_ backend: StorageBackend, _ cell: (token: String, expected: Set<String>))
        async throws
    {
        let (token, expected) = cell
        let server = try await TestServer.make(backend: backend)
        try await server.test { client in
            // Given records of every status and sensitivity
            let library = try await makeLibrary(client, server)

            // When the token pulls everything
            let pull = try await client.pull(token: server[token])

            // Then it gets exactly the records it may see, and no removals on a first pull
            #expect(library.names(of: pull.changes.map(\.id)) == expected)
            #expect(pull.removed.isEmpty)
            #expect(pull.cursor.seq == 13)
        }
    }

    @Test(arguments: StorageBackend.all) func unpublishedStoryIsRemovedFromReaders(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        try await server.test { client in
            // Given a reader holding a published story
            let library = try await makeLibrary(client, server)
            let story = library.ids["published"]!
            let readerCursor = try await client.pull(token: server["reader"]).cursor
            let editorCursor = try await client.pull(token: server["editor"]).cursor

            // When an editor sets it back to draft
            var editor = Device("e2", wallTime: TestServer.now + 1_000)
            let push = try await client.push(
                [editor.change(story, .story, ["status": "draft"], base: editorCursor)], token: server["editor"])

            // Then the reader's next pull tells it to drop the story, without its content
            #expect(push.statuses == [.applied])
            let pull = try await client.pull(token: server["reader"], since: readerCursor)
            #expect(pull.removed == [story])
            #expect(pull.changes.isEmpty)
            // And the editor still gets the status change
            let editorPull = try await client.pull(token: server["editor"], since: editorCursor)
            #expect(editorPull.changes.map(\.id) == [story])
            #expect(editorPull.removed.isEmpty)
        }
    }

    @Test(arguments: StorageBackend.all) func restrictedStoryIsRemovedFromReadersAndOtherFieldStaff(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        try await server.test { client in
            // Given a published story that the reader and a field token hold
            let library = try await makeLibrary(client, server)
            let story = library.ids["published"]!
            let readerCursor = try await client.pull(token: server["reader"]).cursor
            let fieldCursor = try await client.pull(token: server["field"]).cursor

            // When an editor marks it restricted
            var editor = Device("e2", wallTime: TestServer.now + 1_000)
            _ = try await client.push(
                [editor.change(story, .story, ["sensitivity": "restricted"])], token: server["editor"])

            // Then both are told to drop it
            #expect(try await client.pull(token: server["reader"], since: readerCursor).removed == [story])
            #expect(try await client.pull(token: server["field"], since: fieldCursor).removed == [story])
        }
    }

    @Test(arguments: StorageBackend.all) func publishedDraftReachesReadersWhole(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        try await server.test { client in
            // Given a reader that has pulled while a story was a draft
            let library = try await makeLibrary(client, server)
            let story = library.ids["draft"]!
            let readerCursor = try await client.pull(token: server["reader"]).cursor
            let full = try #require(try await client.pull(token: server["editor"]).byID[story])

            // When an editor publishes it (a change of the status register only)
            var editor = Device("e2", wallTime: TestServer.now + 1_000)
            let publish = editor.change(story, .story, ["status": "published"], base: readerCursor)
            _ = try await client.push([publish], token: server["editor"])

            // Then the reader's incremental pull carries every field, not only the status
            let pull = try await client.pull(token: server["reader"], since: readerCursor)
            let received = try #require(pull.byID[story])
            var expected = full
            expected.fields["status"] = publish.record.fields["status"]
            #expect(received == expected)
            #expect(received.fields.keys.sorted() == ["author", "body", "language", "sensitivity", "status", "title"])
            #expect(pull.removed.isEmpty)
        }
    }

    @Test(arguments: StorageBackend.all) func fieldDraftIsHiddenFromOthersUntilPublished(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        try await server.test { client in
            // Given field2 holding what it may see
            let library = try await makeLibrary(client, server)
            let draft = library.ids["fieldDraft"]!
            let cursor = try await client.pull(token: server["field2"]).cursor

            // When the author edits the draft, field2 sees nothing of it
            var field = Device("f9", wallTime: TestServer.now + 1_000)
            _ = try await client.push([field.change(draft, .story, ["title": "Still a draft"])], token: server["field"])
            let hidden = try await client.pull(token: server["field2"], since: cursor)
            #expect(hidden.changes.isEmpty)

            // When an editor who has seen it publishes it and lifts the restriction, field2 gets
            // the whole story
            let seen = try await client.pull(token: server["editor"]).cursor
            var editor = Device("e2", wallTime: TestServer.now + 2_000)
            _ = try await client.push(
                [editor.change(draft, .story, ["status": "published", "sensitivity": "public"], base: seen)],
                token: server["editor"])
            let shown = try await client.pull(token: server["field2"], since: hidden.cursor)
            #expect(shown.byID[draft]?.fields["title"]?.value == "Still a draft")
            #expect(shown.byID[draft]?.fields["body"] != nil)
        }
    }
}
