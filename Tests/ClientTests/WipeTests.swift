import ArgumentParser
import Foundation
import GRDB
import HavenCore
import Testing
import TestSupport

@testable import HavenClient
@testable import HavenCommands

/// `haven wipe`: the replica and everything beside it gone at once, with a count of what was lost.
@Suite(.temporaryDirectory)
struct WipeTests {
    private func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    /// An overwrite budget that no machine runs out of: whether the zeros are written then
    /// depends on nothing but the wipe.
    private static let unhurried = Duration.seconds(3_600)

    private func contents(of directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    }

    @Test func removesTheReplicaAndTheFilesBesideIt() throws {
        // Given an open replica with its -wal and -shm files
        let replica = try makeEmptyReplica()
        try replica.add(.story, values: Fixtures.story())
        #expect(exists(replica.path + "-wal") && exists(replica.path + "-shm"))

        // When it is wiped, with all the time it needs to overwrite them
        let report = try Replica.wipe(at: replica.path, overwriteBudget: Self.unhurried)

        // Then no file of it is left, and the directory (not made for it) stays
        #expect(Set(report.removedFiles) == [replica.path, replica.path + "-wal", replica.path + "-shm"])
        #expect(try contents(of: TemporaryDirectory.path("")).isEmpty)
        #expect(report.removedDirectories.isEmpty)
        #expect(report.overwritten)
    }

    @Test func wipeOutOfTimeToOverwriteStillRemovesEveryFileAndSaysSo() throws {
        // Given an open replica with its -wal and -shm files
        let replica = try makeEmptyReplica()
        try replica.add(.story, values: Fixtures.story())

        // When it is wiped with no time to overwrite anything
        let report = try Replica.wipe(at: replica.path, overwriteBudget: .zero)

        // Then every file is gone all the same, and the report does not claim they were overwritten
        #expect(Set(report.removedFiles) == [replica.path, replica.path + "-wal", replica.path + "-shm"])
        #expect(try contents(of: TemporaryDirectory.path("")).isEmpty)
        #expect(!report.overwritten)
    }

    @Test func countsTheUnsentChangesItDestroys() throws {
        // Given three local changes on a pulled record, two new records, one change sent and
        // one rejected
        let replica = try makeEmptyReplica()
        try replica.apply(
            Fixtures.page(
                [Fixtures.storyDelta(RecordIDs.first, Fixtures.story(), at: Fixtures.stamp(Fixtures.epoch - 1))],
                cursor: Fixtures.cursor(1)))
        try replica.edit(RecordIDs.first, values: ["title": "Edited"])
        try replica.edit(RecordIDs.first, values: ["summary": "Short."])
        try replica.delete(RecordIDs.first)
        let kept = try replica.add(.story, values: Fixtures.story("Kept"))
        try replica.add(.story, values: Fixtures.story("Refused"))
        let changes = try replica.pendingChanges(limit: 10)
        try replica.acknowledge(
            PushResponse(
                results: [
                    PushResult(id: changes[0].id, status: .applied),
                    PushResult(
                        id: changes[4].id, status: .rejected, error: ErrorDetail(code: .forbidden, message: "no")),
                ], serverTime: Fixtures.epoch))

        // When it is wiped
        let inventory = try Replica.wipeInventory(at: replica.path)
        let report = try Replica.wipe(at: replica.path)

        // Then the three pending and the rejected change are counted, with the two visible records
        #expect(inventory.unsentChanges == 4)
        #expect(report.unsentChanges == 4)
        #expect(report.records == 2)
        #expect(!exists(replica.path))
        _ = kept
    }

    @Test func refusesWithoutYesAndDeletesNothing() throws {
        // Given a replica with an unsent change
        let replica = try makeEmptyReplica()
        try replica.add(.story, values: Fixtures.story())
        let before = try contents(of: TemporaryDirectory.path(""))

        // When `haven wipe` runs without --yes
        var command = try HavenCommand.parseAsRoot(["wipe", "--replica", replica.path])
        let error = #expect(throws: ExitCode.self) { try command.run() }

        // Then it fails, and every file is still there and readable
        #expect(error == ExitCode.failure)
        #expect(try contents(of: TemporaryDirectory.path("")) == before)
        #expect(try Replica.open(at: replica.path).status().unsentChanges == 1)
    }

    @Test func wipeWithYesParsesAndRuns() throws {
        let replica = try makeEmptyReplica()
        try replica.add(.story, values: Fixtures.story())

        var command = try HavenCommand.parseAsRoot(["wipe", "--yes", "--replica", replica.path])
        try command.run()

        #expect(try contents(of: TemporaryDirectory.path("")).isEmpty)
    }

