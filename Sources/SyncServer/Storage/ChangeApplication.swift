import HavenCore

/// What a push does with one change, once the backend has looked up what the log and the state
/// already hold: shared by every backend, so they give the same answers.
enum ChangeApplication {
    /// The answer to give without touching the log, or nil when the change is to be applied.
    ///
    /// - Parameters:
    ///   - isDuplicate: the change id is already in the log.
    ///   - isPurged: the record was deleted and then purged by compaction.
    ///   - existing: the record as stored, with the token id that created it.
    static func answerWithoutApplying(
        _ change: Change, admission: ChangeAdmission, isDuplicate: Bool, isPurged: Bool,
        existing: (record: TrackedRecord, creator: String)?
    ) -> PushResult? {
        if isDuplicate { return PushResult(id: change.id, status: .duplicate) }
        if isPurged {
            let id = change.record.id
            return PushResult(
                id: change.id, status: .rejected,
                error: ErrorDetail(
                    code: "record_purged",
                    message:
                        "record \(id) was deleted and then purged from the server: it can no longer be changed or restored"
                ))
        }
        if let problem = admission.rejection(of: change, existing: existing?.record, creator: existing?.creator) {
            return PushResult(id: change.id, status: .rejected, error: problem)
        }
        return nil
    }

    /// Merges `change`, logged at `seq`, into the stored record (or a new one), and returns the
    /// merged record with the conflict reports the merge made.
    ///
    /// - Parameter epoch: the store's epoch; a base cursor from another epoch saw nothing here.
    static func merge(
        _ change: Change, into existing: TrackedRecord?, seq: Int64, author: String, epoch: String
    ) -> (record: TrackedRecord, conflicts: [Conflict]) {
        let seen = change.base.flatMap { $0.epoch == epoch ? $0.seq : nil } ?? 0
        var record = existing ?? TrackedRecord(id: change.record.id, kind: change.record.kind)
        let conflicts = record.apply(change.record, seq: seq, author: author, seen: seen)
        return (record, conflicts)
    }

    /// Replaces the token ids in `conflicts`' `winnerAuthor` by the tokens' names.
    ///
    /// - Parameter names: token id → name, from the store's token table.
    static func namingWinners(_ conflicts: [Conflict], names: [String: String]) -> [Conflict] {
        var names = names
        names[PackImporter.author.tokenID] = PackImporter.author.name
        return conflicts.map { conflict in
            var conflict = conflict
            conflict.winnerAuthor = names[conflict.winnerAuthor] ?? "unknown"
            return conflict
        }
    }
}
