import Foundation
import Testing
import TestSupport

/// A replica holds the token and restricted stories: its files are the owner's alone (0600) and
/// so are the directories `haven init` makes for it (0700), whatever the umask; an older replica
/// is tightened when opened (issue 19, item 10).
@Suite(.serialized) struct ReplicaFileModeTests {
    @Test func newReplicaAndTheDirectoriesMadeForItAreOwnerOnly() throws {
        // Given no directory yet for the replica
        let directory = try TemporaryDirectory()
        let device = Device("made/for/it/replica", in: directory)

        // When haven init creates it, and a story is saved
        try device.haven("init", "--server", "http://127.0.0.1:9", "--token", "hvn_mode-test", "--offline")
        try device.haven("stories", "add", "--title", "T", "--body", "B", "--language", "en")

        // Then the file and each directory made are the owner's alone
        #expect(try Self.mode(device.replica) == 0o600)
        for made in ["made", "made/for", "made/for/it"] {
            #expect(try Self.mode(directory.path(made)) == 0o700, "\(made)")
        }
    }

    @Test func existingReplicaIsTightenedWhenOpened() throws {
        // Given a replica whose file, side files and directory were left open to everyone
        let directory = try TemporaryDirectory()
        let device = Device("made/replica", in: directory)
        try device.haven("init", "--server", "http://127.0.0.1:9", "--token", "hvn_mode-test", "--offline")
        _ = FileManager.default.createFile(atPath: device.replica + "-journal", contents: Data())
        for file in [device.replica, device.replica + "-journal"] {
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path("made"))

        // When any command opens it
        try device.haven("status")

        // Then they are the owner's alone again
        #expect(try Self.mode(device.replica) == 0o600)
        #expect(try Self.mode(device.replica + "-journal") == 0o600)
        #expect(try Self.mode(directory.path("made")) == 0o700)
    }

    static func mode(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) & 0o777
    }
}
