import Foundation
import HavenCore
import Testing
import TestSupport

/// Review before publish through the real `haven` and `haven-server` (issue 14): two people by
/// default, an edit in review returns the record to draft, a decline's comment in the history,
/// and `--review single` for small teams.
@Suite(.serialized)
struct ReviewFlowTests {
    /// A started server, and replicas of two editors (ana, bo) and a reader.
    struct World {
        let directory: TemporaryDirectory
        let server: ServerProcess
        let ana: Device
        let bo: Device
        let reader: Device

        init(review: String) throws {
            directory = try TemporaryDirectory()
            server = ServerProcess(in: directory)
            try server.start(arguments: ["--review", review])
            ana = try Self.device("ana", role: "editor", directory: directory, server: server)
            bo = try Self.device("bo", role: "editor", directory: directory, server: server)
            reader = try Self.device("reader", role: "reader", directory: directory, server: server)
        }

        private static func device(_ name: String, role: String, directory: TemporaryDirectory, server: ServerProcess)
            throws -> Device
        {
            let file = directory.path("\(name).token")
            try Data((try server.token(role: role, name: name) + "\n").utf8).write(to: URL(fileURLWithPath: file))
            let device = Device(name, in: directory)
            try device.haven("init", "--server", server.url, "--token-file", file)
            return device
        }

        /// A hotline ana added and submitted, synced to bo.
        func submittedResource() throws -> String {
            let id = try ana.haven(
                "resources", "add", "--name", "Hotline", "--category", "hotline", "--country", "KR", "--phone", "1577 0000")
            try ana.haven("resources", "submit", id, "--comment", "number checked")
            try ana.haven("sync", "--retry-for", "0")
            try bo.haven("sync", "--retry-for", "0")
            return id
        }
    }

    @Test func twoPeoplePublishAndReadersThenReceive() throws {
        // Given a resource ana submitted for review
        let world = try World(review: "two")
        let id = try world.submittedResource()
        #expect(try world.bo.haven("review", "list").contains(id))

        // When ana approves her own change
        let own = try world.ana.havenResult(["review", "approve", id, "--comment", "fine", "--retry-for", "0"])

        // Then it is refused naming the rule, and nothing changed on her replica
        #expect(own.status != 0)
        #expect(own.stderr.contains("you made its latest content change, so another editor or admin must approve it"), "\(own.stderr)")
        #expect(try world.ana.haven("resources", "show", id).contains("status: review"))

        // When bo looks at the diff and approves
        let diff = try world.bo.haven("review", "show", id)
        #expect(diff.contains("against nothing (never published)"), "\(diff)")
        #expect(diff.contains("phone: (unset) → \"1577 0000\""), "\(diff)")
        let approved = try world.bo.haven("review", "approve", id, "--comment", "called it", "--retry-for", "0")
        #expect(approved.contains("approved and published"), "\(approved)")

        // Then readers receive it
        try world.reader.haven("sync", "--retry-for", "0")
        #expect(try world.reader.haven("resources", "show", id).contains("1577 0000"))
    }

    @Test func anEditInReviewReturnsTheRecordToDraftAndADeclineShowsInHistory() throws {
        // Given a resource in review
        let world = try World(review: "two")
        let id = try world.submittedResource()

        // When bo edits its phone number
        let edited = try world.bo.haven("resources", "edit", id, "--phone", "1577 1111")

        // Then the edit made it a draft, which cannot be approved until submitted again
        #expect(edited.contains("it is a draft again"), "\(edited)")
        #expect(try world.bo.haven("resources", "show", id).contains("status: draft"))
        try world.bo.haven("sync", "--retry-for", "0")
        try world.bo.haven("resources", "submit", id)
        try world.bo.haven("sync", "--retry-for", "0")

        // When ana declines it with a comment (bo made the latest content change)
        try world.ana.haven("sync", "--retry-for", "0")
        let declined = try world.ana.haven("review", "decline", id, "--comment", "wrong area code", "--retry-for", "0")
        #expect(declined.contains("declined"), "\(declined)")

        // Then the history shows the decline and its comment, and the reader never got it
        let history = try world.bo.haven("history", id)
        #expect(history.contains("review comment: \"wrong area code\""), "\(history)")
        #expect(history.contains("status: \"review\" → \"draft\""), "\(history)")
        try world.reader.haven("sync", "--retry-for", "0")
        #expect(try world.reader.haven("resources", "list").contains(id) == false)
    }

    @Test func singleSignOffAllowsSelfApproval() throws {
        // Given a server with --review single and a resource ana submitted
        let world = try World(review: "single")
        let id = try world.submittedResource()

        // When ana approves it herself
        let approved = try world.ana.haven("review", "approve", id, "--retry-for", "0")

        // Then it is published and readers receive it
        #expect(approved.contains("approved and published"), "\(approved)")
        try world.reader.haven("sync", "--retry-for", "0")
        #expect(try world.reader.haven("resources", "list").contains(id))
    }
}
