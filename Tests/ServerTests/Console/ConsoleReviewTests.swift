import Foundation
import HTTPTypes
import HavenCore
import Hummingbird
import HummingbirdTesting
import Testing
import TestSupport

@testable import HavenServer

/// The review queue in the console under the default, two-person review: the server's rules
/// judge each move made in it, as they judge a push.
struct ConsoleReviewTests {
    static let twoPeople = ServerConfiguration()

    static let hotline = [
        "kind": "resource", "name": "탈북민 상담전화", "category": "hotline", "country": "KR", "phone": "+82 2 1577 0000",
        "status": "draft",
    ]

    /// The id in a `Location: /console/…/{id}` answer.
    static func id(in answer: TestResponse) throws -> String {
        try #require(answer.headers[.location]?.split(separator: "/").last.map(String.init))
    }

    @Test(arguments: StorageBackend.all) func anotherEditorApprovesWhatOneSubmittedAndReadersReceiveIt(
        _ backend: StorageBackend
    ) async throws {
        let server = try await TestServer.make(backend: backend, configuration: Self.twoPeople)
        try await server.test { client in
            // Given a draft an editor created and submitted in the console
            var author = try await ConsoleBrowser.atNewResource(client, token: server["editor"])
            let id = try Self.id(in: try await author.post("/console/records/new", Self.hotline))
            _ = try await author.get("/console/records/\(id)")
            let submitted = try await author.post("/console/records/\(id)/submit", [:])
            #expect(submitted.status == .seeOther)

            // When its author tries to approve it, they are refused in the server's words
            let page = try await author.get("/console/review/\(id)").text
            let base = try #require(ConsoleBrowser.hidden("base", in: page))
            let own = try await author.post("/console/review/\(id)/approve", ["base": base, "comment": "fine"])
            #expect(own.status == .conflict)
            #expect(own.text.contains("you made its latest content change, so another editor or admin must approve it"))
            #expect(try await client.pull(token: server["reader"]).changes.isEmpty)

            // And another editor finds it in the queue, sees what would be published beside
            // nothing published yet, and approves it with a comment
            var reviewer = ConsoleBrowser(client)
            try await reviewer.signIn(server["editor2"])
            let queue = try await reviewer.get("/console/review").text
            #expect(queue.contains("href=\"/console/review/\(id)\""))
            let review = try await reviewer.get("/console/review/\(id)").text
            #expect(review.contains("<td class=\"value old\"></td><td class=\"value new\">+82 2 1577 0000</td>"))
            let approved = try await reviewer.post(
                "/console/review/\(id)/approve", ["base": try #require(ConsoleBrowser.hidden("base", in: review)), "comment": "checked the number"])
            #expect(approved.status == .seeOther)

            // Then a reader receives it, comment included, approved by the second editor
            let pulled = try await client.pull(token: server["reader"]).changes
            #expect(pulled.map(\.id) == [id])
            #expect(pulled.first?.values["reviewComment"] == "checked the number")
            #expect(try await reviewer.get("/console/review").text.contains("href=\"/console/review/\(id)\"") == false)
        }
    }

    @Test func aDeclineSendsItBackToDraftAndAnEditOfPublishedContentMakesADraft() async throws {
        let server = try await TestServer.make(configuration: Self.twoPeople)
        try await server.test { client in
            var author = try await ConsoleBrowser.atNewResource(client, token: server["editor"])
            let id = try Self.id(in: try await author.post("/console/records/new", Self.hotline))
            _ = try await author.get("/console/records/\(id)")
            _ = try await author.post("/console/records/\(id)/submit", [:])
            var reviewer = ConsoleBrowser(client)
            try await reviewer.signIn(server["editor2"])

            // When the reviewer declines it with a reason
            let page = try await reviewer.get("/console/review/\(id)").text
            let declined = try await reviewer.post(
                "/console/review/\(id)/decline", ["base": try #require(ConsoleBrowser.hidden("base", in: page)), "comment": "call it first"])
            #expect(declined.status == .seeOther)

            // Then it is a draft with the reason, and approving it now is refused without writing
            let record = try await reviewer.get("/console/records/\(id)").text
            #expect(record.contains("call it first"))
            #expect(record.contains("<span class=\"badge\">draft</span>"))
            let late = try await reviewer.post("/console/review/\(id)/approve", ["base": "", "comment": ""])
            #expect(late.status == .conflict)
            #expect(late.text.contains("is draft now, not review"))

            // And once published, an edit of its content leaves it a draft instead of being refused
            _ = try await author.get("/console/records/\(id)")
            _ = try await author.post("/console/records/\(id)/submit", [:])
            let again = try await reviewer.get("/console/review/\(id)").text
            _ = try await reviewer.post("/console/review/\(id)/approve", ["base": try #require(ConsoleBrowser.hidden("base", in: again))])
            #expect(try await client.pull(token: server["reader"]).changes.map(\.id) == [id])
            let form = try await author.get("/console/records/\(id)/edit").text
            var fields = Self.hotline.merging(["phone": "+82 2 1577 1111", "status": "published"]) { $1 }
            fields["base"] = try #require(ConsoleBrowser.hidden("base", in: form))
            #expect(try await author.post("/console/records/\(id)/edit", fields).status == .seeOther)
            let edited = try await author.get("/console/records/\(id)").text
            #expect(edited.contains("+82 2 1577 1111"))
            #expect(edited.contains("<span class=\"badge\">draft</span>"))
        }
    }

    @Test func aFieldTokenCannotOpenTheQueueOrApprove() async throws {
        let server = try await TestServer.make(configuration: Self.twoPeople)
        try await server.test { client in
            var field = ConsoleBrowser(client)
            try await field.signIn(server["field"])
            _ = try await field.get("/console/records")
            #expect(try await field.get("/console/review").status == .forbidden)
            let approve = try await field.post("/console/review/\(RecordID.random())/approve", [:])
            #expect(approve.status == .forbidden)
        }
    }
}
