import Foundation
import HavenClient
import Testing

/// The files SQLite makes beside an open replica (`-wal`, `-shm`) are the owner's alone, like the
/// replica itself, whatever the process's umask (issue 19, item 10).
@Suite(.temporaryDirectory) struct ReplicaFileModeTests {
    @Test func sideFilesOfAnOpenReplicaAreOwnerOnly() throws {
        // Given a replica with a write in its WAL, still open
        let replica = try makeEmptyReplica()
        _ = try replica.add(.story, values: Fixtures.story())

        // Then the file, its WAL and its shared memory are the owner's alone
        for suffix in ["", "-wal", "-shm"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: replica.path + suffix)
            #expect((attributes[.posixPermissions] as? Int).map { $0 & 0o777 } == 0o600, "\(suffix)")
        }
    }
}
