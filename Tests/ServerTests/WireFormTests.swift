import Foundation
import GRDB
import HavenCore
import HavenServer
import Testing
import TestSupport

/// A pull from scratch sends each live record's stored wire form instead of decoding it: the
/// pages must be exactly those the decoded records give, for every role, on both backends.
struct WireFormTests {
    /// Every page of a pull from scratch, `limit` records at most each.
    private func pages(_ server: TestServer, token: String, limit: Int) async throws -> [PullResponse] {
        try await server.test { client in
            var pages: [PullResponse] = []
            var cursor: SyncCursor?
            repeat {
                let page = try await client.pull(token: token, since: cursor, limit: limit)
                pages.append(page)
                cursor = page.cursor
            } while pages.last!.more
            return pages
        }
    }

    private func execute(_ server: TestServer, _ sql: String) async throws {
        if let postgres = server.postgres {
            _ = try PostgresTestDatabase.psql(postgres.url, sql)
        } else {
            try await DatabaseQueue(path: server.path).write { db in try db.execute(sql: sql) }
        }
    }

    private func liveRecordsWithWire(_ server: TestServer) async throws -> Int {
        if let postgres = server.postgres {
            let text = try PostgresTestDatabase.psql(postgres.url, "SELECT count(*) FROM records WHERE shared_wire IS NOT NULL AND wire IS NULL")
            return Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        }
        return try await DatabaseQueue(path: server.path).read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM records WHERE shared_wire IS NOT NULL AND wire IS NULL") ?? -1
        }
    }

    @Test(arguments: StorageBackend.all)
    func aPullFromScratchSendsWhatTheDecodedRecordsWouldForEveryRole(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        var editor = Device("e1")
        var field = Device("f1")
        let ids = (0..<7).map { _ in RecordID.random() }
        let created = [
            editor.change(ids[0], .story, Fields.story("Published", status: "published")),
            editor.change(ids[1], .story, Fields.story("Draft")),
            editor.change(ids[2], .story, Fields.story("Restricted", status: "published", sensitivity: "restricted")),
            editor.change(ids[3], .resource, Fields.resource("Hotline / 상담")),
            editor.change(ids[4], .story, Fields.story("Deleted later", status: "published")),
            editor.change(ids[5], .story, Fields.story("Deleted and restored", status: "published")),
        ]
        let own = field.change(ids[6], .story, Fields.story("Field's own draft"))
        let edits = [
            editor.change(ids[0], .story, ["summary": "Edited after it was published"]),
            editor.change(ids[4], .story, deleted: true), editor.change(ids[5], .story, deleted: true),
        ]
        let restore = editor.change(ids[5], .story, deleted: false)
        try await server.test { client in
            _ = try await client.push(created, token: server["editor"])
            _ = try await client.push([own], token: server["field"])
            _ = try await client.push(edits, token: server["editor"])
            _ = try await client.push([restore], token: server["editor"])
        }
        // Every live record has its wire form; the deleted one has none.
        #expect(try await liveRecordsWithWire(server) == 6)

        let roles = ["reader", "field", "field2", "editor", "admin"]
        var sent: [String: [PullResponse]] = [:]
        for role in roles { sent[role] = try await pages(server, token: server[role], limit: 2) }
        // Given the same database without wire forms (as one written before the column came),
        // when the same callers pull from scratch, then every page is the same.
        try await execute(server, "UPDATE records SET shared_wire = NULL")
        for role in roles {
            let decoded = try await pages(server, token: server[role], limit: 2)
            #expect(decoded.map(\.cursor) == sent[role]!.map(\.cursor), "\(role)")
            #expect(decoded.map(\.remaining) == sent[role]!.map(\.remaining), "\(role)")
            #expect(decoded.map(\.changes) == sent[role]!.map(\.changes), "\(role)")
        }
        let readerIDs = Set(sent["reader"]!.flatMap(\.changes).map(\.id))
        #expect(readerIDs == [ids[0], ids[3], ids[5]])
        #expect(Set(sent["field"]!.flatMap(\.changes).map(\.id)) == readerIDs.union([ids[6]]))
        let edited = sent["reader"]!.flatMap(\.changes).first { $0.id == ids[0] }
        #expect(edited?.values["summary"] == "Edited after it was published")
    }
}
