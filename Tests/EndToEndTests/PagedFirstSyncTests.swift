import Foundation
import HavenCore
import Testing
import TestSupport

/// A first sync in several pages brings whole records, also those edited after they were
/// created: such a record is listed once, at its last change, so a later page must still carry
/// its older registers (a fresh replica in KillAnywhereTests once got edited stories without
/// their bodies).
@Suite(.serialized)
struct PagedFirstSyncTests {
    @Test func aFirstSyncInSmallPagesGetsWholeEditedRecords() throws {
        // Given three imported stories, the first of them retitled since
        let directory = try TemporaryDirectory()
        let server = ServerProcess(in: directory)
        let pack = SamplePack.make(stories: 3, resources: 0, seed: 3)
        try SamplePack.importPack(pack, into: server)
        try server.start()
        defer { server.stop() }
        let editor = Device("editor", in: directory)
        try editor.haven("init", "--server", server.url, "--token", server.token(role: "editor", name: "editor"))
        try editor.haven("sync")
        try editor.haven("stories", "edit", pack.records[0].id, "--title", "Retitled")
        try editor.haven("sync")

        // When a fresh replica pulls one record per page
        let fresh = Device("fresh", in: directory)
        try fresh.haven("init", "--server", server.url, "--token", server.token(role: "reader", name: "reader"))
        try fresh.haven("sync", "--page-size", "1")

        // Then it holds every field of every record, as the editor does
        try editor.haven("export", "--plaintext", directory.path("editor.json"))
        try fresh.haven("export", "--plaintext", directory.path("fresh.json"))
        let expected = try Data(contentsOf: URL(fileURLWithPath: directory.path("editor.json")))
        let received = try Data(contentsOf: URL(fileURLWithPath: directory.path("fresh.json")))
        let same = received == expected
        #expect(same, "fresh vs editor: \(SamplePack.difference(received, expected))")
    }
}
