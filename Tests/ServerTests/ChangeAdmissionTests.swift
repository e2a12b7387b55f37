import Foundation
import HavenCore
import HavenServer
import HummingbirdTesting
import Testing
import TestSupport

struct ChangeAdmissionTests {
    /// One bad change, what it must be rejected with, and words the message must contain.
    enum BadChange: String, CaseIterable, CustomTestStringConvertible {
        case invalidFieldValue, missingRequiredField, badRecordID, stampBeyondDrift, kindMismatch
        case clearedRequiredField, invalidDeletedFlag, badChangeID, writesNothing, invalidFieldName

        var testDescription: String { rawValue }

        /// The bad change; `existing` is a story already on the server.
        func change(device: inout Device, existing: String) -> Change {
            let fresh = "0c8b7a3e-5d2f-4e1a-9b6c-7d8e9f0a1b2c"
            switch self {
            case .invalidFieldValue:
                var fields = Fields.story("Bad language")
                fields["language"] = "not a language tag"
                return device.change(fresh, .story, fields)
            case .missingRequiredField:
                var fields = Fields.story("No body")
                fields["body"] = nil
                return device.change(fresh, .story, fields)
            case .badRecordID:
                return device.change("NOT-A-UUID", .story, Fields.story("Bad id"))
            case .stampBeyondDrift:
                var ahead = Device("f1", wallTime: TestServer.now + 11 * 60 * 1000)
                var change = ahead.change(fresh, .story, Fields.story("From the future"))
                change.id = "f1-\(device.counter)"
                return change
            case .kindMismatch:
                return device.change(existing, .resource, Fields.resource("Hotline"))
            case .clearedRequiredField:
                return device.change(existing, .story, ["title": .null])
            case .invalidDeletedFlag:
                let stamp = device.clock.now()
                return Change(
                    id: "a1-flag", base: nil,
                    record: RecordState(id: existing, kind: .story, deleted: Register("yes", stamp: stamp)))
            case .badChangeID:
                var change = device.change(fresh, .story, Fields.story("Bad change id"))
                change.id = "Not A Change Id!"
                return change
            case .writesNothing:
                return device.change(existing, .story, [:])
            case .invalidFieldName:
                return device.change(existing, .story, ["bad name!": "x"])
            }
        }

        var code: ErrorCode {
            switch self {
            case .invalidFieldValue, .clearedRequiredField, .invalidDeletedFlag, .invalidFieldName: .invalidField
            case .missingRequiredField: .missingField
            case .badRecordID: .invalidRecord
            case .stampBeyondDrift: .clockAhead
            case .kindMismatch: .kindMismatch
            case .badChangeID: .invalidChange
            case .writesNothing: .emptyChange
            }
        }

        /// Words the message must contain: the field at fault and/or the record.
        func mentions(existing: String) -> [String] {
            let fresh = "0c8b7a3e-5d2f-4e1a-9b6c-7d8e9f0a1b2c"
            switch self {
            case .invalidFieldValue: return [fresh, "language:", "BCP 47"]
            case .missingRequiredField: return [fresh, "body: required"]
            case .badRecordID: return ["NOT-A-UUID", "lowercase UUID"]
            case .stampBeyondDrift: return [fresh, "ahead"]
            case .kindMismatch: return [existing, "story", "resource"]
            case .clearedRequiredField: return [existing, "title:", "cannot be cleared"]
            case .invalidDeletedFlag: return [existing, "deleted:"]
            case .badChangeID: return ["change id"]
            case .writesNothing: return ["writes no field"]
            case .invalidFieldName: return [existing, "bad name!", "not a valid field name"]
            }
        }
    }

    @Test(arguments: BadChange.allCases)
    func rejectsOnlyTheBadChangeOfABatch(_ bad: BadChange) async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            // Given a story already on the server
            var device = Device("a1")
            let existing = RecordID.random()
            _ = try await client.push(
                [device.change(existing, .story, Fields.story("Existing"))], token: server["editor"])
            let cursor = try await client.pull(token: server["editor"]).cursor

            // When a batch holds a good change, the bad one, and another good change
            let before = device.change(RecordID.random(), .story, Fields.story("Before"))
            let badChange = bad.change(device: &device, existing: existing)
            let after = device.change(RecordID.random(), .resource, Fields.resource("After"))
            let push = try await client.push([before, badChange, after], token: server["editor"])

