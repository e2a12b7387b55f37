import Foundation
import HavenCore

/// Writes a pack's records into a store as edits of the server's own replica, in one transaction.
package struct PackImporter: Sendable {
    let log: ChangeLog
    /// Stamps the imported edits; tests inject their own.
    let wallClock: HybridLogicalClock.WallClock

    package init(log: ChangeLog, wallClock: @escaping HybridLogicalClock.WallClock = HybridLogicalClock.systemWallClock) {
        self.log = log
        self.wallClock = wallClock
    }

    /// Who imported records are written by: not a token, so no one can sign in as it.
    static let author = Caller(tokenID: "import", name: "content import", role: .admin)

    /// Imports `pack` (or with `dryRun` decides what it would do), returning each record's step.
    ///
    /// - Throws: ``PackRefused`` when the log refuses any record; then nothing is written.
    @discardableResult
    package func importPack(_ pack: ContentPack, overwrite: Bool = false, dryRun: Bool = false) async throws -> [ImportOutcome] {
        // The server's replica id: stamps of imports sort apart from every device's.
        var clock = HybridLogicalClock(replica: ReplicaID("srv" + log.storage.epoch)!, wallClock: wallClock)
        // Random: each import's change ids are its own, whatever the clock reads.
        let run = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let epoch = log.storage.epoch
        return try await log.importRecords(
            pack, by: Self.author, clock: &clock, changeID: { "import-\(epoch)-\(run)-\($0)" },
            overwrite: overwrite, dryRun: dryRun, now: wallClock())
    }
}
