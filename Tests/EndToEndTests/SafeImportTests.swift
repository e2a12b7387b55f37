import Foundation
import GRDB
import HavenCore
import Testing
import TestSupport

/// Content packs as editors use them (issue 15): an old pack never silently undoes a later fix or
/// re-publishes what was unpublished, `--dry-run` shows every change and saves nothing, records
/// without ids get ids that stay theirs, and every bad record is listed with one numbering.
@Suite(.serialized)
struct SafeImportTests {
    static let hotline = "11111111-0000-4000-8000-000000000001"
    static let shelter = "11111111-0000-4000-8000-000000000002"

    /// A server holding a published hotline and shelter, and an editor's replica synced with it.
    private func publishedResources() throws -> (ServerProcess, Device, TemporaryDirectory) {
        let directory = try TemporaryDirectory()
        let server = ServerProcess(in: directory)
        let pack = ContentPack(records: [
            ContentPack.Record(
                id: Self.hotline, kind: .resource,
                fields: ["name": "Women's hotline", "category": "hotline", "country": "KR", "phone": "+82 2 1577 0000", "status": "published"]),
            ContentPack.Record(
                id: Self.shelter, kind: .resource,
                fields: ["name": "Shelter", "category": "shelter", "country": "KR", "status": "published"]),
        ])
        try SamplePack.importPack(pack, into: server)
        try server.start()
        let editor = Device("editor", in: directory)
        try editor.haven("init", "--server", server.url, "--token", server.token(role: "editor", name: "editor"))
        try editor.haven("sync")
        return (server, editor, directory)
    }

    @Test func anOldExportDoesNotUndoAFixNorRepublish() throws {
        // Given an export, then a phone fix and an unpublished shelter, sent
        let (server, editor, directory) = try publishedResources()
        defer { server.stop() }
        let old = directory.path("old.json")
        try editor.haven("export", old, "--plaintext")
        try editor.haven("resources", "edit", Self.hotline, "--phone", "+82 2 1577 1366")
        try editor.haven("resources", "edit", Self.shelter, "--status", "draft")
        try editor.haven("sync")

        // When the old export is imported with --dry-run
        let preview = try editor.haven("import", old, "--dry-run")

        // Then each change is shown field by field, as skipped, and nothing is saved
        #expect(preview.contains("record 1 (\(Self.hotline)): skip: changed here after this pack was exported"), "\(preview)")
        #expect(preview.contains(#"phone: "+82 2 1577 1366" → "+82 2 1577 0000" (not applied)"#), "\(preview)")
        #expect(preview.contains(#"status: "draft" → "published" (not applied)"#), "\(preview)")
        #expect(preview.contains("would import \(old): 0 added, 0 updated, 0 unchanged, 2 skipped"), "\(preview)")
        #expect(try editor.json(ReplicaStatusView.self, "status").unsentChanges == 0)

        // And imported for real, both are skipped and listed, and the fix stays
        let imported = try editor.haven("import", old)
        #expect(imported.contains("2 record(s) changed after this pack was made were left as they are (--overwrite replaces them)"), "\(imported)")
        #expect(try editor.haven("resources", "show", Self.hotline).contains("phone: +82 2 1577 1366"))
        #expect(try editor.json(ReplicaStatusView.self, "status").unsentChanges == 0)

        // And with --overwrite the pack wins
        try editor.haven("import", old, "--overwrite")
        #expect(try editor.haven("resources", "show", Self.hotline).contains("phone: +82 2 1577 0000"))
    }

