import Foundation
import HavenCore
import HavenServer
import HummingbirdTesting
import Testing
import TestSupport

/// `GET /v1/records/{id}/history` (issue 14): every change still in the log, newest first, with
/// each field's value before and after; editors and admins only; compaction said.
struct HistoryTests {
    private func history(_ client: any TestClientProtocol, _ id: String, token: String) async throws -> TestResponse {
        try await client.get("/v1/records/\(id)/history", token: token)
    }

    @Test(arguments: StorageBackend.all)
    func showsWhoChangedWhatFromWhatNewestFirst(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        let id = RecordID.random()
        var amina = Device("e1")
        var bora = Device("e2")
        let create = amina.change(id, .resource, Fields.resource("Hotline"))
        let fix = bora.change(id, .resource, ["phone": "+82 2 1577 1366"])
        let delete = amina.change(id, .resource, deleted: true)
        try await server.test { client in
            for (change, token) in [(create, "editor"), (fix, "editor2"), (delete, "editor")] {
                #expect(try await client.push([change], token: server[token]).statuses == [.applied])
            }

            let response = try await history(client, id, token: server["admin"])

            #expect(response.status == .ok, "\(response.text)")
            let history = try response.decode(RecordHistory.self)
            #expect(history.entries.map(\.author) == ["editor", "editor2", "editor"])
            #expect(history.entries[0].fields == [RecordHistory.Field(name: "deleted", old: .null, new: true)])
            #expect(history.entries[1].fields == [RecordHistory.Field(name: "phone", old: "+82 2 1577 0000", new: "+82 2 1577 1366")])
            #expect(history.entries[2].fields.map(\.name) == ["category", "country", "name", "phone", "status"])
            #expect(history.entries[2].fields.allSatisfy { $0.old == .null })
            #expect(history.entries.map(\.seq) == history.entries.map(\.seq).sorted(by: >))
            #expect(history.compactedBefore == nil)
        }
    }

    @Test(arguments: StorageBackend.all)
    func anOutdatedWriteIsShownAsChangingNothing(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        let id = RecordID.random()
        var late = Device("e1", wallTime: TestServer.now + 5_000)
        var early = Device("e2", wallTime: TestServer.now)
        let create = late.change(id, .resource, Fields.resource("Hotline"))
        let stale = early.change(id, .resource, ["name": "Old name"])
        try await server.test { client in
            _ = try await client.push([create], token: server["editor"])
            _ = try await client.push([stale], token: server["editor2"])

            let history = try await history(client, id, token: server["editor"]).decode(RecordHistory.self)

            #expect(history.entries[0].fields.isEmpty)
            #expect(history.entries[0].outdated == ["name"])
        }
    }

    @Test(arguments: StorageBackend.all)
    func onlyEditorsAndAdminsReadHistoriesOfRecordsThatExist(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        let id = RecordID.random()
        var editor = Device("e1")
        let published = editor.change(id, .story, Fields.story("Public story", status: "published"))
        try await server.test { client in
            _ = try await client.push([published], token: server["editor"])
            for role in ["field", "reader"] {
                let response = try await history(client, id, token: server[role])
                #expect(response.status == .forbidden)
                #expect(response.text.contains(#""code":"forbidden""#))
            }
            let missing = try await history(client, RecordID.random(), token: server["editor"])
            #expect(missing.status == .notFound)
            #expect(missing.text.contains(#""code":"record_not_found""#))
            #expect(try await history(client, "not-an-id", token: server["editor"]).status == .badRequest)
            #expect(try await history(client, id, token: "wrong").status == .unauthorized)
        }
    }

    @Test(arguments: StorageBackend.all)
    func compactionIsSaid(_ backend: StorageBackend) async throws {
        // Given a story whose title was changed on day 1, on day 40 and on day 41
        let server = try await TestServer.make(backend: backend)
        let id = RecordID.random()
        var editor = Device("e1")
        let caller = Caller(tokenID: server.ids["editor"]!, name: "editor", role: .editor)
        let day: UInt64 = 86_400_000
        for (fields, days) in [(Fields.story("First"), 0), (["title": "Second"], 1), (["title": "Third"], 40), (["title": "Fourth"], 41)] {
            let change = editor.change(id, .story, fields)
            _ = try await server.log.push([change], by: caller, now: TestServer.now + UInt64(days) * day)
        }

        // When compaction removes the day-1 entry (its one value was replaced)
        _ = try await server.log.compact(retention: 30 * day, now: TestServer.now + 45 * day)
        let history = try await server.log.history(of: id, for: caller)

        // Then the history says so; the value the day-40 change replaced is unknown, not "First"
        #expect(history.compactedBefore == TestServer.now + 15 * day)
        #expect(history.entries.count == 3)
        #expect(history.entries[0].fields == [RecordHistory.Field(name: "title", old: "Third", new: "Fourth")])
        #expect(history.entries[1].fields == [RecordHistory.Field(name: "title", old: nil, new: "Third")])
    }
}
