import GRDB
import HavenCore

/// Content packs into the replica (DESIGN §6): each record becomes a local edit in the outbox,
/// as if typed, so `haven push` publishes the pack with the token's rights.
extension Replica {
    /// Adds the pack's new records and edits the ones already here, in one transaction.
    ///
    /// A record already here gets only the fields whose value differs: a field the pack leaves
    /// out is kept, and `null` clears it. A record deleted here stays deleted and untouched, and
    /// is listed in the summary. A pack that fails anywhere saves nothing.
    ///
    /// - Parameter progress: called with the number of records done, every few hundred.
    /// - Throws: ``ClientError`` naming the record at fault (its number in the pack and its id).
    @discardableResult
    public func importPack(_ pack: ContentPack, progress: ((Int) -> Void)? = nil) throws -> ImportSummary {
        try database.write { db in
            var summary = ImportSummary()
            for (index, record) in pack.records.enumerated() {
                do {
                    try importRecord(db, record, into: &summary)
                } catch let error as ValidationError {
                    throw ClientError("record \(index + 1) (\(record.id)): \(error.message); nothing was imported")
                } catch let error as ClientError {
                    throw ClientError("record \(index + 1) (\(record.id)): \(error.message); nothing was imported")
                }
                if (index + 1) % Self.importProgressInterval == 0 { progress?(index + 1) }
            }
            if pack.records.count % Self.importProgressInterval != 0 { progress?(pack.records.count) }
            return summary
        }
    }

    /// Records between two progress reports.
    static let importProgressInterval = 500

    private func importRecord(_ db: Database, _ record: ContentPack.Record, into summary: inout ImportSummary) throws {
        guard RecordID.isValid(record.id) else { throw ClientError("the id is not a lowercase UUID") }
        guard let row = try String.fetchOne(db, sql: "SELECT state FROM records WHERE id = ?", arguments: [record.id])
        else {
            let values = record.fields.filter { $0.value != .null }
            try RecordSchema.validate(values, kind: record.kind)
            try write(db, record: RecordState(id: record.id, kind: record.kind)) { state, stamp in
                RecordState(id: state.id, kind: state.kind, fields: values.mapValues { Register($0, stamp: stamp) })
            }
            summary.added += 1
            return
        }
        let current = try Self.decode(RecordState.self, row)
        guard current.kind == record.kind else {
            throw ClientError("it is a \(current.kind) in this replica, not a \(record.kind)")
        }
        // A field that is not set reads as null, so clearing it changes nothing.
        let changed = record.fields.filter { (current.fields[$0.key]?.value ?? .null) != $0.value }
        guard !changed.isEmpty else {
            summary.unchanged += 1
            return
        }
        if current.isDeleted {
            summary.keptDeleted.append(record.id)
            return
        }
        for (field, value) in changed.sorted(by: { $0.key < $1.key }) {
            try RecordSchema.validate(field: field, value: value, kind: record.kind)
        }
        try write(db, record: current) { state, stamp in
            RecordState(id: state.id, kind: state.kind, fields: changed.mapValues { Register($0, stamp: stamp) })
        }
        summary.updated += 1
    }
}

/// What ``Replica/importPack(_:progress:)`` did.
public struct ImportSummary: Sendable, Hashable, Codable {
    /// Records new to this replica.
    public var added = 0
    /// Records already here with at least one field changed.
    public var updated = 0
    /// Records already here with the pack's values.
    public var unchanged = 0
    /// Records deleted here that the pack would change: left deleted and unchanged.
    public var keptDeleted: [String] = []

    public init() {}
}
