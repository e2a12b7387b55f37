import Foundation
import GRDB
import HavenCore
import Testing
import TestSupport

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A disk that fills up in the middle of a pull: a clear error, no corruption, the cursor not
/// past applied data, and a later sync completes (issue 5, "Done when").
///
/// The full disk is SQLite's `max_page_count`, set on every connection of the `haven` process
/// through the test-only `HAVEN_TEST_MAX_PAGE_COUNT` read in `Replica`.
@Suite(.serialized)
struct DiskFullTests {
    @Test func aDiskFullInTheMiddleOfAPullIsReportedAndRecovered() async throws {
        // Given a server with 400 stories and 100 resources, and the size of a replica holding them
        let directory = try TemporaryDirectory()
        let server = ServerProcess(in: directory)
        let pack = SamplePack.make(stories: 400, resources: 100, seed: 77)
        try SamplePack.importPack(pack, into: server)
        try server.start()
        defer { server.stop() }
        let token = try server.token(role: "field", name: "field")
        let reference = Device("reference", in: directory)
        // Plaintext: the test reads the replica's tables itself.
        try reference.haven("init", "--no-encryption", "--server", server.url, "--token", token)
        try reference.haven("sync", "--page-size", "50")
        let fullPages = try pageCount(reference)

        // When a fresh replica pulls onto a disk with room for about two fifths of the records
        let field = Device("field", in: directory)
        try field.haven("init", "--no-encryption", "--server", server.url, "--token", token)
        let emptyPages = try pageCount(field)
        let limit = emptyPages + (fullPages - emptyPages) * 2 / 5
        let full = try run(
            Binaries.url("haven"), ["sync", "--page-size", "50"],
            environment: ["HAVEN_REPLICA": field.replica, "HAVEN_TEST_MAX_PAGE_COUNT": String(limit)], in: directory)
        print("disk full: replica \(emptyPages) pages empty, \(fullPages) full, limit \(limit); sync failed: \(full.stderr)")

        // Then the sync stops at once with an error that says the disk is full, not a crash
        #expect(full.reason == .exit && full.status == 1, "status \(full.status), \(full.reason): \(full.stderr)")
        #expect(
            full.stderr.lowercased().contains("disk is full"), "the error must say the disk is full: \(full.stderr)")
        // (a full disk is not the link's fault: no point retrying it until the budget is spent)
        #expect(!full.stderr.contains("gave up"), "a full disk was retried: \(full.stderr)")
        // and the replica is intact, holding the pages before the failure
        let held = try replicaState(field)
        #expect(held.integrity == "ok")
        #expect(!held.records.isEmpty && held.records.count < pack.records.count, "\(held.records.count) records held")
        // and its cursor is not past applied data: what follows it is exactly what is missing
        let missing = try await recordIDs(after: held.cursor, server: server, token: token)
        #expect(
            held.records.union(missing) == Set(pack.records.map(\.id)),
            "records between the replica and its cursor were skipped")
        #expect(held.records.isDisjoint(with: missing), "the cursor lags behind records already applied")

        // When the disk has room again, a sync completes and the replica equals the server
        try field.haven("sync")
        #expect(try replicaState(field).integrity == "ok")
        try reference.haven("export", "--plaintext", directory.path("reference.json"))
        try field.haven("export", "--plaintext", directory.path("field.json"))
        let expected = try pack.canonicalJSON()
        for name in ["reference", "field"] {
            let exported = try SamplePack.withoutVersions(Data(contentsOf: URL(fileURLWithPath: directory.path("\(name).json"))))
            let same = exported == expected  // Not inside #expect: diffing megabytes takes minutes.
            #expect(same, "\(name) vs the pack: \(SamplePack.difference(exported, expected))")
        }
    }

    private func pageCount(_ device: Device) throws -> Int {
        try DatabaseQueue(path: device.replica).read { db in try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0 }
    }

    /// The replica's integrity, record ids and cursor, read after the process has ended.
    private func replicaState(_ device: Device) throws -> (integrity: String?, records: Set<String>, cursor: String?) {
        try DatabaseQueue(path: device.replica).read { db in
            (
                try String.fetchOne(db, sql: "PRAGMA integrity_check"),
                Set(try String.fetchAll(db, sql: "SELECT id FROM records")),
                try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'cursor'")
            )
        }
    }

    /// The ids of the records the server sends after `cursor`, pulled page by page.
    private func recordIDs(after cursor: String?, server: ServerProcess, token: String) async throws -> Set<String> {
        var ids: Set<String> = []
        var cursor = cursor
        for _ in 0..<100 {
            var components = URLComponents(string: server.url + "/v1/changes")!
            components.queryItems =
                [URLQueryItem(name: "limit", value: "100")]
                + (cursor.map { [URLQueryItem(name: "since", value: $0)] } ?? [])
            var request = URLRequest(url: components.url!)
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
            let (data, _) = try await URLSession.shared.data(for: request)
            let page = try JSONDecoder().decode(PullResponse.self, from: data)
            ids.formUnion(page.changes.map(\.id))
            cursor = page.cursor.description
            if !page.more { return ids }
        }
        throw ClientFailure("the server never said it had no more")
    }
}
