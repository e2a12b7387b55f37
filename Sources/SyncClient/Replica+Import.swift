import GRDB
import HavenCore

/// Content packs into the replica (DESIGN §6): each record becomes a local edit in the outbox,
/// as if typed, so `haven push` publishes the pack with the token's rights. What each record
/// does is decided by the rules of `ImportStep` in Core, the same as `haven-server import`.
extension Replica {
    /// Imports the pack in one transaction, or with `dryRun` decides the same without writing.
    ///
    /// - Parameters:
    ///   - pack: the records to import.
    ///   - dryRun: decide every step, write nothing.
    ///   - overwrite: replace records changed here after the pack was made (`ImportStep` rule 4).
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
            // One writer for the whole pack: settings read once, the clock and counter stored once.
            var writer = dryRun ? nil : try LocalWriter(db, replica: self)
            if writer != nil, try Self.defersSearchIndex(db, importing: pack.records.count) { try Self.deferSearchIndex(db) }
            // Records are encoded a batch at a time on another thread while the batch before
            // is stored. Everything staged is stored first when a record's row is read again
            // (an id twice in a pack), and when a record fails: a refusal of an earlier one is
            // the error then, as if each were stored as it came.
            var staged: [StagedWrite] = []
            var encoding: EncodingJob?
            var stagedIDs: Set<String> = []
            func store(_ job: EncodingJob?) throws {
                for write in try job?.wait() ?? [] { try writer?.commit(db, write) }
            }
            func storeAll() throws {
                try store(encoding)
                try store(EncodingJob(staged))
                (encoding, staged, stagedIDs) = (nil, [], [])
            }
            let find = try db.cachedStatement(sql: "SELECT state FROM records WHERE id = ?")
            for (index, record) in pack.records.enumerated() {
                if stagedIDs.contains(record.id) { try storeAll() }
                let current = try String.fetchOne(find, arguments: [record.id]).map { try Self.decode(RecordState.self, $0) }
                let step: ImportStep
                do throws(ValidationError) {
                    step = try pack.step(for: record, current: current, overwrite: overwrite)
                } catch {
                    try storeAll()
                    throw ClientError(
                        Words(
                            "record \(index + 1) (\(record.id)): \(error.words.english); nothing was imported",
                            korean: "\(index + 1)번째 기록 (\(record.id)): \(error.words.korean). 아무것도 가져오지 않았습니다"))
                }
                if let values = step.writtenValues, writer != nil {
                    stagedIDs.insert(record.id)
                    staged.append(
                        try writer!.stage(db, record: current ?? RecordState(id: record.id, kind: record.kind)) { state, stamp in
                            RecordState(id: state.id, kind: state.kind, fields: values.mapValues { Register($0, stamp: stamp) })
                        })
                    if staged.count == Self.importEncodingBatch {
                        let next = EncodingJob(staged)
                        staged = []
                        try store(encoding)
                        encoding = next
                    }
                }
                summary.count(step, number: index + 1, id: record.id)
                preview?(index + 1, record, step)
                if (index + 1) % Self.importProgressInterval == 0 { progress?(index + 1) }
            }
            try storeAll()
            if pack.records.count % Self.importProgressInterval != 0 { progress?(pack.records.count) }
            try writer?.finish(db)
            return summary
        }
        return try dryRun ? database.read { try run($0) } : database.write { try run($0) }
    }

    /// Records encoded together while the batch before is stored.
    static let importEncodingBatch = 256

    /// Records between two progress reports.
    public static let importProgressInterval = 500

    /// The fewest records for which an import builds the search index once at the end rather
    /// than row by row (Replica+Search.swift).
    static let deferredIndexMinimum = 1_000

    /// Whether importing `count` records builds the search index in one pass afterwards: when
    /// they are many, and at least as many as the index holds already, since the pass indexes
    /// every record again. Indexing row by row costs most of an import's time otherwise.
    private static func defersSearchIndex(_ db: Database, importing count: Int) throws -> Bool {
        guard count >= deferredIndexMinimum else { return false }
        return try count >= Int.fetchOne(db, sql: "SELECT count(*) FROM search_documents") ?? 0
    }
}
