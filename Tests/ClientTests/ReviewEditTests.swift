import Foundation
import HavenCore
import Testing
import TestSupport

@testable import HavenClient

/// Review before publish on the replica: an edit of a record in review carries `status: draft`,
/// status moves carry their comment, and moves the server would refuse are refused before saving.
@Suite(.temporaryDirectory)
struct ReviewEditTests {
    /// A replica with `role` under `review`, holding a story pulled with `status`.
    private static func replica(_ role: Role, review: ReviewPolicy = .two, status: String) throws -> (Replica, String) {
        let replica = try makeEmptyReplica()
        try replica.saveAccount(Account(name: "amina", role: role, limits: ServerLimits(), review: review))
        let id = RecordIDs.first
        try replica.apply(Fixtures.page(
            [Fixtures.storyDelta(id, Fixtures.story().merging(["status": .string(status)]) { $1 }, at: Fixtures.stamp(1))],
            cursor: Fixtures.cursor(1)))
        return (replica, id)
    }

    @Test(arguments: [
        (Role.field, ReviewPolicy.two, "review", "draft"), (.editor, .two, "review", "draft"),
        (.editor, .two, "published", "draft"), (.editor, .single, "published", nil), (.editor, .two, "draft", nil),
    ] as [(Role, ReviewPolicy, String, String?)])
    func anEditCarriesDraftWhereTheRuleSays(_ role: Role, _ review: ReviewPolicy, _ status: String, _ written: String?)
        throws
    {
        // Given a story with `status`
        let (replica, id) = try Self.replica(role, review: review, status: status)

        // When its body is edited
        try replica.edit(id, values: ["body": "Changed."])

        // Then the change writes the body, and status draft where the record must leave review
        let change = try #require(try replica.pendingChanges(limit: 10).first)
        #expect(change.record.fields["status"]?.value.stringValue == written)
        #expect(change.record.fields["status"].map { $0.stamp == change.record.fields["body"]?.stamp } ?? true)
        #expect(try replica.record(id).values["status"]?.stringValue == written ?? status)
    }

    @Test func aSubmitWritesStatusAndCommentAndClearsAnOldComment() throws {
        // Given a field worker's draft
        let (replica, id) = try Self.replica(.field, status: "draft")

        // When it is submitted with a comment, and without
        try replica.moveStatus(id, to: "review", comment: "please check the dates")
        let first = try #require(try replica.pendingChanges(limit: 10).first)

        // Then the change writes both; a second submit is refused in words
        #expect(first.record.values == ["status": "review", "reviewComment": "please check the dates"])
        let again = #expect(throws: ClientError.self) { try replica.moveStatus(id, to: "review", comment: nil) }
        #expect(again?.message == "record \(id) is in review already: nothing was changed")
    }

    @Test func approveAndDeclineTakeOnlyARecordInReview() throws {
        // Given an editor's replica holding a draft
        let (replica, id) = try Self.replica(.editor, status: "draft")

        // When the draft is approved (as `haven review approve` moves it: from review)
        let error = #expect(throws: ClientError.self) {
            try replica.moveStatus(id, from: "review", to: "published", comment: nil)
        }

        // Then it is refused in words and nothing is queued
        #expect(
            error?.message
                == "record \(id) is draft, not in review (as last synced): nothing was changed; 'haven sync' first if it was submitted meanwhile")
        #expect(try replica.pendingChanges(limit: 10).isEmpty)
    }

    @Test(arguments: [
        (Role.field, "review", "published", "not saved: status: field staff cannot publish (forbidden)"),
        (.field, "review", "draft", "not saved: record \(RecordIDs.first): only editors and admins decline a record in review (forbidden)"),
        (.editor, "published", "review", "not saved: record \(RecordIDs.first): status cannot move from published to review; it moves draft → review → published, review → draft, published → draft (invalid_transition)"),
        (.editor, "draft", "published", "not saved: record \(RecordIDs.first): a draft is published through review: submit it ('haven stories submit \(RecordIDs.first)'), then another editor or admin approves it (review_required)"),
    ] as [(Role, String, String, String)])
    func aMoveTheServerWouldRefuseIsNotSaved(_ role: Role, _ from: String, _ to: String, _ message: String) throws {
        // Given a story with status `from`
        let (replica, id) = try Self.replica(role, status: from)

        // When it is moved to `to`
        let error = #expect(throws: ClientError.self) { try replica.moveStatus(id, to: to, comment: nil) }

        // Then it is refused in the server's words, and nothing is queued
        #expect(error?.message.hasPrefix(message) == true, "\(String(describing: error))")
        #expect(try replica.pendingChanges(limit: 10).isEmpty)
    }
}
