import HavenCore

/// Which records a caller may read: HavenCore's article *Roles and visibility*, rule 4
/// (Sources/Core/HavenCore.docc/RolesAndVisibility.md).
enum Visibility {
    static func canSee(_ stored: StoredRecord, caller: Caller) -> Bool {
        canSee(isPublic: isPublic(stored.record), creator: stored.creator, caller: caller)
    }

    /// The same, from what is stored beside a record: whether it is public and who created it.
    static func canSee(isPublic: Bool, creator: String, caller: Caller) -> Bool {
        if caller.role.seesEverything { return true }
        return isPublic || (caller.role == .field && creator == caller.tokenID)
    }

    /// Whether every role may read the record (``Publication``).
    static func isPublic(_ record: TrackedRecord) -> Bool {
        Publication.isPublic(
            kind: record.kind, status: record.fields["status"]?.register.value,
            sensitivity: record.fields["sensitivity"]?.register.value)
    }

    /// A record without a status counts as a draft: nothing is published by omission.
    static func status(of record: TrackedRecord) -> String {
        record.fields["status"]?.register.value.stringValue ?? "draft"
    }

    /// Whether registers that decide visibility changed after `seq`: a caller who could not see
    /// the record before may see it now, so it must get the whole record, not a delta.
    static func mayHaveChanged(_ record: TrackedRecord, since seq: Int64) -> Bool {
        ["status", "sensitivity"].contains { (record.fields[$0]?.seq ?? 0) > seq }
    }
}

extension Readable {
    /// What `caller` may read, as ``Visibility/canSee(_:caller:)`` decides it record by record.
    init(_ caller: Caller) {
        if caller.role.seesEverything {
            self = .all
        } else if caller.role == .field {
            self = .publicOrCreatedBy(caller.tokenID)
        } else {
            self = .publicOnly
        }
    }
}
