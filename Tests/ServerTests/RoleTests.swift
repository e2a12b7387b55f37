import Foundation
import HavenCore
import HavenServer
import HummingbirdTesting
import Testing

struct RoleTests {
    @Test func readerCannotPush() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            // Given a reader's change
            var device = Device("r1")
            let change = device.change(RecordID.random(), .story, Fields.story("Not allowed"))

            // When the reader pushes it
            let response = try await client.post(
                "/v1/changes", token: server["reader"], body: try JSONEncoder().encode(PushRequest(changes: [change])))

            // Then the whole push is 403 and nothing is written
            #expect(response.status == .forbidden)
            let error = try response.error()
            #expect(error.code == .forbidden)
            #expect(error.message.contains("reader"))
            #expect(try await client.pull(token: server["editor"]).changes.isEmpty)
        }
    }

    /// Writes a field token may not make, with the code and words of the refusal.
    enum FieldWrite: String, CaseIterable, CustomTestStringConvertible {
        case createsResource, createsPublishedStory, publishesOwnDraft, editsEditorsStory, editsOtherFieldsDraft
        case editsOwnStoryOncePublished

        var testDescription: String { rawValue }

        var mentions: String {
            switch self {
            case .createsResource: "resources"
            case .createsPublishedStory, .publishesOwnDraft: "status: field staff cannot publish"
            case .editsEditorsStory: "editors only"  // Its story is published: that is said first.
            // A draft it may not see answers as a fresh id would: a title alone is no story.
            case .editsOtherFieldsDraft: "required"
            case .editsOwnStoryOncePublished: "editors only"
            }
        }

        var code: ErrorCode { self == .editsOtherFieldsDraft ? .missingField : .forbidden }
    }

    @Test(arguments: FieldWrite.allCases)
    func fieldIsRefused(_ write: FieldWrite) async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            // Given a published story by the editor, a draft by another field token, and one by
            // this field token
            var editor = Device("e1")
            var field = Device("f1")
            var other = Device("f2")
            let editorsDraft = RecordID.random()
            let othersDraft = RecordID.random()
            let ownDraft = RecordID.random()
            _ = try await client.push(
                [editor.change(editorsDraft, .story, Fields.story("Editor's", status: "published"))], token: server["editor"])
            _ = try await client.push(
                [other.change(othersDraft, .story, Fields.story("Other's"))], token: server["field2"])
            _ = try await client.push([field.change(ownDraft, .story, Fields.story("Own"))], token: server["field"])
            if write == .editsOwnStoryOncePublished {
                let seen = try await client.pull(token: server["editor"]).cursor
                var editor = Device("e2", wallTime: TestServer.now + 1_000)
                let publish = editor.change(ownDraft, .story, ["status": "published"], base: seen)
                #expect(try await client.push([publish], token: server["editor"]).statuses == [.applied])
            }
            let cursor = try await client.pull(token: server["editor"]).cursor

            // When the field token makes the write
            let change: Change =
                switch write {
                case .createsResource: field.change(RecordID.random(), .resource, Fields.resource("Shelter"))
                case .createsPublishedStory:
                    field.change(RecordID.random(), .story, Fields.story("Mine", status: "published"))
                case .publishesOwnDraft: field.change(ownDraft, .story, ["status": "published"], base: cursor)
                case .editsEditorsStory: field.change(editorsDraft, .story, ["title": "Hijacked"], base: cursor)
                case .editsOtherFieldsDraft: field.change(othersDraft, .story, ["title": "Hijacked"], base: cursor)
                case .editsOwnStoryOncePublished: field.change(ownDraft, .story, ["title": "Changed"], base: cursor)
                }
            let push = try await client.push([change], token: server["field"])

            // Then it is rejected and the state is unchanged
            #expect(push.statuses == [.rejected])
            let error = try #require(push.results.first?.error)
            #expect(error.code == write.code)
            #expect(error.message.contains(write.mentions), "\(error.message)")
            #expect(try await client.pull(token: server["editor"], since: cursor).changes.isEmpty)
        }
    }

    @Test func fieldCreatesAndEditsOwnDraft() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            // Given a field token's new draft
            var device = Device("f1")
            let id = RecordID.random()
            let create = device.change(id, .story, Fields.story("My testimony", sensitivity: "restricted"))
            let created = try await client.push([create], token: server["field"])
            let cursor = try await client.pull(token: server["field"]).cursor

            // When the same token edits it, then sends it for review (an edit and a status move
            // are two changes: ReviewRule rule 1)
            let edit = device.change(id, .story, ["body": "A longer account."], base: cursor)
            let submit = device.change(id, .story, ["status": "review"], base: cursor)
            let edited = try await client.push([edit, submit], token: server["field"])

            // Then all are applied and the field token sees its own story
            #expect(created.statuses == [.applied])
            #expect(edited.statuses == [.applied, .applied])
            let pull = try await client.pull(token: server["field"])
            #expect(pull.byID[id]?.fields["status"]?.value == "review")
            #expect(pull.byID[id]?.fields["body"]?.value == "A longer account.")
        }
    }

    @Test(arguments: ["editor", "admin"])
    func editorsAndAdminsPublishAndEditAnything(_ name: String) async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            // Given a field token's draft
            var field = Device("f1")
            let draft = RecordID.random()
            _ = try await client.push(
                [field.change(draft, .story, Fields.story("Field draft"))], token: server["field"])
            let cursor = try await client.pull(token: server[name]).cursor

            // When an editor (or admin) publishes it, creates a published story and a resource
            var device = Device("e1", wallTime: TestServer.now + 1_000)
            let push = try await client.push(
                [
                    device.change(draft, .story, ["status": "published"], base: cursor),
                    device.change(RecordID.random(), .story, Fields.story("Published", status: "published")),
                    device.change(RecordID.random(), .resource, Fields.resource("Hotline 1577")),
                ], token: server[name])

            // Then every change is applied, and the reader now sees all three
            #expect(push.statuses == [.applied, .applied, .applied])
            #expect(try await client.pull(token: server["reader"]).changes.count == 3)
        }
    }

    @Test func editorDeletesAnyStory() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            var field = Device("f1")
            let id = RecordID.random()
            _ = try await client.push([field.change(id, .story, Fields.story("Field draft"))], token: server["field"])
            let cursor = try await client.pull(token: server["editor"]).cursor

            var editor = Device("e1", wallTime: TestServer.now + 1_000)
            let push = try await client.push(
                [editor.change(id, .story, deleted: true, base: cursor)], token: server["editor"])

            #expect(push.statuses == [.applied])
            #expect(try await client.pull(token: server["editor"], since: cursor).byID[id]?.isDeleted == true)
        }
    }
}
