import ArgumentParser
import Foundation
import HavenCore
import Testing
import TestSupport

@testable import HavenClient
@testable import HavenCommands

/// Edits refused before saving as the server would refuse them (role and size), what a server's
/// `/v1/me` may say, and `haven discard` with the exports that leave rejected values out.
@Suite(.temporaryDirectory)
struct LocalAdmissionTests {
    private static func account(_ role: Role, recordBytes: Int = ProtocolLimits.recordBytes) -> Account {
        Account(name: "amina", role: role, limits: ServerLimits(recordBytes: recordBytes))
    }

    @Test func aFieldReplicaRefusesToEditAPublishedStoryAndSavesNothing() throws {
        // Given a field replica holding a published story it pulled
        let replica = try makeEmptyReplica()
        try replica.saveAccount(Self.account(.field))
        let id = RecordIDs.first
        try replica.apply(Fixtures.page(
            [Fixtures.storyDelta(id, Fixtures.story().merging(["status": "published"]) { $1 }, at: Fixtures.stamp(1))],
            cursor: Fixtures.cursor(1)))

        // When it edits the story
        let error = #expect(throws: ClientError.self) { try replica.edit(id, values: ["title": "Changed"]) }

        // Then the edit is refused in the server's words, and nothing is saved or queued
        #expect(error?.message.hasPrefix("not saved: record \(id): published stories can be edited by editors only (forbidden)") == true)
        #expect(try replica.record(id).values["title"] == "Crossing the Tumen")
        #expect(try replica.pendingChanges(limit: 10).isEmpty)
    }

    @Test func aReplicaWhoseRoleIsUnknownLeavesTheRuleToTheServer() throws {
        let replica = try makeEmptyReplica()
        try replica.add(.resource, values: ["name": "N", "category": "shelter", "country": "KR"])
        #expect(try replica.pendingChanges(limit: 10).count == 1)
    }

    @Test(arguments: [(99_000, false), (87_000, true)])
    func aChangeIsHeldToTheServersRecordBytes(characters: Int, fits: Bool) throws {
        // Given a replica that has not asked the server yet (the default limit holds)
        let replica = try makeEmptyReplica()
        let body = String(repeating: "탈", count: characters)

        // When a story with a Korean body of that many characters (3 bytes each) is added,
        // Then it is saved only if its JSON fits in 256 KiB, and the refusal names the field
        do {
            try replica.add(.story, values: Fixtures.story(body: body))
            #expect(fits)
        } catch let error as ClientError {
            #expect(!fits)
            #expect(error.message.contains("more than the 262144 bytes (256 KiB) the server takes for one change"), "\(error)")
            #expect(error.message.contains("body (99000 characters, 297000 bytes)"), "\(error)")
            #expect(try replica.pendingChanges(limit: 10).isEmpty)
        }
    }

    @Test func theServersSmallerLimitIsKeptAndALyingOneIsBounded() throws {
        let replica = try makeEmptyReplica()
        // A server that takes 4 KiB a change: a 5,000-byte story is refused here
        try replica.saveAccount(Self.account(.editor, recordBytes: 4_096))
        #expect(throws: ClientError.self) { try replica.add(.story, values: Fixtures.story(body: String(repeating: "a", count: 5_000))) }
        // A server that claims gigabytes is held to the client's own bound
        let lying = try Self.account(.editor, recordBytes: Int.max).checked()
        #expect(lying.limits.recordBytes == ServerLimits.largestRecordBytes)
        try replica.saveAccount(lying)
        #expect(try replica.settings().recordBytes == ServerLimits.largestRecordBytes)
    }