    @Test func theServerImportIsAsCarefulAsTheReplicas() throws {
        // Given the shelter unpublished by an editor after the pack was made
        let (server, editor, directory) = try publishedResources()
        defer { server.stop() }
        try editor.haven("resources", "edit", Self.shelter, "--status", "draft")
        try editor.haven("sync")
        let pack = directory.path("dated.json")
        try Data(
            #"""
            {"format":"haven-pack/1","date":"2025-01-01","records":[
              {"id":"\#(Self.shelter)","kind":"resource","fields":{"name":"Shelter","category":"shelter","country":"KR","status":"published"}}]}
            """#.utf8
        ).write(to: URL(fileURLWithPath: pack))

        // When `haven-server import` loads the dated pack
        let result = try run(Binaries.url("haven-server"), ["import", "--database", server.database, pack], in: directory)

        // Then the shelter is skipped, naming the date, and stays unpublished
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("record 1 (\(Self.shelter)): changed here after the pack's date"), "\(result.stdout)")
        try editor.haven("sync")
        #expect(try editor.haven("resources", "show", Self.shelter).contains("status: draft"))
    }

    @Test func recordsWithoutIDsGetIDsWrittenIntoThePack() throws {
        let directory = try TemporaryDirectory()
        let server = ServerProcess(in: directory)
        let pack = directory.path("new.json")
        try Data(
            #"""
            {"format":"haven-pack/1","records":[
              {"kind":"resource","fields":{"name":"Legal aid","category":"legal","country":"KR","phnoe":"+82 2 000"}}]}
            """#.utf8
        ).write(to: URL(fileURLWithPath: pack))

        // When it is imported twice
        let first = try run(Binaries.url("haven-server"), ["import", "--database", server.database, "--create", pack], in: directory)
        let second = try run(Binaries.url("haven-server"), ["import", "--database", server.database, pack], in: directory)

        // Then the first gives the record an id, written into the file; the second changes nothing
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("gave 1 record(s) new ids, written into \(pack)"), "\(first.stdout)")
        let written = try ContentPack.decode(Data(contentsOf: URL(fileURLWithPath: pack)))
        #expect(written.records.count == 1 && RecordID.isValid(written.records[0].id))
        #expect(second.stdout.contains("0 added, 0 updated, 1 unchanged"), "\(second.stdout)")
        // And the misspelled field is named with the one meant
        #expect(first.stderr.contains("unknown field 'phnoe' for a resource (did you mean 'phone'?)"), "\(first.stderr)")
    }

    @Test func everyBadRecordIsListedNumberedFromOne() throws {
        let (server, device, directory) = try publishedResources()
        defer { server.stop() }
        let pack = directory.path("bad.json")
        try Data(
            #"""
            {"format":"haven-pack/1","records":[
              {"id":"22222222-0000-4000-8000-000000000001","kind":"story","fields":{"title":"Fine","body":"B","language":"en"}},
              {"id":"22222222-0000-4000-8000-000000000002","fields":{}},
              {"id":"22222222-0000-4000-8000-000000000003","kind":"story","fields":{"title":"T","body":"B","language":"english"}}]}
            """#.utf8
        ).write(to: URL(fileURLWithPath: pack))

        let result = try device.havenResult(["import", pack])

        #expect(result.status != 0)
        #expect(result.stderr.contains("2 of 3 records are not valid:"), "\(result.stderr)")
        #expect(result.stderr.contains("record 2: kind: missing"), "\(result.stderr)")
        #expect(result.stderr.contains("record 3 (22222222-0000-4000-8000-000000000003): language:"), "\(result.stderr)")
        #expect(result.stderr.contains("nothing was imported"), "\(result.stderr)")
        #expect(try device.json(ReplicaStatusView.self, "status").unsentChanges == 0)
    }

    @Test func anImportKilledWhileItWritesLeavesTheReplicaAsItWas() throws {
        // Given an editor's replica holding one imported story (plaintext: the test reads its
        // tables), and a pack of 3,000 stories: enough for the import to build the search index
        // once at the end
        let directory = try TemporaryDirectory()
        let server = ServerProcess(in: directory)
        try server.start()
        defer { server.stop() }
        let editor = Device("editor", in: directory)
        let token = try directory.write(server.token(role: "editor", name: "editor"), to: "token.txt")
        try editor.haven("init", "--no-encryption", "--server", server.url, "--token-file", token)
        let first = directory.path("first.json")
        try SamplePack.make(stories: 1, resources: 0, seed: 42).canonicalJSON().write(to: URL(fileURLWithPath: first))
        try editor.haven("import", first)
        let before = try ReplicaTables(editor.replica)
        let pack = directory.path("big.json")
        try SamplePack.make(stories: 3_000, resources: 0, seed: 41).canonicalJSON().write(to: URL(fileURLWithPath: pack))

        // When `haven import` is killed once its transaction spills into the WAL
        try editor.importKilledMidTransaction(pack)

        // Then the replica is whole and as it was: no record, change or setting of the import, and
        // its search triggers all there
        let after = try ReplicaTables(editor.replica)
        #expect(after.integrity == "ok")
        #expect(after == before)

        // And the same import then runs to the end, and what it brought is found
        #expect(try editor.haven("import", pack).contains("3000 added"))
        #expect(try editor.json(ReplicaStatusView.self, "status").unsentChanges == 3_001)
        let firstSearch = try editor.havenResult(["search", "Crossing 2998"])
        #expect(firstSearch.status == 0 && firstSearch.stdout.contains("Crossing 2998"))

        // And that first search, answered from the text, built the index the import deferred once it had answered
        #expect(firstSearch.stderr.contains("building the search index"))
        let second = try editor.havenResult(["search", "Crossing 2996"])
        #expect(second.stdout.contains("Crossing 2996"))
        #expect(!second.stderr.contains("building the search index"))
    }
}

/// What a replica file holds, table by table, read with SQLite itself.
private struct ReplicaTables: Equatable {
    var integrity: String?
    var schema: [String]
    var meta: [String]
    var records: [String]
    var outbox: [String]
    var serverStates: [String]

    init(_ path: String) throws {
        (integrity, schema, meta, records, outbox, serverStates) = try DatabaseQueue(path: path).read { db in
            (
                try String.fetchOne(db, sql: "PRAGMA integrity_check"),
                try String.fetchAll(db, sql: "SELECT type || ' ' || name FROM sqlite_master ORDER BY type, name"),
                try String.fetchAll(db, sql: "SELECT key || '=' || value FROM meta ORDER BY key"),
                try String.fetchAll(db, sql: "SELECT id || ' ' || state FROM records ORDER BY id"),
                try String.fetchAll(db, sql: "SELECT change_id || ' ' || body FROM outbox ORDER BY seq"),
                try String.fetchAll(db, sql: "SELECT id || ' ' || coalesce(state, 'NULL') FROM server_states ORDER BY id")
            )
        }
    }
}

/// The part of `haven status --json` these tests read.
private struct ReplicaStatusView: Decodable {
    var unsentChanges: Int
}
