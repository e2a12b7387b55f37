import HavenCore

/// One pack record as `haven-server import` decided and wrote it.
package struct ImportOutcome: Sendable {
    /// Its number in the pack, from 1.
    package var number: Int
    package var record: ContentPack.Record
    package var step: ImportStep
}

/// A pack the log would not take whole: every record it refused, and nothing written.
package struct PackRefused: Error, Sendable {
    package struct Refusal: Sendable {
        package var number: Int
        package var id: String
        package var error: ErrorDetail
    }
    package var refusals: [Refusal]
}

extension ChangeLog {
    /// Decides each record of a pack by the import rules (``ImportStep``, in Core) against the
    /// record as the log holds it, and pushes what they change as `caller`'s edits, in one
    /// transaction; with `dryRun` it decides the same and writes nothing.
    ///
    /// A pack is imported whole or not at all: when the log would refuse any record, nothing is
    /// written and ``PackRefused`` lists every refusal.
    ///
    /// - Parameters:
    ///   - clock: stamps the edits; it witnesses each record's latest stamp first, so an import
    ///     wins over every register it overwrites.
    ///   - changeID: the log change id of the record numbered so in the pack.
    ///   - review: the review policy the edits are judged by. The operator at the server's shell
    ///     imports and publishes in one step (DESIGN §6): whoever can run `haven-server import`
    ///     can change the database, so a second person adds nothing; the console passes the
    ///     server's own policy.
    ///   - confirm: called with the outcomes inside the transaction, before anything is written;
    ///     what it throws ends the import with nothing written.
    package func importRecords(
        _ pack: ContentPack, by caller: Caller,
        clock: inout HybridLogicalClock, changeID: (Int) -> String, overwrite: Bool, dryRun: Bool, now: UInt64,
        review: ReviewPolicy = .single, confirm: @escaping @Sendable ([ImportOutcome]) throws -> Void = { _ in }
    ) async throws -> [ImportOutcome] {
        let admission = ChangeAdmission(
            caller: caller, now: now, maxDrift: HybridLogicalClock.defaultMaxDrift, review: review)
        let epoch = storage.epoch
        let changeIDs = pack.records.indices.map { changeID($0 + 1) }
        let keys = PushKeys(
            author: caller.tokenID, changeIDs: changeIDs, recordIDs: pack.records.map(\.id),
            replicaIDs: [clock.last.replica.rawValue])
        let start = clock
        let (outcomes, end) = try await storage.push(keys) { rows in
            var clock = start
            var push = PushBatch(rows: rows, admission: admission, epoch: epoch)
            var outcomes: [ImportOutcome] = []
            var refusals: [PackRefused.Refusal] = []
            for (index, (record, id)) in zip(pack.records, changeIDs).enumerated() {
                let current = rows.records[record.id]?.record.state
                do throws(ValidationError) {
                    let step = try pack.step(for: record, current: current, overwrite: overwrite)
                    outcomes.append(ImportOutcome(number: index + 1, record: record, step: step))
                } catch {
                    refusals.append(PackRefused.Refusal(number: index + 1, id: record.id, error: ErrorDetail(code: error.code, message: error.message)
                    ))
                    continue
                }
                guard let values = outcomes[outcomes.count - 1].step.writtenValues else { continue }
                if let latest = current?.latestStamp { clock.witness(latest) }
                let stamp = clock.now()
                let change = Change(
                    id: id, base: nil,
                    record: RecordState(id: record.id, kind: record.kind, fields: values.mapValues { Register($0, stamp: stamp) }))
                if let error = push.add(try PreparedChange(change, admission: admission)).error {
                    refusals.append(PackRefused.Refusal(number: index + 1, id: record.id, error: error))
                }
            }
            guard refusals.isEmpty else { throw PackRefused(refusals: refusals) }
            try confirm(outcomes)
            return (dryRun ? LogWrites() : push.logWrites, (outcomes, clock))
        }
        clock = end
        if !dryRun && !outcomes.isEmpty { storage.commits.signal() }
        return outcomes
    }
}
