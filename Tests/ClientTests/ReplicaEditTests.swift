import Foundation
import HavenCore
import Testing

@testable import HavenClient

/// Local edits: each writes the record and exactly one outbox entry, or nothing at all.
@Suite(.temporaryDirectory)
struct ReplicaEditTests {
    @Test func addWritesRecordAndOneOutboxEntry() throws {
        // Given an empty replica
        let replica = try makeEmptyReplica()
        let replicaID = try replica.settings().replicaID

        // When a story is added
        let id = try replica.add(.story, values: Fixtures.story())

        // Then the record holds the values and the outbox holds one change carrying them
        #expect(RecordID.isValid(id))
        #expect(try replica.record(id).values == Fixtures.story())
        let pending = try replica.pendingChanges(limit: 10)
        try #require(pending.count == 1)
        #expect(pending[0].id == "\(replicaID)-1")
        #expect(pending[0].base == nil)
        #expect(pending[0].record.id == id)
        #expect(pending[0].record.values == Fixtures.story())
        #expect(pending[0].record.deleted == nil)
        #expect(try replica.status().unsentChanges == 1)
    }

    @Test func changeIDsCountUpAndBaseIsTheCurrentCursor() throws {
        // Given a replica that has made one change, then pulled up to cursor 7
        let replica = try makeEmptyReplica()
        let replicaID = try replica.settings().replicaID
        let first = try replica.add(.story, values: Fixtures.story())
        try replica.apply(Fixtures.page([], cursor: Fixtures.cursor(7)))

        // When it makes two more changes
        try replica.edit(first, values: ["summary": "A night crossing."])
        try replica.delete(first)

        // Then the change ids count 1, 2, 3 and each change carries the cursor of its moment
        let pending = try replica.pendingChanges(limit: 10)
        #expect(pending.map(\.id) == ["\(replicaID)-1", "\(replicaID)-2", "\(replicaID)-3"])
        #expect(pending.map(\.base) == [nil, Fixtures.cursor(7), Fixtures.cursor(7)])
        #expect(try replica.settings().counter == 3)
    }

    @Test(
        arguments: [
            (["body": "Text.", "language": "en"], "title", .missingField),
            (["title": "T", "body": "Text.", "language": "english"], "language", .invalidField),
            (["title": "T", "body": "Text.", "language": "en", "status": "live"], "status", .invalidField),
            (["title": .null, "body": "Text.", "language": "en"], "title", .missingField),
        ] as [([String: JSONValue], String, ErrorCode)])
    func invalidAddNamesTheFieldAndSavesNothing(values: [String: JSONValue], field: String, code: ErrorCode) throws {
        // Given an empty replica
        let replica = try makeEmptyReplica()

        // When an invalid story is added
        let error = #expect(throws: HavenCore.ValidationError.self) {
            try replica.add(.story, values: values)
        }

