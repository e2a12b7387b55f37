import ArgumentParser
import Foundation
import HavenCore

/// `haven-server import FILE`: loads a content pack as new edits by the server itself.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Import a content pack (haven-pack/1) into the database.")

    @OptionGroup var database: DatabaseOptions
    @Argument(help: "The pack's JSON file.") var file: String

    func run() async throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            throw ValidationError("cannot read '\(file)': \(error.localizedDescription)")
        }
        let pack: ContentPack
        do {
            pack = try ContentPack.decode(data)
        } catch {
            throw ValidationError("\(file): \(error)")
        }
        let summary = try await database.withStore { try await PackImporter(store: $0).importPack(pack) }
        print("imported \(summary.applied) records from \(file) (\(summary.rejected.count) rejected)")
        for problem in summary.rejected { print("  rejected: \(problem)") }
        if !summary.rejected.isEmpty { throw ExitCode.failure }
    }
}

/// Writes a pack's records into a store as edits of the server's own replica.
public struct PackImporter: Sendable {
    let store: any SyncStore

    public init(store: any SyncStore) { self.store = store }

    /// Who imported records are written by: not a token, so no one can sign in as it.
    static let author = Caller(tokenID: "import", name: "content import", role: .admin)

    public struct Summary: Sendable {
        public var applied = 0
        public var rejected: [String] = []
    }

    public func importPack(_ pack: ContentPack) async throws -> Summary {
        // The server's replica id: stamps of imports sort apart from every device's.
        var clock = HybridLogicalClock(replica: ReplicaID("srv" + store.epoch)!)
        let run = String(HybridLogicalClock.systemWallClock(), radix: 36)
        var summary = Summary()
        for (batchIndex, batch) in pack.records.chunked(into: 500).enumerated() {
            let changes = batch.enumerated().map { index, record in
                let stamp = clock.now()
                return Change(
                    id: "import-\(store.epoch)-\(run)-\(batchIndex * 500 + index)", base: nil,
                    record: RecordState(
                        id: record.id, kind: record.kind, fields: record.fields.mapValues { Register($0, stamp: stamp) }))
            }
            let now = HybridLogicalClock.systemWallClock()
            for (change, result) in zip(changes, try await store.push(changes, by: Self.author, now: now)) {
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
