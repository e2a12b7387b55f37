import Foundation
import GRDB
import HavenCore
import Testing
import TestSupport

/// Compaction through the real binaries (issue 4): a replica behind the horizon gets
/// `410 cursor_expired`, downloads everything again, keeps its unsent changes, and no record
/// deleted and purged on the server survives on it.
@Suite(.serialized)
struct CompactionEndToEndTests {
    /// `haven stories show --json`.
    struct Shown: Decodable {
        var id: String
        var deleted: Bool
        var fields: [String: JSONValue]
    }

    @Test func replicaBehindTheHorizonRedownloadsAndKeepsItsUnsentChanges() throws {
        let directory = try TemporaryDirectory()
        let server = ServerProcess(in: directory)
        try server.start()
        defer { server.stop() }
        let alice = Device("alice", in: directory)
        let bora = Device("bora", in: directory)
        try alice.haven("init", "--server", server.url, "--token", server.token(role: "editor", name: "alice"))
        try bora.haven("init", "--server", server.url, "--token", server.token(role: "editor", name: "bora"))
        func show(_ device: Device, _ id: String) throws -> Shown { try device.json(Shown.self, "stories", "show", id) }
        func syncBoth() throws {
            try alice.haven("sync")
            try bora.haven("sync")
        }

        // Given four stories that both replicas hold
        func add(_ title: String) throws -> String {
            try alice.haven("stories", "add", "--title", title, "--body", "Told in person.", "--language", "en")
        }
        let letter = try add("Letter from Chongjin")
        let helpers = try add("Names of the helpers")
        let route = try add("Route through Laos")
        let market = try add("Market in Yanji")
        try syncBoth()

        // When Alice, offline, writes a new story, edits one story, and edits one that Bora deletes
        let offline = try alice.haven(
            "stories", "add", "--title", "Written offline", "--body", "Not yet sent.", "--language", "ko")
        try alice.haven("stories", "edit", letter, "--title", "Letter from Chongjin, revised")
        try alice.haven("stories", "edit", route, "--summary", "A note Alice never sent.")
        // And meanwhile Bora deletes two stories and syncs
        try bora.haven("stories", "delete", helpers)
        try bora.haven("stories", "delete", route)
        try bora.haven("sync")
        // And the server is compacted with a one-second window once the deletes are older than
        // that, as the server's log tells their age
        let compacted = try compactWithAOneSecondWindow(server, in: directory)
        #expect(compacted.status == 0, "compact failed: \(compacted.stderr)")
        #expect(compacted.stdout.contains("purged 2 deleted records"))
        #expect(!compacted.stdout.contains("helpers") && !compacted.stdout.contains(helpers))

        // Then Alice's sync is told to download everything again, and says what it dropped
        let output = try alice.haven("sync")
        #expect(output.contains("everything was downloaded again"))
        #expect(output.contains("1 unsent change(s) were dropped"))
        // And her unsent new story and edit reached the server
        try bora.haven("sync")
        #expect(try show(bora, offline).fields["title"] == "Written offline")
        #expect(try show(bora, letter).fields["title"] == "Letter from Chongjin, revised")
        // And she keeps them, with the untouched story, while neither deleted story survives on her
        #expect(try show(alice, offline).fields["title"] == "Written offline")
        #expect(try show(alice, letter).fields["title"] == "Letter from Chongjin, revised")
        #expect(try show(alice, market).fields["title"] == "Market in Yanji")
        let listed = try alice.haven("stories", "list", "--deleted")
        for purged in [helpers, route] {
            #expect(!listed.contains(purged))
            let shown = try alice.havenResult(["stories", "show", purged])
            #expect(shown.status != 0)
            #expect(shown.stderr.contains("no record with id \(purged)"))
        }
        #expect(try alice.json(ReplicaStatusView.self, "status").unsentChanges == 0)

        // And after two syncs each, both replicas export the same bytes
        try syncBoth()
        try syncBoth()
        try alice.haven("export", "--plaintext", directory.path("alice.json"))
        try bora.haven("export", "--plaintext", directory.path("bora.json"))
        let aliceExport = try Data(contentsOf: URL(fileURLWithPath: directory.path("alice.json")))
        let boraExport = try Data(contentsOf: URL(fileURLWithPath: directory.path("bora.json")))
        #expect(aliceExport == boraExport)
        #expect(try ContentPack.decode(aliceExport).records.map(\.id).sorted() == [letter, market, offline].sorted())
    }

