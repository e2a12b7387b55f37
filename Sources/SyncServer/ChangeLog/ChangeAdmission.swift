import HavenCore

/// Decides whether one pushed change may enter the log: well formed, within the clock drift,
/// allowed for the caller's role, and following review before publish. Shared by every storage
/// backend.
struct ChangeAdmission {
    var caller: Caller
    /// The server's clock, milliseconds since 1970.
    var now: UInt64
    var maxDrift: UInt64 = HybridLogicalClock.defaultMaxDrift
    var review: ReviewPolicy = .two

    /// Why the change must be rejected, or nil to admit it.
    ///
    /// A caller learns nothing from the answer about records it cannot see: a change to a hidden
    /// or purged record is answered as one to a fresh id would be, up to the write itself, which
    /// is refused as `id_taken` (ids are random, so only someone who already knows one can ask).
    ///
    /// - Parameters:
    ///   - change: the pushed change.
    ///   - existing: the record as stored, nil when the change creates it.
    ///   - purged: whether compaction purged the record id.
    ///   - seen: the log position the change's author had seen when making it (its base).
    func rejection(of change: Change, existing: StoredRecord?, purged: Bool, seen: Int64) -> ErrorDetail? {
        rejection(of: change, refusedAlone: refusal(ofAlone: change), existing: existing, purged: purged, seen: seen)
    }

    /// Why the change must be rejected whatever is stored: its form, and what the caller's role
    /// may write at all. Judged first by ``rejection(of:existing:purged:seen:)``; a push judges it
    /// before its transaction, where it does not hold up the writer.
    func refusal(ofAlone change: Change) -> ErrorDetail? {
        let record = change.record
        if !isValidChangeID(change.id) {
            return ErrorDetail(code: .invalidChange, message: "change id must be 1 to 100 of a-z, 0-9 and -")
        }
        if !RecordID.isValid(record.id) {
            return ErrorDetail(code: .invalidRecord, message: "record id '\(record.id)' is not a lowercase UUID")
        }
        if record.fields.isEmpty && record.deleted == nil {
            return ErrorDetail(code: .emptyChange, message: "change \(change.id) writes no field")
        }
        return malformedRegister(in: record) ?? WritePermission.refusal(of: record, by: caller.role)?.detail
    }

    /// ``rejection(of:existing:purged:seen:)``, with ``refusal(ofAlone:)`` judged before.
    func rejection(of change: Change, refusedAlone: ErrorDetail?, existing: StoredRecord?, purged: Bool, seen: Int64)
        -> ErrorDetail?
    {
        if let refusedAlone { return refusedAlone }
        let record = change.record
        if purged, caller.role.seesEverything {
            return ErrorDetail(
                code: .recordPurged,
                message: "record \(record.id) was deleted and then purged from the server: it can no longer be changed or restored")
        }
        let hidden = purged || existing.map { !Visibility.canSee($0, caller: caller) } ?? false
        guard let existing, !hidden else {
            // Judged as a creation: the record as this change alone would make it (its values
            // were each checked above).
            if let problem = Self.incompleteness(of: record, valuesChecked: true) { return problem }
            return hidden ? idTaken(record.id) : nil
        }
        if let claimed = existing.claimedSeq, existing.creator != caller.tokenID, seen < claimed {
            // Its author wrote to a field story it had never seen: two creations collided, by
            // chance or because field staff claimed an id known in advance (a content pack's),
            // and would read what is written there as their own.
            return ErrorDetail(
                code: .idTaken,
                message: "record \(record.id) was created by another account, which this change's replica had not pulled: create the record under a new id, or sync first to edit that one")
        }
        if existing.record.kind != record.kind {
            return ErrorDetail(
                code: .kindMismatch, message: "record \(record.id) is a \(existing.record.kind), not a \(record.kind)")
        }
        let facts = WritePermission.Existing(
            status: Visibility.status(of: existing.record), isOwn: existing.creator == caller.tokenID,
            deletedByOther: existing.record.isDeleted && existing.record.deleted?.author != caller.tokenID)
        return WritePermission.editRefusal(of: record, by: caller.role, existing: facts)?.detail
    }

    /// Why `change` to `existing` (nil: a creation) breaks review before publish (``ReviewRule``),
    /// or nil. Judged on the record as the merge leaves it, not on the change alone: an edit made
    /// before an approval it had not seen must not leave the record published.
    func reviewRefusal(of change: Change, existing: StoredRecord?) -> ErrorDetail? {
        let lastEditor = existing.flatMap { ReviewRule.lastEditor(of: $0.record) }
        let move = ReviewRule.Move(
            of: change.record, existing: existing?.record.state, byLastEditor: lastEditor == caller.tokenID)
        return ReviewRule.refusal(of: move, id: change.record.id, by: caller.role, policy: review)
    }

    /// The answer for a record id the caller may not write and may not learn about.
    private func idTaken(_ id: String) -> ErrorDetail {
        ErrorDetail(
            code: .idTaken, message: "record \(id) cannot be written by this account: create the record under a new id")
    }

    /// Why `record`, as a change would leave it, breaks the schema as a whole (a required field
    /// missing), or nil. A tombstone needs no fields: it is checked again when restored.
    static func incompleteness(of record: TrackedRecord) -> ErrorDetail? {
        incompleteness(of: record.state)
    }

    /// The same, for a state. With `valuesChecked`, each of its values was checked already
    /// (``malformedRegister(in:)``) and only the required fields are looked at.
    static func incompleteness(of record: RecordState, valuesChecked: Bool = false) -> ErrorDetail? {
        guard !record.isDeleted else { return nil }
        do {
            if valuesChecked {
                try RecordSchema.validateRequired(of: record)
            } else {
                try RecordSchema.validate(record.values, kind: record.kind)
            }
            return nil
        } catch {
            return ErrorDetail(code: error.code, message: "record \(record.id): \(error.message)")
        }
    }

    /// Why a register of the change is malformed: a stamp beyond the drift, or a value the
    /// schema forbids (the very check a client makes of what it pulls).
    private func malformedRegister(in record: RecordState) -> ErrorDetail? {
        let stamps = record.fields.values.map(\.stamp) + [record.deleted?.stamp].compactMap { $0 }
        for stamp in stamps {
            do {
                try HybridLogicalClock.checkDrift(stamp, wallTime: now, maxDrift: maxDrift)
            } catch {
                return ErrorDetail(code: .clockAhead, message: "record \(record.id): \(error)")
            }
        }
        do {
            try RecordSchema.validateRegisters(of: record)
            return nil
        } catch {
            return ErrorDetail(code: error.code, message: "record \(record.id): \(error.message)")
        }
    }

    private func isValidChangeID(_ id: String) -> Bool {
        // Byte by byte: every character allowed is one ASCII byte.
        (1...100).contains(id.utf8.count)
            && id.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x7A).contains($0) || $0 == UInt8(ascii: "-") }
    }
}
