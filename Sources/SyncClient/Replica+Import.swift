import GRDB
import HavenCore

/// Content packs into the replica (DESIGN §6): each record becomes a local edit in the outbox,
/// as if typed, so `haven push` publishes the pack with the token's rights. What each record
/// does is decided by the rules of `ImportStep` in Core, the same as `haven-server import`.
extension Replica {
    /// Imports the pack in one transaction, or with `dryRun` decides the same without writing.
    ///
    /// - Parameters:
    ///   - overwrite: replace records changed here after the pack was made (``ImportStep`` rule 4).
    ///   - preview: called with each record's step, in pack order, numbered from 1.
    ///   - progress: called with the number of records done, every few hundred.
    /// - Throws: ``ClientError`` naming the record at fault (its number in the pack and its id);
    ///   then nothing is saved.
    @discardableResult
    public func importPack(
        _ pack: ContentPack, overwrite: Bool = false, dryRun: Bool = false,
        preview: ((_ number: Int, _ record: ContentPack.Record, ImportStep) -> Void)? = nil,
        progress: ((Int) -> Void)? = nil
    ) throws -> ImportSummary {
        func run(_ db: Database) throws -> ImportSummary {
            var summary = ImportSummary()
            for (index, record) in pack.records.enumerated() {
                let current = try self.current(db, record.id)
                let step: ImportStep
                do throws(ValidationError) {
                    step = try pack.step(for: record, current: current, overwrite: overwrite)
                } catch {
                    throw ClientError(
                        Words(
                            "record \(index + 1) (\(record.id)): \(error.words.english); nothing was imported",
                            korean: "\(index + 1)번째 기록 (\(record.id)): \(error.words.korean). 아무것도 가져오지 않았습니다"))
                }
                if !dryRun { try self.apply(db, step, to: record) }
                summary.count(step, number: index + 1, id: record.id)
                preview?(index + 1, record, step)
                if (index + 1) % Self.importProgressInterval == 0 { progress?(index + 1) }
            }
            if pack.records.count % Self.importProgressInterval != 0 { progress?(pack.records.count) }
            return summary
        }
        return try dryRun ? database.read { try run($0) } : database.write { try run($0) }
    }

    /// Records between two progress reports.
    static let importProgressInterval = 500

    private func current(_ db: Database, _ id: String) throws -> RecordState? {
        try String.fetchOne(db, sql: "SELECT state FROM records WHERE id = ?", arguments: [id]).map {
            try Self.decode(RecordState.self, $0)
        }
    }

    private func apply(_ db: Database, _ step: ImportStep, to record: ContentPack.Record) throws {
        let values: [String: JSONValue]
        switch step {
        case .add(let added): values = added
        case .update(let changes): values = Dictionary(uniqueKeysWithValues: changes.map { ($0.field, $0.new) })
        case .unchanged, .keptDeleted, .skipped: return
        }
        let current = try current(db, record.id) ?? RecordState(id: record.id, kind: record.kind)
        try write(db, record: current) { state, stamp in
            RecordState(id: state.id, kind: state.kind, fields: values.mapValues { Register($0, stamp: stamp) })
        }
    }
}
