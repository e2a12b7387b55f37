import Foundation
import GRDB
import HavenCore
import Testing
import TestSupport

/// A replica file copied to a second device, or restored from a backup, holds the same replica
/// id and change counter as its original: both would send different changes under one id
/// (issue 19, item 1). Every change of both must still reach the server.
@Suite(.serialized)
struct CopiedReplicaTests {
    /// `haven stories list --json`.
    struct Listed: Decodable {
        var id: String
    }

    /// `haven status --json`.
    struct Status: Decodable {
        var replicaID: String
        var unsentChanges: Int
        var rejectedChanges: Int
    }

    @Test(arguments: [false, true])
    func bothCopiesOfAReplicaDeliverTheirChanges(copyKeepsItsIdentity: Bool) throws {
        let directory = try TemporaryDirectory()
        let server = ServerProcess(in: directory)
        try server.start()
        defer { server.stop() }
        let original = Device("original", in: directory)
        // Plaintext: the test reads the replica's tables itself.
        try original.haven("init", "--no-encryption", "--server", server.url, "--token", server.token(role: "editor", name: "amina"))
        try original.haven("stories", "add", "--title", "Before the copy", "--body", "Synced.", "--language", "en")
        try original.haven("sync")

        // Given a copy of the replica file, taken as a backup tool would (file by file). When
        // the copy keeps its recorded identity (a tool that restores inodes), only the server can
        // tell the two apart.
        let copy = Device("copy", in: directory)
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: original.replica + suffix) {
            try FileManager.default.copyItem(atPath: original.replica + suffix, toPath: copy.replica + suffix)
        }
        if copyKeepsItsIdentity {
            let recorded = try DatabaseQueue(path: original.replica).read { db in
                try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'file_identity'")
            }
            try DatabaseQueue(path: copy.replica).write { db in
                try db.execute(sql: "UPDATE meta SET value = ? WHERE key = 'file_identity'", arguments: [recorded])
            }
        }

        // When each writes a different story, under the same next change number, and both sync
        let fromOriginal = try original.haven(
            "stories", "add", "--title", "From the original", "--body", "A.", "--language", "en")
        let fromCopy = try copy.haven("stories", "add", "--title", "From the copy", "--body", "B.", "--language", "en")
        try original.haven("sync")
        try copy.haven("sync")

        // Then a third replica receives both, and neither copy has anything left to send
        let reader = Device("reader", in: directory)
        try reader.haven("init", "--server", server.url, "--token", server.token(role: "editor", name: "bora"))
        try reader.haven("sync")
        let ids = Set(try reader.json([Listed].self, "stories", "list").map(\.id))
        #expect(ids.isSuperset(of: [fromOriginal, fromCopy]))
        var replicaIDs: Set<String> = []
        for device in [original, copy] {
            let status = try device.json(Status.self, "status")
            #expect(status.unsentChanges == 0)
            #expect(status.rejectedChanges == 0)
            replicaIDs.insert(status.replicaID)
        }
        // And the two write under two replica ids from now on
        #expect(replicaIDs.count == 2)
    }
}