    @Test(arguments: [
        (#"{"name":"a","role":"superuser","limits":{}}"#, "role"),
        (#"{"name":"","role":"field","limits":{"recordBytes":1,"requestBytes":1,"batchChanges":1,"pageRecords":1,"nestingDepth":1,"fields":{}}}"#, "name"),
        (#"{"name":"a","role":"field","limits":{"recordBytes":-5,"requestBytes":1,"batchChanges":1,"pageRecords":1,"nestingDepth":1,"fields":{}}}"#, "recordBytes"),
        (#"{"name":"a","role":"field"}"#, "limits"),
    ])
    func aHostileAccountAnswerIsRefusedNamingWhatIsWrong(json: String, names: String) async throws {
        // Given a server whose /v1/me answer is malformed or lies out of range
        let transport = Canned(body: Data(json.utf8))
        let api = ServerAPI(server: Fixtures.server, token: "t", transport: transport)

        // When the client asks, Then it refuses the answer, naming the part at fault
        let error = await #expect(throws: ServerAPI.UnreadableAnswer.self) { try await api.me() }
        #expect(error?.reason.contains(names) == true, "\(String(describing: error))")
    }

    @Test func discardRestoresTheServersStateAndRemovesWhatTheServerNeverHad() throws {
        // Given a pulled story edited here twice, and a story created here
        let replica = try makeEmptyReplica()
        let id = RecordIDs.first
        try replica.apply(Fixtures.page([Fixtures.storyDelta(id, Fixtures.story(), at: Fixtures.stamp(1))], cursor: Fixtures.cursor(1)))
        try replica.edit(id, values: ["title": "Edited once"])
        // A pull in between moves the server's state: the summary arrives from another device
        try replica.apply(Fixtures.page(
            [Fixtures.storyDelta(id, ["summary": "From the server"], at: Fixtures.stamp(2))], cursor: Fixtures.cursor(2)))
        try replica.edit(id, values: ["title": "Edited twice"])
        let created = try replica.add(.story, values: Fixtures.story("Mine"))

        // When both are discarded
        let restored = try replica.discard(String(id.prefix(8)))
        let removed = try replica.discard(created)

        // Then the pulled story is as the server has it, summary included, and the new one is gone
        #expect(restored.outcome == .restored && restored.changes == 2)
        #expect(try replica.record(id).values["title"] == "Crossing the Tumen")
        #expect(try replica.record(id).values["summary"] == "From the server")
        #expect(removed.outcome == .removed)
        #expect(throws: ClientError.self) { try replica.record(created) }
        #expect(try replica.pendingChanges(limit: 10).isEmpty)
        #expect(throws: ClientError.self) { try replica.discard(id) }
    }

    @Test func aPulledProgressLineSaysRecordsAndBytesOfTheTotalAndTimeLeft() {
        var summary = SyncEngine.Summary()
        summary.pulledRecords = 1_018
        summary.pages = 2
        let estimate = SyncProgress.PullEstimate(
            remainingRecords: 2_016, receivedBytes: 1_200_000, expectedBytes: 3_600_000, secondsLeft: 19.2)
        #expect(
            ProgressLine.text(SyncProgress(summary: summary, pull: estimate))
                == "received 1018 of 3034 records (1.2 MB of 3.6 MB), about 20 s left")
        #expect(ProgressLine.text(SyncProgress(summary: summary)) == "received 1018 records (0 B) in 2 pages")
    }
}

/// A transport that answers every request with one 200 JSON body.
private struct Canned: HTTPTransport {
    var body: Data
    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        HTTPResponse(status: 200, headers: ["Content-Type": "application/json"], body: body)
    }
}

/// The edit commands' help states the limits an edit is checked against.
struct EditHelpTests {
    @Test func addAndEditHelpStateTheLimits() throws {
        for command in [RecordsCommand<StoryFields>.Add.self, RecordsCommand<StoryFields>.Edit.self] as [any ParsableCommand.Type] {
            let help = HavenCommand.helpMessage(for: command, columns: 400)
            #expect(help.contains("body 100000 characters"), "\(help)")
            #expect(help.contains("262144 bytes of JSON"), "\(help)")
        }
    }
}
