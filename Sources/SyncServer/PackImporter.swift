import Foundation
import HavenCore

/// Writes a pack's records into a store as edits of the server's own replica.
package struct PackImporter: Sendable {
    let log: ChangeLog

    package init(log: ChangeLog) { self.log = log }

    /// Who imported records are written by: not a token, so no one can sign in as it.
    static let author = Caller(tokenID: "import", name: "content import", role: .admin)

    package struct Summary: Sendable {
        package var applied = 0
        package var rejected: [String] = []
    }

    package func importPack(_ pack: ContentPack) async throws -> Summary {
        // The server's replica id: stamps of imports sort apart from every device's.
        var clock = HybridLogicalClock(replica: ReplicaID("srv" + log.storage.epoch)!)
        let run = String(HybridLogicalClock.systemWallClock(), radix: 36)
        var summary = Summary()
        for (batchIndex, batch) in pack.records.chunked(into: 500).enumerated() {
            let changes = batch.enumerated().map { index, record in
                let stamp = clock.now()
                return Change(
                    id: "import-\(log.storage.epoch)-\(run)-\(batchIndex * 500 + index)", base: nil,
                    record: RecordState(
                        id: record.id, kind: record.kind, fields: record.fields.mapValues { Register($0, stamp: stamp) }))
            }
            let now = HybridLogicalClock.systemWallClock()
            for (change, result) in zip(changes, try await log.push(changes, by: Self.author, now: now)) {
                if result.status == .rejected {
                    summary.rejected.append("\(change.record.id): \(result.error?.message ?? "rejected")")
                } else {
                    summary.applied += 1
                }
            }
        }
        return summary
    }
}

extension Array {
    /// Consecutive slices of at most `size` elements.
    func chunked(into size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