            // Then only the bad change is rejected, with its code and a message naming what is wrong
            #expect(push.results.map(\.id) == [before.id, badChange.id, after.id])
            #expect(push.statuses == [.applied, .rejected, .applied])
            let error = try #require(push.results[1].error)
            #expect(error.code == bad.code)
            for word in bad.mentions(existing: existing) {
                #expect(error.message.contains(word), "'\(error.message)' does not mention '\(word)'")
            }
            #expect(push.results[0].error == nil && push.results[2].error == nil)

            // And the good changes are in the state, the bad one is not
            let pull = try await client.pull(token: server["editor"], since: cursor)
            #expect(Set(pull.changes.map(\.id)) == [before.record.id, after.record.id])
            #expect(pull.cursor.seq == cursor.seq + 2)
        }
    }

    @Test func stampJustWithinDriftIsApplied() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            // Given a device whose clock runs 9 minutes ahead of the server's (the limit is 10)
            var device = Device("a1", wallTime: TestServer.now + 9 * 60 * 1000)
            let change = device.change(RecordID.random(), .story, Fields.story("Slightly ahead"))

            // When it pushes
            let push = try await client.push([change], token: server["editor"])

            // Then the change is applied
            #expect(push.statuses == [.applied])
        }
    }

    @Test func driftLimitComesFromTheServerConfiguration() async throws {
        // Given a server configured to allow 1 second of drift
        let server = try await TestServer.make(configuration: ServerConfiguration(maxDrift: 1_000))
        try await server.test { client in
            // When a device 1 minute ahead pushes
            var device = Device("a1", wallTime: TestServer.now + 60_000)
            let change = device.change(RecordID.random(), .story, Fields.story("A minute ahead"))
            let push = try await client.push([change], token: server["editor"])

            // Then the change is refused as clock_ahead
            #expect(push.statuses == [.rejected])
            #expect(push.results.first?.error?.code == .clockAhead)
        }
    }

    @Test func rejectedChangeCanBeRetriedOnceFixed() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            // Given a change refused for a missing body
            var device = Device("a1")
            let id = RecordID.random()
            var fields = Fields.story("No body yet")
            fields["body"] = nil
            var change = device.change(id, .story, fields)
            #expect(try await client.push([change], token: server["editor"]).statuses == [.rejected])

            // When the same change id is pushed again with the body
            change.record.fields["body"] = Register("Now with a body.", stamp: change.record.fields["title"]!.stamp)
            let retry = try await client.push([change], token: server["editor"])

            // Then it is applied: a rejection does not enter the log
            #expect(retry.statuses == [.applied])
        }
    }

    @Test(arguments: StorageBackend.all)
    func restoringAStoryCreatedDeletedStillNeedsItsRequiredFields(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        try await server.test { client in
            // Given a story created already deleted, with a title and nothing else
            var device = Device("a1")
            let id = RecordID.random()
            let created = device.change(id, .story, ["title": "Only a title"], deleted: true)
            #expect(try await client.push([created], token: server["editor"]).statuses == [.applied])

            // When it is restored, alone and in a batch with its creation by another device
            let restore = device.change(id, deleted: false)
            var other = Device("b2")
            let otherID = RecordID.random()
            let both = [
                other.change(otherID, .story, ["title": "Also only a title"], deleted: true),
                other.change(otherID, deleted: false),
            ]
            let alone = try await client.push([restore], token: server["editor"])
            let batch = try await client.push(both, token: server["editor"])

            // Then each restore is rejected, naming a missing field, and both stories stay deleted
            for result in [alone.results[0], batch.results[1]] {
                #expect(result.status == .rejected)
                #expect(result.error?.code == .missingField)
                #expect(result.error?.message.contains("body: required") == true, "\(String(describing: result.error))")
            }
            #expect(batch.statuses[0] == .applied)
            // (a first pull sends nothing of a deleted record; a restored one would be sent)
            let editorView = try await client.pull(token: server["editor"])
            #expect(editorView.byID[id] == nil)
            #expect(editorView.byID[otherID] == nil)

            // And a restore that brings the missing fields is applied
            let whole = device.change(id, .story, ["body": "Now whole.", "language": "en"], deleted: false)
            #expect(try await client.push([whole], token: server["editor"]).statuses == [.applied])
        }
    }
}