    /// A compacted record's file is gone from the server, bytes and all, on either backend.
    @Test(arguments: StorageBackend.all) func aPurgedRecordsFileIsGoneAfterCompaction(_ backend: StorageBackend) throws {
        // Given a server on this backend
        let postgres = backend == .postgres ? try PostgresTestDatabase() : nil
        let directory = try TemporaryDirectory()
        let server = ServerProcess(in: directory, database: postgres?.url)
        try server.start()
        defer { server.stop() }
        let alice = Device("alice", in: directory)
        try alice.haven("init", "--server", server.url, "--token", server.token(role: "editor", name: "alice"))

        // And a story with a map attached, sent with its file, then deleted and sent again
        let story = try alice.haven("stories", "add", "--title", "Route map", "--body", "Drawn by hand.", "--language", "en")
        let map = directory.path("map.pdf")
        try Data("%PDF-1.4 a hand-drawn route \(UUID())".utf8).write(to: URL(fileURLWithPath: map))
        try alice.haven("media", "add", story, map)
        try alice.haven("sync")
        let blobs = try server.mediaBlobIDs()
        #expect(blobs.count == 1, "the map did not reach the server")
        try alice.haven("stories", "delete", story)
        try alice.haven("sync")

        // When `haven-server compact` runs once the delete is older than the window
        let compacted = try compactWithAOneSecondWindow(server, in: directory)

        // Then it says so, and the file's row and bytes are gone from the database
        #expect(compacted.status == 0, "compact failed: \(compacted.stderr)")
        #expect(compacted.stdout.contains("purged 1 deleted record"), "\(compacted.stdout)")
        #expect(compacted.stdout.contains("removed 1 media file"), "\(compacted.stdout)")
        #expect(try server.mediaBlobIDs().isEmpty)
        #expect(try server.mediaChunkCount() == 0)
    }

    @Test func serveCompactsOnItsSchedule() throws {
        // Given a server that keeps deletes for one second and compacts every second
        let directory = try TemporaryDirectory()
        let server = ServerProcess(in: directory)
        try server.start(logLevel: "info", arguments: ["--retention", "1s", "--compact-every", "1s"])
        defer { server.stop() }
        let alice = Device("alice", in: directory)
        let bora = Device("bora", in: directory)
        try alice.haven("init", "--server", server.url, "--token", server.token(role: "editor", name: "alice"))
        try bora.haven("init", "--server", server.url, "--token", server.token(role: "editor", name: "bora"))
        let story = try alice.haven("stories", "add", "--title", "Short-lived", "--body", "B", "--language", "en")
        try alice.haven("sync")
        try bora.haven("sync")

        // When Alice deletes the story while Bora is away
        try alice.haven("stories", "delete", story)
        try alice.haven("sync")

        // Then the server purges it on its own, and logs counts, never content
        let running = try #require(server.running)
        var log = ""
        try Polling.until("the server logging purged_records=1", limit: 60) {
            log = [running.stdoutURL, running.stderrURL].map { (try? String(contentsOf: $0, encoding: .utf8)) ?? "" }
                .joined()
            return log.contains("purged_records=1")
        }
        #expect(!log.contains("Short-lived"))
        // And Bora, behind the delete, downloads everything again and no longer holds the story
        #expect(try bora.haven("sync").contains("everything was downloaded again"))
        #expect(try bora.havenResult(["stories", "show", story]).status != 0)
    }
}

/// `haven-server compact --retention 1s`, run once everything in the server's log is older than
/// that window.
private func compactWithAOneSecondWindow(_ server: ServerProcess, in directory: TemporaryDirectory) throws -> ProcessResult {
    try waitUntilOlderThanOneSecond(everythingIn: server)
    return try run(
        Binaries.url("haven-server"), ["compact", "--database", server.database, "--retention", "1s"], in: directory)
}

/// Waits until the newest change in the server's log was received more than a second ago, by
/// the wall clock compaction reads: a one-second window then leaves none of the log inside it.
private func waitUntilOlderThanOneSecond(everythingIn server: ServerProcess) throws {
    let sql = "SELECT MAX(received_at) AS newest FROM change_log"
    struct Newest: Decodable { var newest: Int64? }
    let newest =
        server.isPostgres
        ? try PostgresTestDatabase.rows(Newest.self, sql, at: server.database).first?.newest
        : try server.readOnlyDatabase().read { db in try Int64.fetchOne(db, sql: sql) }
    let received = try #require(newest, "the server's log is empty")
    try Polling.until("the wall clock passing \(received + 1_000) ms", limit: 60) {
        Int64(Date().timeIntervalSince1970 * 1000) > received + 1_000
    }
}

/// The part of `haven status --json` these tests read.
private struct ReplicaStatusView: Decodable {
    var unsentChanges: Int
}