    @Test func wipesAReplicaOfSeveralThousandRecordsAndCountsWhatWasLost() throws {
        // Given 4,000 pulled stories of about 2 kB and 500 unsent edits, the replica still open
        let replica = try makeEmptyReplica()
        let body = String(repeating: "탈북민의 정착 이야기와 지원 단체에 관한 기록. Notes on resettlement. ", count: 30)
        for pageIndex in 0..<8 {
            let changes = (0..<500).map { index in
                let number = pageIndex * 500 + index
                return Fixtures.storyDelta(
                    String(format: "%08x-0000-4000-8000-%012x", number, number),
                    Fixtures.story("Story \(number)", body: body),
                    at: Fixtures.stamp(Fixtures.epoch - 1))
            }
            try replica.apply(
                Fixtures.page(changes, cursor: Fixtures.cursor(Int64(pageIndex + 1)), more: pageIndex < 7))
        }
        for number in 0..<500 {
            try replica.edit(
                String(format: "%08x-0000-4000-8000-%012x", number, number), values: ["summary": "Edited."])
        }

        // When it is wiped, with all the time it needs to overwrite them (the time it takes is in
        // BENCHMARKS.md, section 6)
        let report = try Replica.wipe(at: replica.path, overwriteBudget: Self.unhurried)

        // Then it counted every unsent edit, and overwrote everything
        #expect(report.unsentChanges == 500)
        #expect(report.records == 4_000)
        #expect(report.overwritten)
        #expect(try contents(of: TemporaryDirectory.path("")).isEmpty)
    }

    @Test func overwritesTheFileWithZerosBeforeUnlinkingIt() throws {
        // Given a replica whose file has a second name, which the wipe does not remove
        let replica = try makeEmptyReplica()
        try replica.add(.story, values: Fixtures.story("Crossing the Tumen at night"))
        let witness = TemporaryDirectory.path("witness")
        try FileManager.default.linkItem(atPath: replica.path, toPath: witness)
        let size = try Data(contentsOf: URL(fileURLWithPath: witness)).count

        // When it is wiped
        try Replica.wipe(at: replica.path)

        // Then the bytes under the other name, the same inode, are all zeros
        let bytes = try Data(contentsOf: URL(fileURLWithPath: witness))
        #expect(bytes.count == size && size > 0)
        #expect(bytes.allSatisfy { $0 == 0 })
        #expect(!exists(replica.path))
    }

    @Test func unreadableFileIsWipedAllTheSame() throws {
        // Given a replica file full of garbage, and a -wal beside it
        let path = TemporaryDirectory.path("replica.sqlite")
        try Data((0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }).write(to: URL(fileURLWithPath: path))
        try Data("not a wal".utf8).write(to: URL(fileURLWithPath: path + "-wal"))

        // When it is wiped
        let report = try Replica.wipe(at: path)

        // Then both are gone, and the count of lost changes is unknown
        #expect(report.unsentChanges == nil)
        #expect(report.records == nil)
        #expect(try contents(of: TemporaryDirectory.path("")).isEmpty)
    }

    @Test func refusesADatabaseThatIsNotAReplica() throws {
        // Given a SQLite database with other tables, such as a server's
        let path = TemporaryDirectory.path("server.sqlite")
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE records (id TEXT); CREATE TABLE change_log (seq INTEGER)")
        }
        try queue.close()

        // When a wipe is asked for it
        let error = #expect(throws: ClientError.self) { try Replica.wipe(at: path) }

        // Then it says why and leaves the file
        #expect(error?.message == "\(path) is a SQLite database but not a Haven replica: nothing was wiped")
        #expect(exists(path))
    }

    @Test func removesTheDirectoriesMadeForTheReplica() throws {
        // Given a replica in two directories that `init` made
        let top = TemporaryDirectory.path("haven")
        let replica = try Replica.create(
            at: top + "/field/replica.sqlite", server: Fixtures.server, token: Fixtures.token)

        // When it is wiped
        let report = try Replica.wipe(at: replica.path)

        // Then both directories are gone, and nothing above them
        #expect(report.removedDirectories == [top + "/field", top])
        #expect(!exists(top))
        #expect(exists(TemporaryDirectory.path("")))
    }

    @Test func neverRemovesADirectoryThatHoldsOtherFiles() throws {
        // Given a replica in a directory made for it, where someone then put another file
        let directory = TemporaryDirectory.path("haven")
        let replica = try Replica.create(
            at: directory + "/replica.sqlite", server: Fixtures.server, token: Fixtures.token)
        try Data("notes".utf8).write(to: URL(fileURLWithPath: directory + "/notes.txt"))

        // When it is wiped
        let report = try Replica.wipe(at: replica.path)

        // Then the replica is gone but the directory and the other file stay
        #expect(report.removedDirectories.isEmpty)
        #expect(try contents(of: directory) == ["notes.txt"])
    }

    @Test func leavesADirectoryThatExistedBefore() throws {
        let directory = TemporaryDirectory.path("existing")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        let replica = try Replica.create(
            at: directory + "/replica.sqlite", server: Fixtures.server, token: Fixtures.token)

        let report = try Replica.wipe(at: replica.path)

        #expect(report.removedDirectories.isEmpty)
        #expect(try contents(of: directory).isEmpty)
    }

    @Test func nothingToWipeIsNotAnError() throws {
        let report = try Replica.wipe(at: TemporaryDirectory.path("none.sqlite"))

        #expect(report.removedFiles.isEmpty)
        #expect(report.unsentChanges == nil)
    }
}
