import Foundation
import HavenCore
import HavenServer
import Testing
import TestSupport

/// `haven-server import`: packs never silently undo a later edit, `--dry-run` writes nothing,
/// and a pack is imported whole or not at all.
struct PackImportTests {
    /// Imports stamp a minute before the test server's clock, so devices edit after them.
    private static let importTime = TestServer.now - 60_000

    private func importer(_ server: TestServer) -> PackImporter {
        PackImporter(log: server.log, wallClock: { Self.importTime })
    }

    private func hotline(_ id: String, phone: String = "+82 2 1577 0000", version: Timestamp? = nil) -> ContentPack.Record {
        ContentPack.Record(
            id: id, kind: .resource, fields: Fields.resource("Hotline").merging(["phone": .string(phone)]) { $1 },
            version: version)
    }

    /// The record as an editor pulls it.
    private func pulled(_ server: TestServer, _ id: String, as name: String = "editor") async throws -> RecordState? {
        try await server.test { client in try await client.pull(token: server[name]).byID[id] }
    }

    @Test(arguments: StorageBackend.all)
    func anExportedPackDoesNotUndoALaterFixUnlessTold(_ backend: StorageBackend) async throws {
        // Given a hotline imported from a pack, exported with its version, then fixed by an editor
        let server = try await TestServer.make(backend: backend)
        let id = RecordID.random()
        try await importer(server).importPack(ContentPack(records: [hotline(id)]))
        let exported = try #require(try await pulled(server, id)?.latestStamp)
        var editor = Device("e1")
        let fix = editor.change(id, .resource, ["phone": "+82 2 1577 1366"])
        try await server.test { client in
            let push = try await client.push([fix], token: server["editor"])
            #expect(push.statuses == [.applied])
        }

        // When the exported pack is imported again, with a dry run first
        let pack = ContentPack(records: [hotline(id, version: exported)])
        let preview = try await importer(server).importPack(pack, dryRun: true)
        let outcomes = try await importer(server).importPack(pack)

        // Then the record is skipped, naming the export, and the fix stays
        for result in [preview, outcomes] {
            guard case .skipped(.changedSinceExport, let changes) = result.first?.step else {
                Issue.record("expected a skip, got \(String(describing: result.first?.step))")
                return
            }
            #expect(changes == [FieldChange(field: "phone", old: "+82 2 1577 1366", new: "+82 2 1577 0000")])
        }
        #expect(try await pulled(server, id)?.fields["phone"]?.value == "+82 2 1577 1366")

        // And with overwrite the pack's value wins
        let overwritten = try await importer(server).importPack(pack, overwrite: true)
        #expect(overwritten.written == 1)
        #expect(try await pulled(server, id)?.fields["phone"]?.value == "+82 2 1577 0000")
    }

    @Test(arguments: StorageBackend.all)
    func anOldPackDoesNotRepublishWhatWasUnpublished(_ backend: StorageBackend) async throws {
        // Given a published story, unpublished by an editor after the pack's date
        let server = try await TestServer.make(backend: backend)
        let id = RecordID.random()
        let story = ContentPack.Record(id: id, kind: .story, fields: Fields.story("Shelter news", status: "published"))
        try await importer(server).importPack(ContentPack(records: [story]))
        var editor = Device("e1")
        let unpublish = editor.change(id, .story, ["status": "draft"])
        try await server.test { client in
            _ = try await client.push([unpublish], token: server["editor"])
        }

        // When a hand-made pack dated before the unpublishing is imported
        let outcomes = try await importer(server).importPack(ContentPack(records: [story], date: "2025-01-01"))

        // Then it is skipped, and readers still do not receive the story
        guard case .skipped(.changedSinceDate, _) = outcomes.first?.step else {
            Issue.record("expected a skip, got \(String(describing: outcomes.first?.step))")
            return
        }
        #expect(try await pulled(server, id, as: "reader") == nil)
    }

    @Test(arguments: StorageBackend.all)
    func aDryRunWritesNothing(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        let id = RecordID.random()

        let outcomes = try await importer(server).importPack(ContentPack(records: [hotline(id)]), dryRun: true)

        guard case .add(let values) = outcomes.first?.step else {
            Issue.record("expected an add, got \(String(describing: outcomes.first?.step))")
            return
        }
        #expect(values["phone"] == "+82 2 1577 0000")
        #expect(try await pulled(server, id) == nil)
    }

    @Test(arguments: StorageBackend.all)
    func aPackWithARefusedRecordWritesNothing(_ backend: StorageBackend) async throws {
        // Given a story that field staff created, so that an import may not write into it
        let server = try await TestServer.make(backend: backend)
        let claimed = RecordID.random()
        var field = Device("f1")
        let mine = field.change(claimed, .story, Fields.story("Mine"))
        try await server.test { client in
            _ = try await client.push([mine], token: server["field"])
        }

        // When a pack adds a new hotline and then writes into that story
        let fresh = RecordID.random()
        let pack = ContentPack(records: [
            hotline(fresh), ContentPack.Record(id: claimed, kind: .story, fields: Fields.story("Pack")),
        ])
        let refused = await #expect(throws: PackRefused.self) { try await importer(server).importPack(pack, overwrite: true) }

        // Then the refusal names the second record, and the first was not written either
        #expect(refused?.refusals.map(\.number) == [2])
        #expect(try await pulled(server, fresh) == nil)
    }
}

extension [ImportOutcome] {
    /// How many records the import added or updated.
    var written: Int {
        count {
            switch $0.step {
            case .add, .update: true
            default: false
            }
        }
    }
}
