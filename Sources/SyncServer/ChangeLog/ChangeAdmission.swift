import HavenCore

/// Decides whether one pushed change may enter the log: well formed, within the clock drift,
/// and allowed for the caller's role. Shared by every storage backend.
struct ChangeAdmission {
    var caller: Caller
    /// The server's clock, milliseconds since 1970.
    var now: UInt64
    var maxDrift: UInt64 = HybridLogicalClock.defaultMaxDrift

    /// Why the change must be rejected, or nil to admit it.
    ///
    /// - Parameters:
    ///   - change: the pushed change.
    ///   - existing: the record as stored, nil when the change creates it.
    ///   - creator: the token id that created the stored record.
    func rejection(of change: Change, existing: TrackedRecord?, creator: String?) -> ErrorDetail? {
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
        if let existing, existing.kind != record.kind {
            return ErrorDetail(
                code: .kindMismatch, message: "record \(record.id) is a \(existing.kind), not a \(record.kind)")
        }
        if let problem = malformedRegister(in: record) { return problem }
        if existing == nil, !record.isDeleted {
            do {
                try RecordSchema.validate(record.values, kind: record.kind)
            } catch {
                return ErrorDetail(code: error.code, message: "record \(record.id): \(error.message)")
            }
        }
        return forbidden(change, existing: existing, creator: creator)
    }

    /// Why `record`, as a change would leave it, breaks the schema as a whole (a required field
    /// missing), or nil. A tombstone needs no fields: it is checked again when restored.
    static func incompleteness(of record: TrackedRecord) -> ErrorDetail? {
        guard !record.isDeleted else { return nil }
        do {
            try RecordSchema.validate(record.state.values, kind: record.kind)
            return nil
        } catch {
            return ErrorDetail(code: error.code, message: "record \(record.id): \(error.message)")
        }
    }

    private func malformedRegister(in record: RecordState) -> ErrorDetail? {
        let stamps = record.fields.values.map(\.stamp) + [record.deleted?.stamp].compactMap { $0 }
        for stamp in stamps {
            do {
                try HybridLogicalClock.checkDrift(stamp, wallTime: now, maxDrift: maxDrift)
            } catch {
                return ErrorDetail(code: .clockAhead, message: "record \(record.id): \(error)")
            }
        }
        if let flag = record.deleted, case .bool = flag.value {} else if record.deleted != nil {
            return ErrorDetail(code: .invalidField, message: "record \(record.id): deleted: must be true or false")
        }
        for (field, register) in record.fields.sorted(by: { $0.key < $1.key }) {
            do {
                try RecordSchema.validate(field: field, value: register.value, kind: record.kind)
            } catch {
                return ErrorDetail(code: error.code, message: "record \(record.id): \(error.message)")
            }
        }
        return nil
    }

    /// The role rules of DESIGN §4 for writes.
    private func forbidden(_ change: Change, existing: TrackedRecord?, creator: String?) -> ErrorDetail? {
        let record = change.record
        switch caller.role {
        case .admin, .editor:
            return nil
        case .reader:
            return ErrorDetail(code: .forbidden, message: "a reader token cannot change records")
        case .field:
            if record.kind != .story {
                return ErrorDetail(code: .forbidden, message: "field staff cannot change resources")
            }
            if record.fields["status"]?.value == .string("published") {
                return ErrorDetail(code: .forbidden, message: "status: field staff cannot publish")
            }
            guard let existing else { return nil }
            if creator != caller.tokenID {
                return ErrorDetail(
                    code: .forbidden, message: "record \(record.id): field staff can edit only their own stories")
            }
            if existing.fields["status"]?.register.value == .string("published") {
                return ErrorDetail(
                    code: .forbidden, message: "record \(record.id): published stories can be edited by editors only")
            }
            return nil
        }
    }

    private func isValidChangeID(_ id: String) -> Bool {
        (1...100).contains(id.count) && id.allSatisfy { $0.isASCII && ($0.isNumber || $0.isLowercase || $0 == "-") }
    }
}
