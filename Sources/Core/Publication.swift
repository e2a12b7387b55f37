/// Which records are published to everyone (<doc:RolesAndVisibility>, rule 3): the one rule the
/// server's visibility, the signed published set and the client's verification share.
public enum Publication {
    /// Whether every role may read a record of `kind` with these `status` and `sensitivity`
    /// values.
    public static func isPublic(kind: RecordKind, status: JSONValue?, sensitivity: JSONValue?) -> Bool {
        let restricted = kind == .story && sensitivity == .string("restricted")
        return !restricted && status == .string("published")
    }

    /// Whether `state` belongs to the published set.
    public static func isInPublishedSet(_ state: RecordState) -> Bool {
        !state.isDeleted
            && isPublic(kind: state.kind, status: state.fields["status"]?.value, sensitivity: state.fields["sensitivity"]?.value)
    }

    /// Whether `record` belongs to the published set, as the server holds it.
    public static func isInPublishedSet(_ record: TrackedRecord) -> Bool {
        !record.isDeleted
            && isPublic(
                kind: record.kind, status: record.fields["status"]?.register.value,
                sensitivity: record.fields["sensitivity"]?.register.value)
    }
}
