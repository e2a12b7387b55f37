import HavenCore

extension ChangeLog {
    /// The history of record `id` as `caller` may read it: every change still in the log, newest
    /// first, each field's value before and after.
    ///
    /// Editors and admins only: a record's history holds what earlier versions said, and field
    /// staff and readers receive only what a record says now.
    ///
    /// - Throws: ``HistoryRefusal`` when the caller may not read histories or there is no such record.
    package func history(of id: String, for caller: Caller) async throws -> RecordHistory {
        guard caller.role.seesEverything else { throw HistoryRefusal.forbidden }
        let rows = try await storage.historyRows(of: id)
        guard let stored = rows.record else { throw HistoryRefusal.noSuchRecord }
        return Self.history(of: stored.record, entries: rows.entries, names: rows.tokenNames, compactedBefore: rows.compactedBefore)
    }

    /// Replays `entries` in log order, merging each as the log did, to tell what each changed.
    static func history(
        of record: TrackedRecord, entries: [LogEntry], names: [String: String], compactedBefore: UInt64?
    ) -> RecordHistory {
        var state = RecordState(id: record.id, kind: record.kind)
        // When the kept entry that last set each field was received: compaction removes only
        // entries received before its cutoff, so a value set after it is the one a change replaced.
        var setAt: [String: UInt64] = [:]
        var history: [RecordHistory.Entry] = []
        for entry in entries {
            let delta = entry.change.record
            var fields: [RecordHistory.Field] = []
            var outdated: [String] = []
            var written = delta.fields.map { ($0.key, $0.value, state.fields[$0.key]) }
            if let deleted = delta.deleted { written.append(("deleted", deleted, state.deleted)) }
            for (name, register, before) in written.sorted(by: { $0.0 < $1.0 }) {
                guard Register.winner(before, register) == register, before != register else {
                    outdated.append(name)
                    continue
                }
                var old: JSONValue? = before?.value ?? JSONValue.null
                if let cutoff = compactedBefore, (setAt[name] ?? 0) < cutoff { old = nil }
                fields.append(RecordHistory.Field(name: name, old: old, new: register.value))
                setAt[name] = entry.receivedAt
            }
            state.merge(delta)
            let author = entry.author == PackImporter.author.tokenID ? PackImporter.author.name : names[entry.author] ?? "unknown"
            history.append(
                RecordHistory.Entry(seq: entry.seq, author: author, receivedAt: entry.receivedAt, fields: fields, outdated: outdated))
        }
        return RecordHistory(id: record.id, kind: record.kind, entries: history.reversed(), compactedBefore: compactedBefore)
    }
}

/// Why a history is not answered.
package enum HistoryRefusal: Error, Sendable {
    case forbidden
    case noSuchRecord
}