        // Then the error names the field, and neither a record nor an outbox entry was written
        #expect(error?.field == field)
        #expect(error?.code == code)
        #expect(error?.message.hasPrefix("\(field): ") == true)
        #expect(try replica.records(includeDeleted: true).isEmpty)
        #expect(try replica.pendingChanges(limit: 10).isEmpty)
        #expect(try replica.settings().counter == 0)
    }

    @Test func invalidResourceCountryIsRefused() throws {
        let replica = try makeEmptyReplica()
        let error = #expect(throws: HavenCore.ValidationError.self) {
            try replica.add(.resource, values: ["name": "Hana Center", "category": "resettlement", "country": "Korea"])
        }
        #expect(error?.field == "country")
        #expect(error?.message.hasPrefix("country: ") == true)
        #expect(try replica.records(includeDeleted: true).isEmpty)
    }

    @Test func editWritesOnlyTheChangedFields() throws {
        // Given a story
        let replica = try makeEmptyReplica()
        let id = try replica.add(.story, values: Fixtures.story("Title", body: "Old body."))

        // When the title is "set" to its current value and the body to a new one
        let changed = try replica.edit(id, values: ["title": "Title", "body": "New body."])

        // Then only the body is reported and queued
        #expect(changed == ["body"])
        let pending = try replica.pendingChanges(limit: 10)
        try #require(pending.count == 2)
        #expect(Set(pending[1].record.fields.keys) == ["body"])
        #expect(pending[1].record.values["body"] == "New body.")
        #expect(try replica.record(id).values["body"] == "New body.")
        #expect(try replica.record(id).values["title"] == "Title")
    }

    @Test func editToTheCurrentValuesWritesNothing() throws {
        // Given a story
        let replica = try makeEmptyReplica()
        let id = try replica.add(.story, values: Fixtures.story())
        let before = try replica.record(id)

        // When every field is set to the value it already has
        let changed = try replica.edit(id, values: Fixtures.story())

        // Then nothing changed and nothing was queued
        #expect(changed == [])
        #expect(try replica.record(id) == before)
        #expect(try replica.pendingChanges(limit: 10).count == 1)
        #expect(try replica.settings().counter == 1)
    }

    @Test func clearingAFieldThatIsNotSetWritesNothing() throws {
        // Given a story without a summary
        let replica = try makeEmptyReplica()
        let id = try replica.add(.story, values: Fixtures.story())

        // When the absent summary is cleared
        let changed = try replica.edit(id, values: ["summary": .null])

        // Then nothing changed and nothing was queued
        #expect(changed == [])
        #expect(try replica.record(id).fields["summary"] == nil)
        #expect(try replica.pendingChanges(limit: 10).count == 1)
    }

    @Test func clearingASetFieldWritesNull() throws {
        let replica = try makeEmptyReplica()
        let id = try replica.add(.story, values: Fixtures.story().merging(["summary": "Short."]) { $1 })

        let changed = try replica.edit(id, values: ["summary": .null])

        #expect(changed == ["summary"])
        #expect(try replica.record(id).values["summary"] == .null)
        #expect(try replica.pendingChanges(limit: 10).last?.record.values == ["summary": .null])
    }

    @Test func invalidEditSavesNothing() throws {
        let replica = try makeEmptyReplica()
        let id = try replica.add(.story, values: Fixtures.story())

        let error = #expect(throws: HavenCore.ValidationError.self) {
            try replica.edit(id, values: ["summary": "Fine.", "title": .null])
        }

        #expect(error?.field == "title")
        #expect(error?.message == "title: required, cannot be cleared")
        #expect(try replica.record(id).values == Fixtures.story())
        #expect(try replica.pendingChanges(limit: 10).count == 1)
    }

    @Test func uniquePrefixSelectsTheRecord() throws {
        // Given two stories whose ids share "abcd"
        let replica = try makeEmptyReplica()
        try replica.add(.story, values: Fixtures.story("One"), id: RecordIDs.first)
        try replica.add(.story, values: Fixtures.story("Two"), id: RecordIDs.second)

        // When each verb is given a unique prefix (in any case)
        let changed = try replica.edit("abcd1", values: ["title": "One, revised"])
        let deleted = try replica.delete("ABCD2")
        let restored = try replica.restore("abcd22")

        // Then each acted on the right record
        #expect(changed == ["title"])
        #expect(try replica.record(RecordIDs.first).values["title"] == "One, revised")
        #expect(try replica.record(RecordIDs.second).values["title"] == "Two")
        #expect(deleted == RecordIDs.second)
        #expect(restored == RecordIDs.second)
        #expect(try replica.record(RecordIDs.second).isDeleted == false)
        #expect(try replica.pendingChanges(limit: 10).count == 5)
    }

    @Test(arguments: [
        ("abcd", "id abcd matches several records: give more of it"),
        ("ffff", "no record with id ffff in this replica"),
        ("abc", "no record with id abc: give the whole id or at least its first 4 characters"),
        ("abcd_", "no record with id abcd_ in this replica"),
    ])
    func ambiguousOrUnknownPrefixIsRefused(prefix: String, message: String) throws {
        // Given two stories whose ids share "abcd"
        let replica = try makeEmptyReplica()
        try replica.add(.story, values: Fixtures.story("One"), id: RecordIDs.first)
        try replica.add(.story, values: Fixtures.story("Two"), id: RecordIDs.second)

        // When a verb is given a prefix that matches several records or none, then each refuses it
        for verb: (String) throws -> Void in [
            { _ = try replica.edit($0, values: ["title": "Changed"]) },
            { _ = try replica.delete($0) },
            { _ = try replica.restore($0) },
            { _ = try replica.record($0) },
        ] {
            let error = #expect(throws: ClientError.self) { try verb(prefix) }
            #expect(error?.message.hasPrefix(message) == true, "\(error?.message ?? "no error")")
        }
        #expect(try replica.pendingChanges(limit: 10).count == 2)
    }

    @Test func prefixOfTheWrongKindIsRefused() throws {
        let replica = try makeEmptyReplica()
        try replica.add(.story, values: Fixtures.story(), id: RecordIDs.first)

        let error = #expect(throws: ClientError.self) {
            try replica.edit("abcd1", kind: .resource, values: ["name": "Line"])
        }

        #expect(error?.message == "record \(RecordIDs.first) is a story, not a resource")
    }

    @Test func editingADeletedRecordTellsToRestoreFirst() throws {
        // Given a deleted story
        let replica = try makeEmptyReplica()
        let id = try replica.add(.story, values: Fixtures.story())
        try replica.delete(id)

        // When it is edited
        let error = #expect(throws: ClientError.self) {
            try replica.edit(id, values: ["title": "Changed"])
        }

        // Then the message says to restore it first, and nothing was written
        #expect(error?.message == "record \(id) is deleted: restore it first ('haven stories restore \(id)')")
        #expect(try replica.record(id).fields.isEmpty)
        #expect(try replica.pendingChanges(limit: 10).count == 2)
    }

    @Test func deleteHidesTheRecordAndDeletingTwiceFails() throws {
        // Given a story
        let replica = try makeEmptyReplica()
        let id = try replica.add(.story, values: Fixtures.story())

        // When it is deleted
        #expect(try replica.delete(id) == id)

        // Then it is a tombstone, hidden from lists, and a second delete is refused
        #expect(try replica.record(id).isDeleted)
        #expect(try replica.records(.story).isEmpty)
        #expect(try replica.records(.story, includeDeleted: true).map(\.id) == [id])
        #expect(try replica.status().stories == 0)
        let deleteChange = try #require(try replica.pendingChanges(limit: 10).last)
        #expect(deleteChange.record.fields.isEmpty)
        #expect(deleteChange.record.deleted?.value == .bool(true))
        let error = #expect(throws: ClientError.self) { try replica.delete(id) }
        #expect(error?.message == "record \(id) is already deleted")
        #expect(try replica.pendingChanges(limit: 10).count == 2)
    }

    @Test func restoreBringsTheRecordBack() throws {
        // Given a deleted story
        let replica = try makeEmptyReplica()
        let id = try replica.add(.story, values: Fixtures.story())
        try replica.delete(id)

        // When it is restored
        #expect(try replica.restore(id) == id)

        // Then it is visible with its values, editable, and a second restore is refused
        #expect(try replica.records(.story).map(\.id) == [id])
        #expect(try replica.record(id).values == Fixtures.story())
        #expect(try replica.pendingChanges(limit: 10).last?.record.deleted?.value == .bool(false))
        #expect(try replica.edit(id, values: ["title": "Back"]) == ["title"])
        let error = #expect(throws: ClientError.self) { try replica.restore(id) }
        #expect(error?.message == "record \(id) is not deleted")
    }

    @Test func stampsIncreaseWhenTheWallClockGoesBackwards() throws {
        // Given a replica whose wall clock will run backwards
        let wallClock = ManualWallClock(Fixtures.epoch)
        let replica = try makeEmptyReplica(wallClock: wallClock)
        let id = try replica.add(.story, values: Fixtures.story())

        // When edits are made at ever earlier wall times, the last after reopening the file
        wallClock.set(Fixtures.epoch - 60_000)
        try replica.edit(id, values: ["title": "Second"])
        wallClock.set(Fixtures.epoch - 3_600_000)
        try replica.edit(id, values: ["title": "Third"])
        let reopened = try Replica.open(
            at: replica.path, wallClock: ManualWallClock(Fixtures.epoch - 86_400_000).source)
        try reopened.edit(id, values: ["title": "Fourth"])

        // Then every stamp is larger than the one before, and the last write wins
        let stamps = try reopened.pendingChanges(limit: 10).map { try #require($0.record.latestStamp) }
        #expect(stamps.count == 4)
        #expect(zip(stamps, stamps.dropFirst()).allSatisfy { $0 < $1 })
        #expect(stamps.allSatisfy { $0.physical == Fixtures.epoch })
        #expect(try reopened.record(id).values["title"] == "Fourth")
        #expect(try reopened.settings().clock == stamps.last)
    }

    @Test func createRefusesAnExistingFile() throws {
        let replica = try makeEmptyReplica()
        let error = #expect(throws: ClientError.self) {
            try Replica.create(at: replica.path, server: Fixtures.server, token: "other")
        }
        #expect(error?.message.contains("a replica already exists at \(replica.path)") == true)
    }
}
